"""Sending to the Bot API: long texts split, 429 respected, failures retried a bounded number
of times and logged.

The conversation state is saved by the service before anything is sent, so a send that fails
for good loses a message, never the user's place in the conversation.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import metrics
from bot.channels.telegram.keyboard import keyboard
from bot.dialog.replies import Reply
from bot.logs import pseudonym

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_TEXT = MessageLimit.MAX_TEXT_LENGTH  # 4096, counted by Telegram in UTF-16 code units


class ChatUnreachable(Exception):
    """The user blocked the bot or the chat is gone (403): later sends would fail too."""


def chat_tag(chat_id: int | str) -> str:
    """A chat as log lines show it: its keyed pseudonym (bot/logs.py), never the id."""
    return pseudonym("telegram", chat_id)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, cut at line boundaries; a single line longer
    than the limit is cut inside the line (no better boundary exists). Blank pieces are
    dropped: Telegram refuses a message with no visible text."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        # A piece's final newline is dropped when it is sent, so it does not count.
        while utf16_len(line.rstrip("\n")) > limit:
            head, line = _cut(line, limit)
            pieces.extend((current, head))
            current = ""
        if utf16_len(current) + utf16_len(line.rstrip("\n")) > limit:
            pieces.append(current)
            current = ""
        current += line
    pieces.append(current)
    return [p.rstrip("\n") for p in pieces if p.strip()]


def _cut(line: str, limit: int) -> tuple[str, str]:
    units = 0
    for i, ch in enumerate(line):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return line[:i], line[i:]
    return line, ""


def retry_seconds(exc: RetryAfter) -> float:
    # A timedelta with PTB_TIMEDELTA set (see __init__), an int in PTB 22's default mode.
    value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


class Sender:
    """Parameters (class defaults, overridable per instance):
    attempts: tries per API call, the first one included.
    max_wait: longest 429 retry_after honoured; a longer one counts as a failure.
    backoff: first pause after a network error or 5xx, doubled on each retry.
    """

    attempts = 5
    max_wait = 60.0
    backoff = 0.5

    def __init__(
        self,
        bot: Bot,
        *,
        attempts: int | None = None,
        max_wait: float | None = None,
        backoff: float | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        if attempts is not None:
            self.attempts = attempts
        if max_wait is not None:
            self.max_wait = max_wait
        if backoff is not None:
            self.backoff = backoff
        self._sleep = sleep

    async def send_replies(self, chat_id: int, replies: Sequence[Reply]) -> Message | None:
        """Send a turn's replies in order; return the message carrying the turn's last
        keyboard (the only one whose buttons stay valid), if any was sent."""
        last_keyboard: Message | None = None
        try:
            for reply in replies:
                sent = await self.send_text(chat_id, reply.text, keyboard(reply.choices))
                if reply.choices:
                    last_keyboard = sent
        except ChatUnreachable:
            log.info("telegram chat %s unreachable; remaining replies dropped", chat_tag(chat_id))
        return last_keyboard

    async def send_text(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> Message | None:
        """Send one text (split when long; the keyboard goes with the last piece, under the
        words it answers). None when the last piece could not be sent."""
        pieces = split_text(text)
        if not pieces:
            if markup is None:
                return None
            pieces = ["👇"]  # Telegram refuses an empty text; buttons need something above
        sent: Message | None = None
        for n, piece in enumerate(pieces):

            async def send(piece: str = piece, last: bool = n == len(pieces) - 1) -> Message:
                return await self.bot.send_message(
                    chat_id, piece, reply_markup=markup if last else None
                )

            sent = await self.call(send, f"sendMessage to {chat_tag(chat_id)}")
        return sent

    async def call(self, op: Callable[[], Awaitable[T]], what: str) -> T | None:
        """Run one Bot API call with bounded retries. None when it failed for good (logged);
        raises ChatUnreachable on 403 so the caller stops talking to that chat."""
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return await op()
            except RetryAfter as exc:
                wait = retry_seconds(exc)
                if wait > self.max_wait or attempt == self.attempts:
                    metrics.error(metrics.TELEGRAM_SEND)
                    log.error("%s: flood control asks %.0f s; giving up", what, wait)
                    return None
                log.warning("%s: 429, retrying in %.1f s (attempt %d)", what, wait, attempt)
                await self._sleep(wait)
            except Forbidden as exc:
                raise ChatUnreachable(str(exc)) from exc
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    return None  # an edit that was already done (e.g. by a double tap)
                # The request itself is wrong (or the message is gone); repeating won't help.
                metrics.error(metrics.TELEGRAM_SEND)
                log.error("%s: rejected by the Bot API: %s", what, exc)
                return None
            except NetworkError as exc:
                # Timeouts, 5xx, connection errors. After a timeout the message may in fact
                # have arrived, so a retry can duplicate it: better twice than never.
                if attempt == self.attempts:
                    metrics.error(metrics.TELEGRAM_SEND)
                    log.error("%s: failed after %d attempts: %s", what, attempt, exc)
                    return None
                log.warning("%s: %s; retrying in %.1f s (attempt %d)", what, exc, delay, attempt)
                await self._sleep(delay)
                delay *= 2
            except TelegramError as exc:
                metrics.error(metrics.TELEGRAM_SEND)
                log.error("%s: %s", what, exc)
                return None
        return None


__all__ = [
    "MAX_TEXT",
    "ChatUnreachable",
    "Sender",
    "chat_tag",
    "retry_seconds",
    "split_text",
    "utf16_len",
]
