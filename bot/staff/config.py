"""The staff console's settings, from the environment only.

JIFEN_STAFF_SECRET          key of the session cookie and CSRF tokens; the console is off without it
JIFEN_STAFF_HOURS           the hours staff work, as told to users ("工作日 9:00–18:00")
JIFEN_HANDOFF_TIMEOUT       how long a ticket may stay unclaimed before the user gets an apology:
                            seconds, or with a unit: 90s, 15m, 2h (default 15m)
JIFEN_STAFF_COOKIE_SECURE   1: cookie only over https; 0: never Secure; auto (default): Secure
                            when the request came over https (uvicorn --proxy-headers)
JIFEN_STAFF_SESSION_HOURS   how long a sign-in lasts (default 12)
JIFEN_TELEGRAM_STAFF_CHAT   chat id of a Telegram group where new tickets are announced
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.errors import ConfigError
from bot.server.settings import Secret, env_float, env_secret, env_str

SECRET = "JIFEN_STAFF_SECRET"  # noqa: S105 - the variable's name
HOURS = "JIFEN_STAFF_HOURS"
TIMEOUT = "JIFEN_HANDOFF_TIMEOUT"
COOKIE_SECURE = "JIFEN_STAFF_COOKIE_SECURE"
SESSION_HOURS = "JIFEN_STAFF_SESSION_HOURS"
STAFF_CHAT = "JIFEN_TELEGRAM_STAFF_CHAT"

MIN_SECRET = 16  # characters; the cookie's forgery resistance is the key's
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smh]?)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class StaffSettings:
    secret: Secret
    hours: str | None  # None: the default sentence of dialogs/staff.yaml
    timeout: float  # seconds
    cookie_secure: bool | None  # None: decide per request
    session_seconds: float
    staff_chat: int | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StaffSettings | None:
        """None when JIFEN_STAFF_SECRET is absent; ConfigError naming the variable when a
        setting is malformed."""
        secret = env_secret(env, SECRET)
        if secret is None:
            return None
        if len(secret.reveal()) < MIN_SECRET:
            raise ConfigError(f"{SECRET}: use at least {MIN_SECRET} random characters")
        return cls(
            secret=secret,
            hours=env_str(env, HOURS),
            timeout=duration(env, TIMEOUT, 900.0),
            cookie_secure=_tristate(env, COOKIE_SECURE),
            session_seconds=env_float(env, SESSION_HOURS, 12.0, low=0.1, high=24.0 * 30) * 3600,
            staff_chat=staff_chat(env),
        )


def duration(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env_str(env, name)
    if raw is None:
        return default
    found = _DURATION.fullmatch(raw)
    if found is None:
        raise ConfigError(f"{name}: expected seconds or a duration like 90s, 15m, 2h; got {raw!r}")
    seconds = float(found.group(1)) * _UNITS[found.group(2).lower()]
    if not 0.1 <= seconds <= 7 * 24 * 3600:
        raise ConfigError(f"{name}: expected between 0.1 s and 7 days, got {raw!r}")
    return seconds


def staff_chat(env: Mapping[str, str]) -> int | None:
    raw = env_str(env, STAFF_CHAT)
    if raw is None:
        return None
    if not re.fullmatch(r"-?\d{1,20}", raw):
        raise ConfigError(f"{STAFF_CHAT}: expected a Telegram chat id like -1001234567890")
    return int(raw)


def _tristate(env: Mapping[str, str], name: str) -> bool | None:
    raw = (env_str(env, name) or "auto").lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    if raw == "auto":
        return None
    raise ConfigError(f"{name}: expected 1, 0 or auto, got {raw!r}")


__all__ = ["StaffSettings", "duration", "staff_chat"]
