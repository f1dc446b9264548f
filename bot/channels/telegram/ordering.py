"""Updates of different chats in parallel, updates of one chat in arrival order.

PTB either processes every update one after the other (one slow chat — a 429 pause, a slow
store — holds up everybody) or all concurrently (a user's second message could be answered
before the first). This processor keeps one FIFO lock per chat: asyncio.Lock wakes waiters
in the order they queued, and PTB starts the processing tasks in the order updates arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatOrder(BaseUpdateProcessor):
    """`done`, when given, is awaited after each update's handlers ran (the inbox, inbox.py)."""

    def __init__(
        self,
        max_concurrent_updates: int = 64,
        done: Callable[[object], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        self._done = done

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self._in_order(update, coroutine)
        if self._done is not None:
            # PTB has handed any handler's exception to the error handlers by now: whatever
            # happened, the update has been processed.
            await self._done(update)

    async def _in_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._users[chat.id] = self._users.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            # Drop the lock once nobody holds or waits for it: the table stays as small as
            # the number of chats currently being answered.
            self._users[chat.id] -= 1
            if not self._users[chat.id]:
                del self._users[chat.id]
                del self._locks[chat.id]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


__all__ = ["PerChatOrder"]
