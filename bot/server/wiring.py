"""Building the real store, matcher and conversation service (imported lazily: tests and
channels that pass their own never load them)."""

from __future__ import annotations

from typing import Any

from bot.rules.resolve import MatcherLike
from bot.rules.ruleset import Ruleset
from bot.store.base import Store


def make_matcher(rules: Ruleset) -> MatcherLike:
    from bot.rules.matcher import Matcher

    return Matcher(rules)


def make_store(url: str | None) -> Store:
    from bot.store.factory import open_store

    return open_store(url)


def make_service(store: Store, rules: Ruleset, matcher: Any) -> Any:
    from bot.metrics import CountingMatcher
    from bot.service import build_service

    # Only the conversation's lookups count as match outcomes, not /api/match's.
    return build_service(store, rules=rules, matcher=CountingMatcher(matcher))


__all__ = ["make_matcher", "make_service", "make_store"]
