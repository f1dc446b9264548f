"""Service seams for channel tests: a scripted fake, and a wrapper that counts and can hold
the conversation back (the "slow step") until the test releases it."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bot.dialog.replies import Choice, Reply


class EchoService:
    """Answers "你说：<text>" with two choices; keeps a turn counter per user."""

    def __init__(self) -> None:
        self.turns: Counter[str] = Counter()
        self.forgotten: list[str] = []

    async def handle(
        self, channel: str, user: str, text: str, *, once: str | None = None
    ) -> list[Reply]:
        self.turns[user] += 1
        if text.startswith("long:"):
            return [Reply(text[5:])]
        return [
            Reply(
                f"你说：{text}（第{self.turns[user]}轮）", (Choice("是", "yes"), Choice("否", "no"))
            )
        ]

    async def forget(self, channel: str, user: str) -> None:
        self.turns.pop(user, None)
        self.forgotten.append(user)


class Instrumented:
    """Wraps a service: records every call; `hold()` makes handle() wait for `release()`."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str, str]] = []
        self.forgets: list[tuple[str, str]] = []
        self._gate: threading.Event | None = None
        self.fail: BaseException | None = None

    def hold(self) -> None:
        self._gate = threading.Event()

    def release(self) -> None:
        if self._gate is not None:
            self._gate.set()

    async def handle(
        self, channel: str, user: str, text: str, *, once: str | None = None
    ) -> Sequence[Reply]:
        self.calls.append((channel, user, text))
        gate = self._gate
        if gate is not None:
            # The injected slow step: the test decides when the conversation may go on.
            await asyncio.to_thread(gate.wait, 30)
        if self.fail is not None:
            raise self.fail
        result: Sequence[Reply] = await self.inner.handle(channel, user, text, once=once)
        return result

    async def forget(self, channel: str, user: str) -> None:
        self.forgets.append((channel, user))
        await self.inner.forget(channel, user)
