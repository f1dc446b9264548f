"""Structured logs: one JSON object a line, a request id on each, no personal data in clear.

`jifen-bot serve` installs this through uvicorn's logging config (`log_config`), so that every
worker process formats alike. Settings: JIFEN_LOG_LEVEL (default info), JIFEN_LOG_FORMAT (json
or text) and JIFEN_LOG_KEY, the key of `pseudonym`.

Users appear in logs only as `pseudonym(channel, user)`: a keyed hash (HMAC-SHA256), stable for
one deployment so that the lines of one user can be followed, but not reversible by hashing
candidate ids (Telegram chat ids are small integers; an unkeyed hash of them is no secret).
Without JIFEN_LOG_KEY, `serve` draws a random key for the run and hands it to its workers.

Belt and braces: while a message is handled (`message_scope`), the formatter replaces the
sender's id and the message text wherever they still show up, say in an exception message, and
it masks WeChat access tokens and Telegram bot tokens in any line.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import itertools
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from bot.errors import ConfigError

KEY_ENV = "JIFEN_LOG_KEY"
LEVEL_ENV = "JIFEN_LOG_LEVEL"
FORMAT_ENV = "JIFEN_LOG_FORMAT"
LEVELS = ("critical", "error", "warning", "info", "debug")
FORMATS = ("json", "text")

NO_REQUEST = "-"
REQUEST_ID: ContextVar[str] = ContextVar("jifen_request_id", default=NO_REQUEST)
# (channel, user id, message text) of the message being handled, for the formatter's scrub.
_MESSAGE: ContextVar[tuple[str, str, str] | None] = ContextVar("jifen_message", default=None)

# Request ids: a random tag per process and a counter. Cheaper than a uuid4 per request, and
# unique across workers and restarts; the tag also tells which worker served a request.
_TAG = secrets.token_hex(3)
_COUNTER = itertools.count(1)
_mac: hmac.HMAC | None = None  # keyed once; each pseudonym works on a copy

_SECRETS = (
    (re.compile(r"(access_token=)[^&\s\"']+"), r"\1***"),
    (re.compile(r"\b(bot)?\d{5,}:[A-Za-z0-9_-]{30,}"), "***telegram-token***"),
)
_OPENID = re.compile(r"\bo[A-Za-z0-9_-]{27}\b")  # WeChat openids: 28 characters, leading 'o'
_FIGURE = re.compile(r"\d{3,}")  # amounts in the user's words: salary, contribution base
_MIN_SCRUB = 4  # shorter ids and texts ("1", "是") would mask half of every line


def pseudonym(channel: str, user: str | int) -> str:
    """`channel:<12 hex>`, the only way a user may appear in a log line."""
    if _mac is None:
        set_key(os.environ.get(KEY_ENV))
    assert _mac is not None
    mac = _mac.copy()
    mac.update(f"{channel}\x00{user}".encode())
    return f"{channel}:{mac.hexdigest()[:12]}"


def set_key(key: str | None) -> None:
    """Use `key` (None: a new random one) for pseudonyms from now on; for `serve` and tests."""
    global _mac
    secret = key.encode() if key else secrets.token_bytes(32)
    _mac = hmac.new(secret, digestmod=hashlib.sha256)


def new_request_id() -> str:
    return f"{_TAG}-{next(_COUNTER):x}"


def worker_tag() -> str:
    """This process's prefix of request ids."""
    return _TAG


@contextlib.contextmanager
def message_scope(channel: str, user: str, text: str) -> Iterator[None]:
    """While one user message is handled: its id and text are scrubbed from log lines, and it
    gets a request id unless the HTTP request that carried it has one already."""
    token = _MESSAGE.set((channel, user, text))
    rid = REQUEST_ID.set(new_request_id()) if REQUEST_ID.get() == NO_REQUEST else None
    try:
        yield
    finally:
        if rid is not None:
            REQUEST_ID.reset(rid)
        _MESSAGE.reset(token)


def scrub(text: str) -> str:
    """The text with secrets masked and the current message's user id and words replaced."""
    current = _MESSAGE.get()
    if current is not None:
        channel, user, said = current
        if len(user) >= _MIN_SCRUB and user in text:
            text = text.replace(user, pseudonym(channel, user))
        if len(said) >= _MIN_SCRUB and said in text:
            text = text.replace(said, "[message text]")
        for figure in _FIGURE.findall(said):  # "基数23456" parsed, then quoted as 23456
            # Not inside a longer run of letters and digits, such as a pseudonym's hex.
            text = re.sub(rf"(?<![0-9A-Za-z]){figure}(?![0-9A-Za-z])", "[figure]", text)
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return _OPENID.sub(lambda m: pseudonym("wechat", m.group(0)), text)


class DropQuery(logging.Filter):
    """uvicorn's access lines without the query string: WeChat puts the sender's openid there
    (and signatures); the path is all an operator needs."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, msg, rid (request id), pid, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
            "rid": REQUEST_ID.get(),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc"] = scrub(record.exc_text)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The classic one-line format with the request id, scrubbed like the JSON lines."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(rid)s]: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.rid = REQUEST_ID.get()
        return scrub(super().format(record))


def _timestamp(created: float) -> str:
    seconds = int(created)
    millis = int((created - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def settings(env: Mapping[str, str], level: str | None = None) -> tuple[str, str]:
    """(level, format) from the command line's level or JIFEN_LOG_LEVEL, and JIFEN_LOG_FORMAT."""
    chosen = (level or env.get(LEVEL_ENV, "") or "info").strip().lower()
    if chosen not in LEVELS:
        raise ConfigError(f"{LEVEL_ENV}={chosen!r}: expected one of {', '.join(LEVELS)}")
    fmt = (env.get(FORMAT_ENV, "") or "json").strip().lower()
    if fmt not in FORMATS:
        raise ConfigError(f"{FORMAT_ENV}={fmt!r}: expected json or text")
    return chosen, fmt


def log_config(level: str, fmt: str = "json") -> dict[str, Any]:
    """uvicorn's logging config with our formatter on every handler, applied in each worker.

    The bot's and uvicorn's loggers log at `level`; everything else (httpx, which would log
    URLs with access tokens at info, PTB) only from warnings on, whatever `level` says."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    factory = f"{__name__}.{'JsonFormatter' if fmt == 'json' else 'TextFormatter'}"
    config["filters"] = {"drop_query": {"()": f"{__name__}.DropQuery"}}
    config["formatters"] = {"bot": {"()": factory}}
    stderr = {"formatter": "bot", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    config["handlers"] = {
        "default": stderr,
        "access": {**stderr, "stream": "ext://sys.stdout", "filters": ["drop_query"]},
    }
    upper = level.upper()
    config["loggers"] = {
        "uvicorn": {"handlers": ["default"], "level": upper, "propagate": False},
        "uvicorn.error": {"level": upper},
        "uvicorn.access": {"handlers": ["access"], "level": upper, "propagate": False},
        "bot": {"handlers": ["default"], "level": upper, "propagate": False},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    }
    config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config


__all__ = [
    "FORMAT_ENV",
    "KEY_ENV",
    "LEVEL_ENV",
    "REQUEST_ID",
    "DropQuery",
    "JsonFormatter",
    "TextFormatter",
    "log_config",
    "message_scope",
    "new_request_id",
    "pseudonym",
    "scrub",
    "set_key",
    "settings",
    "worker_tag",
]
