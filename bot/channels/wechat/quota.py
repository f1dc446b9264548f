"""The bot's own customer-service messages, counted against the user's window.

WeChat allows 5 customer-service messages per user message (bot/store/cs_window.py). Staff
replies reserve one each before they go (bot/staff/relay.py). The bot's late answers and the
overflow of long ones take from the same 5, so while the staff console is on they are counted
too: otherwise the console would offer a colleague messages WeChat is going to refuse.

The count never holds the bot's answer back. When it says no, it may simply be wrong (it
only knows what passed through it), and WeChat's own verdict decides: the message goes.
"""

from __future__ import annotations

import logging
from typing import Protocol

from bot.channels.wechat.budget import Sender
from bot.channels.wechat.handler import CHANNEL, user_tag
from bot.store.base import StoreError
from bot.store.cs_window import WindowError

log = logging.getLogger(__name__)


class Window(Protocol):
    """What this needs of bot.store.tickets.TicketStore."""

    async def reserve_message(self, channel: str, user: str) -> object: ...

    async def release_message(self, channel: str, user: str) -> None: ...


class CountedSender:
    """`inner`, with every message it sends counted in `window`."""

    def __init__(self, inner: Sender, window: Window) -> None:
        self.inner = inner
        self.window = window

    async def send_text(self, openid: str, content: str) -> None:
        counted = await self._reserve(openid)
        try:
            await self.inner.send_text(openid, content)
        except Exception:
            # Refused or not sent: it took nothing from the quota. (A cancelled send keeps its
            # count: it may have reached WeChat.)
            if counted:
                await self._release(openid)
            raise

    async def _reserve(self, openid: str) -> bool:
        try:
            await self.window.reserve_message(CHANNEL, openid)
            return True
        except WindowError as exc:
            log.info("wechat: %s: by our count %s; sending anyway", user_tag(openid), exc)
        except StoreError as exc:  # down, or closed first on shutdown while answers drain
            log.warning("wechat: %s: message not counted (%s)", user_tag(openid), exc)
        except Exception:  # whatever goes wrong with the count, the answer still goes
            log.exception("wechat: %s: message not counted", user_tag(openid))
        return False

    async def _release(self, openid: str) -> None:
        try:
            await self.window.release_message(CHANNEL, openid)
        except Exception as exc:
            log.warning("wechat: %s: count not given back (%r)", user_tag(openid), exc)


__all__ = ["CountedSender", "Window"]
