"""The per-user lock of the SQLite store, good across processes on one file.

A row in `locks` with an expiry: whoever inserts it holds the lock; a process killed while
holding it blocks the user for at most the lease. In front of it, an asyncio.Lock per user so
that waiters in one process queue in order instead of polling the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from functools import partial

from .base import LockTimeout
from .sqlite_worker import SqliteWorker

TABLE = """
CREATE TABLE IF NOT EXISTS locks(name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires REAL NOT NULL);
"""


class RowLocks:
    """Parameters: the store's `worker`; the `lease` in seconds (longer than any turn)."""

    def __init__(self, worker: SqliteWorker, lease: float) -> None:
        self._worker = worker
        self._lease = lease
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}  # lock, tasks using it

    @contextlib.asynccontextmanager
    async def hold(self, name: str, wait: float) -> AsyncIterator[None]:
        lock, users = self._local.get(name, (asyncio.Lock(), 0))
        self._local[name] = (lock, users + 1)
        deadline = time.monotonic() + wait
        try:
            try:
                await asyncio.wait_for(lock.acquire(), wait)
            except TimeoutError:
                raise LockTimeout(f"{name}: busy for {wait} s") from None
            try:
                owner = await self._take(name, deadline)
                try:
                    yield
                finally:
                    await self._worker.tx(partial(_release, name, owner))
            finally:
                lock.release()
        finally:
            lock, users = self._local[name]
            if users <= 1:
                del self._local[name]  # no unbounded growth with the number of users
            else:
                self._local[name] = (lock, users - 1)

    async def _take(self, name: str, deadline: float) -> str:
        owner = uuid.uuid4().hex
        delay = 0.005
        while not await self._worker.tx(partial(_try, name, owner, self._lease)):
            left = deadline - time.monotonic()
            if left <= 0:
                raise LockTimeout(f"{name}: held by another process")
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, 0.1)
        return owner


def _try(name: str, owner: str, lease: float, conn: sqlite3.Connection) -> bool:
    now = time.time()
    conn.execute("DELETE FROM locks WHERE name = ? AND expires <= ?", (name, now))
    cursor = conn.execute(
        "INSERT OR IGNORE INTO locks(name, owner, expires) VALUES (?, ?, ?)",
        (name, owner, now + lease),
    )
    return cursor.rowcount == 1


def _release(name: str, owner: str, conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))


__all__ = ["TABLE", "RowLocks"]
