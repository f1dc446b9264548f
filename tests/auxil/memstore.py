"""An in-memory Store for channel tests that need no persistence (fast, one process)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

from bot.store.base import LockTimeout, Store, StoreError, TranscriptLine, UserKey


class MemoryStore(Store):
    def __init__(self) -> None:
        self.sessions: dict[UserKey, dict[str, Any]] = {}
        self.lines: dict[UserKey, list[TranscriptLine]] = {}
        self.kv: dict[str, tuple[str, float | None]] = {}
        self.claims: dict[str, float] = {}
        self.results: dict[str, str] = {}
        self.locks: dict[UserKey, asyncio.Lock] = {}
        # channel -> item -> (body, lease deadline in time.time(), times taken)
        self.inbox: dict[str, dict[str, tuple[str, float, int]]] = {}
        self.healthy = True

    def _check(self) -> None:
        if not self.healthy:
            raise StoreError("memory store switched off by the test")

    async def ping(self) -> bool:
        self._check()
        return True

    async def load_session(self, key: UserKey) -> dict[str, Any] | None:
        self._check()
        return self.sessions.get(key)

    async def save_session(self, key: UserKey, state: dict[str, Any]) -> None:
        self._check()
        self.sessions[key] = state

    async def delete_session(self, key: UserKey) -> None:
        self.sessions.pop(key, None)

    async def append_transcript(self, key: UserKey, lines: list[TranscriptLine]) -> None:
        self.lines.setdefault(key, []).extend(lines)

    async def transcript(self, key: UserKey, limit: int = 500) -> list[TranscriptLine]:
        return self.lines.get(key, [])[-limit:]

    async def forget(self, key: UserKey) -> None:
        self.sessions.pop(key, None)
        self.lines.pop(key, None)

    async def purge(self, older_than: datetime) -> int:
        return 0

    def lock(self, key: UserKey, timeout: float = 10.0) -> AbstractAsyncContextManager[None]:
        @asynccontextmanager
        async def held() -> AsyncIterator[None]:
            lock = self.locks.setdefault(key, asyncio.Lock())
            try:
                await asyncio.wait_for(lock.acquire(), timeout)
            except TimeoutError:
                raise LockTimeout(str(key)) from None
            try:
                yield
            finally:
                lock.release()

        return held()

    async def claim_once(self, namespace: str, msg_id: str, ttl: float) -> bool:
        self._check()
        key, now = f"{namespace}:{msg_id}", time.monotonic()
        if self.claims.get(key, 0.0) > now:
            return False
        self.claims[key] = now + ttl
        return True

    async def set_result(self, namespace: str, msg_id: str, result: str, ttl: float) -> None:
        self.results[f"{namespace}:{msg_id}"] = result

    async def get_result(self, namespace: str, msg_id: str) -> str | None:
        self._check()
        return self.results.get(f"{namespace}:{msg_id}")

    async def inbox_add(self, channel: str, item: str, body: str, lease: float) -> None:
        self._check()
        self.inbox.setdefault(channel, {}).setdefault(item, (body, time.time() + lease, 0))

    async def inbox_done(self, channel: str, item: str) -> None:
        self._check()
        self.inbox.get(channel, {}).pop(item, None)

    async def inbox_take(
        self, channel: str, lease: float, limit: int = 100
    ) -> list[tuple[str, str, int]]:
        self._check()
        items, now = self.inbox.get(channel, {}), time.time()
        # No await in between: the event loop runs one take at a time, which is the atomicity.
        due = sorted((e[1], i) for i, e in items.items() if e[1] <= now)[: max(0, limit)]
        taken: list[tuple[str, str, int]] = []
        for _, item in due:
            body, _, takes = items[item]
            items[item] = (body, now + lease, takes + 1)
            taken.append((item, body, takes + 1))
        return taken

    async def kv_get(self, key: str) -> str | None:
        value = self.kv.get(key)
        if value is None or (value[1] is not None and value[1] < time.monotonic()):
            return None
        return value[0]

    async def kv_set(self, key: str, value: str, ttl: float | None = None) -> None:
        self.kv[key] = (value, None if ttl is None else time.monotonic() + ttl)

    async def kv_set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        if await self.kv_get(key) is not None:
            return False
        await self.kv_set(key, value, ttl)
        return True

    async def kv_delete(self, key: str) -> None:
        self.kv.pop(key, None)
