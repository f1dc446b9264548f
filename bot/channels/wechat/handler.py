"""What the bot says to one WeChat message: the conversation, or a channel sentence.

Events and non-text messages are mapped onto what the dialog understands (command words) or
answered by the channel itself. The words relied on are the dialog's own commands in
dialogs/flow.yaml: /start, 重新开始, 人工, 帮助.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.channels.render import render_replies
from bot.channels.texts import ChannelTexts
from bot.channels.wechat.parse import Message
from bot.dialog.replies import Reply
from bot.logs import pseudonym

CHANNEL = "wechat"
TEXT_KEYS = ("wechat.media", "wechat.busy")

# Menu buttons (CLICK events) configured with these keys act like typed commands.
# The slash forms are among the command words of dialogs/flow.yaml, whatever the Chinese wording.
CLICK_COMMANDS = {"restart": "/restart", "human": "/human", "help": "/help"}
GREETING_COMMAND = "/start"  # a new follower gets the dialog's start
MEDIA_TYPES = frozenset({"image", "voice", "video", "shortvideo", "location", "link", "file"})


class ServiceLike(Protocol):
    """The part of bot.service.Service a channel uses."""

    async def handle(
        self, channel: str, user: str, text: str, *, once: str | None = None
    ) -> Sequence[Reply]: ...

    async def forget(self, channel: str, user: str) -> None: ...


def user_tag(openid: str) -> str:
    """An openid as it may appear in logs: its keyed pseudonym, never the id itself."""
    return pseudonym(CHANNEL, openid)


class Handler:
    def __init__(self, service: ServiceLike, texts: ChannelTexts) -> None:
        texts.require(TEXT_KEYS)
        self._service = service
        self._texts = texts

    async def answer(self, msg: Message) -> str | None:
        """The full answer text, or None when nothing is to be said."""
        if msg.msg_type == "text":
            return await self._talk(msg, msg.content)
        if msg.msg_type == "event":
            return await self._event(msg)
        # Pictures, voice, video, places, links and types WeChat may add later.
        return self._texts["wechat.media"]

    def busy(self) -> str:
        return self._texts["wechat.busy"]

    async def _event(self, msg: Message) -> str | None:
        if msg.event == "subscribe":
            return await self._talk(msg, GREETING_COMMAND)
        if msg.event == "unsubscribe":
            await self._service.forget(CHANNEL, msg.from_user)
            return None
        if msg.event == "click" and msg.event_key in CLICK_COMMANDS:
            return await self._talk(msg, CLICK_COMMANDS[msg.event_key])
        return None  # VIEW, SCAN, LOCATION reports, template results: nothing to say

    async def _talk(self, msg: Message, text: str) -> str | None:
        # The message's id goes along so that a redelivery taken over by another worker after
        # this one saved the turn gets the same replies rather than a second turn.
        replies = await self._service.handle(CHANNEL, msg.from_user, text, once=msg.dedupe_key)
        return render_replies(replies) or None


__all__ = ["CHANNEL", "CLICK_COMMANDS", "GREETING_COMMAND", "Handler", "ServiceLike", "user_tag"]
