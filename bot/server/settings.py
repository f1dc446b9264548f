"""Typed settings read from the environment, and nothing else.

Every reader names the variable in its error, so that a malformed setting stops start-up with
a message an operator can act on. Secrets are wrapped in `Secret`, whose repr never shows the
value: a settings object can be logged whole without leaking a token.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from bot.errors import ConfigError


class Secret:
    """A string that does not show itself in logs, reprs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def env_str(env: Mapping[str, str], name: str) -> str | None:
    """The variable stripped of surrounding blanks; None when absent or blank."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return None
    return raw.strip()


def env_secret(env: Mapping[str, str], name: str) -> Secret | None:
    value = env_str(env, name)
    return None if value is None else Secret(value)


def env_float(
    env: Mapping[str, str], name: str, default: float, *, low: float, high: float
) -> float:
    """A number of seconds or similar within [low, high]; the default when absent."""
    raw = env_str(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a number, got {raw!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ConfigError(f"{name}: expected a number between {low:g} and {high:g}, got {raw!r}")
    return value


def env_url(env: Mapping[str, str], name: str, default: str) -> str:
    """An http(s) URL without a trailing slash."""
    raw = env_str(env, name) or default
    if not raw.startswith(("http://", "https://")) or len(raw.split("://", 1)[1]) == 0:
        raise ConfigError(f"{name}: expected an http:// or https:// URL, got {raw!r}")
    return raw.rstrip("/")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """What the server itself reads. Host and port come from the command line, not from here."""

    store_url: str | None  # JIFEN_STORE; None → the store factory's default file

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ServerSettings:
        return cls(store_url=env_str(env, "JIFEN_STORE"))


__all__ = ["Secret", "ServerSettings", "env_float", "env_secret", "env_str", "env_url"]
