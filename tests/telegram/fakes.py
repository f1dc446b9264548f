"""A scripted stand-in for the conversation service, for tests of the channel's own behaviour
(buttons, commands, order, failures). The end-to-end tests use the real service."""

from __future__ import annotations

import asyncio

from bot.dialog.messages import IncomingKind
from bot.dialog.replies import Choice, Reply


class ScriptedService:
    """Answers by rule of thumb, and records what it was asked: enough to test the channel's
    own behaviour (buttons, commands, order, failures) without the dialog engine."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, str]] = []
        self.kinds: list[IncomingKind] = []
        self.onces: list[str | None] = []  # the update ids turns were recorded under
        self.fail = False
        self.long_reply = ""
        self.delay = 0.0  # seconds each message takes (a slow store or matcher)
        self.ran: dict[str, list[Reply]] = {}  # replies by the update id turns ran under

    async def handle(
        self,
        channel: str,
        user: str,
        text: str,
        kind: IncomingKind = "text",
        *,
        once: str | None = None,
    ) -> list[Reply]:
        self.received.append((channel, user, text))
        self.onces.append(once)
        self.kinds.append(kind)
        await asyncio.sleep(self.delay)
        replies = self._answer(text, kind)
        if once is not None:
            self.ran[once] = replies
        return replies

    async def replies_of(self, channel: str, user: str, once: str) -> list[Reply] | None:
        return self.ran.get(once)

    def _answer(self, text: str, kind: IncomingKind) -> list[Reply]:
        if kind != "text":
            return [Reply("抱歉，我暂时只能看懂文字消息。")]
        if self.fail:
            raise RuntimeError("service exploded (test)")
        if self.long_reply:
            return [Reply(self.long_reply)]
        if text == "是否":
            yes_no = (Choice("是", "yes"), Choice("否", "no"), Choice("不清楚", "unknown"))
            return [Reply("第一个问题？", yes_no), Reply("第二个问题？", yes_no)]
        long_value = "v" * 80  # does not fit callback_data: travels as the button's index
        choices = (Choice("选项一", "one"), Choice("很长的选项", long_value))
        return [Reply(f"收到：{text}"), Reply("请选择：", choices)]
