"""Shared helpers for tests that talk to the real engine through a Service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache

from bot.dialog.engine import DialogEngine
from bot.rules.matcher import Matcher
from bot.rules.ruleset import default_ruleset
from bot.service import build_engine


@cache
def engine() -> DialogEngine:
    """The engine on the shipped rules and dialogs, built once per test run."""
    rules = default_ruleset()
    return build_engine(rules, Matcher(rules))


def ticking_clock(start: datetime | None = None, step: float = 1.0) -> Callable[[], datetime]:
    """A clock that moves `step` seconds per reading: deterministic, never idle-expires."""
    now = [start or datetime(2026, 11, 20, 2, 0, tzinfo=UTC)]

    def clock() -> datetime:
        now[0] += timedelta(seconds=step)
        return now[0]

    return clock
