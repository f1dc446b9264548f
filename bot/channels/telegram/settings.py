"""Telegram settings from the environment: token, webhook secret and Bot API base URL.

A channel whose token is absent is simply not mounted; a token with a missing or malformed
companion setting stops start-up with a message naming the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.errors import ConfigError

# Names of environment variables, not secrets.
TOKEN = "JIFEN_TELEGRAM_TOKEN"  # noqa: S105
SECRET = "JIFEN_TELEGRAM_SECRET"  # noqa: S105
API_BASE = "JIFEN_TELEGRAM_API_BASE"

# python-telegram-bot appends the token to this; tests point it at a double on loopback.
DEFAULT_API_BASE = "https://api.telegram.org/bot"

# Bot API rules for setWebhook's secret_token: 1-256 characters, A-Z a-z 0-9 _ - only.
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
# "<bot id>:<key>", as BotFather issues them; checked here so a pasted-wrong token fails
# at start-up with the variable's name instead of as an opaque 404 from the API.
_TOKEN_RE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,200}")


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    token: str = field(repr=False)
    secret: str | None = field(repr=False)
    api_base: str = DEFAULT_API_BASE

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, need_secret: bool) -> TelegramSettings | None:
        """None when JIFEN_TELEGRAM_TOKEN is absent. `need_secret`: the webhook needs one
        (serve, set-webhook); long polling does not."""
        token = _get(env, TOKEN)
        if token is None:
            return None
        if not _TOKEN_RE.fullmatch(token):
            raise ConfigError(
                f"{TOKEN}: expected a bot token like 123456:ABC-def, got a malformed value"
            )
        secret = _get(env, SECRET)
        if secret is None and need_secret:
            raise ConfigError(
                f"{SECRET} is required with {TOKEN}: the webhook must be able to tell "
                "Telegram's requests from forged ones"
            )
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise ConfigError(
                f"{SECRET}: expected 1-256 characters of A-Z a-z 0-9 _ - "
                f"(got {len(secret)} characters, not all allowed)"
            )
        api_base = _get(env, API_BASE) or DEFAULT_API_BASE
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", api_base):
            raise ConfigError(f"{API_BASE}: expected an http:// or https:// URL, got {api_base!r}")
        return cls(token=token, secret=secret, api_base=api_base)


def _get(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return None
    return raw.strip()


__all__ = ["API_BASE", "DEFAULT_API_BASE", "SECRET", "TOKEN", "TelegramSettings"]
