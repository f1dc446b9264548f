"""Messages from outside a user's own turn to the user's channel: a colleague's reply, the
handback when a ticket closes, the apology when nobody claimed it in time.

Telegram: sendMessage through a Bot of our own (sending needs no update loop, and the channel
mount keeps its Application to itself), with the channel's Sender for retries and 429s.
WeChat: the customer-service API of bot/channels/wechat/api.py, inside the 48-hour window and
its quota of 5 per user message: each part takes one message of the quota before it is sent
and gives it back if WeChat refuses it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bot.channels.render import render_replies
from bot.dialog.replies import Reply
from bot.errors import BotError
from bot.store.base import Store
from bot.store.tickets import QuotaUsed, TicketStore, WindowClosed

log = logging.getLogger(__name__)


class RelayError(BotError):
    """A message could not be delivered to the user."""


class NoChannel(RelayError):
    """The user's channel is not mounted here (or cannot be written to)."""


class SendFailed(RelayError):
    """The channel's API refused or could not be reached."""


class Outbound(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send_text(self, user: str, text: str) -> None:
        """One text, checked: raises a RelayError or WindowError when it did not go out."""

    async def deliver(self, user: str, replies: Sequence[Reply]) -> None:
        """A turn of the bot (with choices); raises like send_text."""


class TelegramOut:
    def __init__(self, bot: Any, handlers: Any) -> None:
        from bot.channels.telegram.sender import Sender

        self.bot = bot
        self.sender = Sender(bot)
        self.handlers = handlers  # the channel's Handlers: buttons recorded as the channel does

    async def start(self) -> None:
        await self.bot.initialize()

    async def stop(self) -> None:
        await self.bot.shutdown()

    async def send_text(self, user: str, text: str) -> None:
        from bot.channels.telegram.sender import ChatUnreachable

        try:
            sent = await self.sender.send_text(int(user), text)
        except ChatUnreachable:
            raise SendFailed("the user blocked the bot") from None
        if sent is None:
            raise SendFailed("Telegram did not accept the message")

    async def deliver(self, user: str, replies: Sequence[Reply]) -> None:
        await self.handlers.deliver(int(user), replies)


class WeChatOut:
    def __init__(self, api: Any, tickets: TicketStore) -> None:
        self.api = api
        self.tickets = tickets

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.api.aclose()

    async def send_text(self, user: str, text: str) -> None:
        from bot.channels.wechat.api import WeChatAPIError
        from bot.channels.wechat.split import split_text

        for part in split_text(text):
            await self.tickets.reserve_message("wechat", user)
            try:
                await self.api.send_text(user, part)
            except WeChatAPIError as exc:
                await self.tickets.release_message("wechat", user)
                # WeChat's own verdict wins over our bookkeeping (which misses what another
                # sender, such as a bot running without the console, took from the quota).
                if exc.errcode == 45015:
                    raise WindowClosed(str(exc)) from None
                if exc.errcode == 45047:
                    raise QuotaUsed(str(exc)) from None
                raise SendFailed(f"WeChat error {exc.errcode}") from None

    async def deliver(self, user: str, replies: Sequence[Reply]) -> None:
        text = render_replies(replies)
        if text:
            await self.send_text(user, text)


class Relay:
    def __init__(self, outs: Mapping[str, Outbound]) -> None:
        self.outs = dict(outs)

    def can_reach(self, channel: str) -> bool:
        return channel in self.outs

    def _out(self, channel: str) -> Outbound:
        out = self.outs.get(channel)
        if out is None:
            raise NoChannel(f"no way to write to {channel} users from here")
        return out

    async def send_text(self, channel: str, user: str, text: str) -> None:
        await self._out(channel).send_text(user, text)

    async def deliver(self, channel: str, user: str, replies: Sequence[Reply]) -> None:
        await self._out(channel).deliver(user, replies)

    async def start(self) -> None:
        for out in self.outs.values():
            await out.start()

    async def stop(self) -> None:
        for name, out in self.outs.items():
            try:
                await out.stop()
            except Exception:
                log.exception("staff relay to %s did not stop cleanly", name)


def relay_from_env(
    env: Mapping[str, str], service: Any, store: Store, tickets: TicketStore
) -> Relay:
    """Outbound channels for every channel configured in `env` that can be written to."""
    outs: dict[str, Outbound] = {}
    from bot.channels.telegram.settings import TelegramSettings

    telegram = TelegramSettings.from_env(env, need_secret=False)
    if telegram is not None:
        from telegram import Bot

        from bot.channels.telegram.handlers import Handlers
        from bot.channels.telegram.sender import Sender
        from bot.channels.telegram.texts import load_telegram_texts

        bot = Bot(telegram.token, base_url=telegram.api_base)
        handlers = Handlers(service, store, Sender(bot), load_telegram_texts())
        outs["telegram"] = TelegramOut(bot, handlers)
    from bot.channels.wechat.config import read_config

    wechat = read_config(env)
    if wechat is not None and wechat.app_id is not None and wechat.secret is not None:
        from bot.channels.wechat.api import WeChatAPI

        api = WeChatAPI(wechat.api_base, wechat.app_id, wechat.secret, store)
        outs["wechat"] = WeChatOut(api, tickets)
    return Relay(outs)


__all__ = [
    "NoChannel",
    "Outbound",
    "Relay",
    "RelayError",
    "SendFailed",
    "TelegramOut",
    "WeChatOut",
    "relay_from_env",
]
