"""The per-user lock of the SQLite store, good across processes on one file.

A row in `locks` with an expiry: whoever inserts it holds the lock; a process killed while
holding it blocks the user for at most the lease. In front of it, an asyncio.Lock per user so
that waiters in one process queue in order instead of polling the file.

Taking it is one statement (an upsert that only overwrites an expired row). `held` then runs a
further read for the holder (the store loads the session there), and the holder can release
the row in its own last transaction (the store saves the session there): an exclusive turn of
the conversation is one statement, one read and one transaction. Optimistic turns take only the
asyncio.Lock (`queue` / `leave`) and look for a live row when they save.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from .base import LockTimeout
from .sqlite_worker import SqliteWorker

T = TypeVar("T")

TABLE = """
CREATE TABLE IF NOT EXISTS locks(name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires REAL NOT NULL)
  WITHOUT ROWID;
"""


@dataclass(slots=True)
class Lease(Generic[T]):
    """A held row lock: `value` is what the step run on taking it returned."""

    name: str
    owner: str
    value: T
    released: bool = False  # set by a holder that deleted the row in its own transaction


class RowLocks:
    """Parameters: the store's `worker`; the `lease` in seconds (longer than any turn)."""

    def __init__(self, worker: SqliteWorker, lease: float) -> None:
        self._worker = worker
        self._lease = lease
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}  # lock, tasks using it
        # Owner ids: unique across processes (random prefix) and within one (counter).
        self._prefix = secrets.token_hex(8)
        self._serial = itertools.count(1)

    @contextlib.asynccontextmanager
    async def hold(self, name: str, wait: float) -> AsyncIterator[None]:
        async with self.held(name, wait, _nothing):
            yield

    @contextlib.asynccontextmanager
    async def held(
        self, name: str, wait: float, then: Callable[[sqlite3.Connection], T]
    ) -> AsyncIterator[Lease[T]]:
        """The lock of `name`; the lease's value is `then(conn)`, read once it is held."""
        deadline = await self.queue(name, wait)
        try:
            lease = await self._take(name, deadline, then)
            try:
                yield lease
            finally:
                if not lease.released:
                    await self._worker.execute(_RELEASE, (name, lease.owner), inline=True)
        finally:
            self.leave(name)

    async def queue(self, name: str, wait: float) -> float:
        """Wait for this process's turn at `name` (first come, first served), for at most
        `wait` s; the deadline for the rest of the wait. Every `queue` is paired with a
        `leave`. Other processes are not excluded: that is the row (`held`)."""
        lock, users = self._local.get(name, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._local[name] = (lock, users + 1)
        deadline = time.monotonic() + wait
        try:
            if users == 0:
                await lock.acquire()  # nobody else here holds or awaits it: at once, no timer
            else:
                try:
                    async with asyncio.timeout(wait):
                        await lock.acquire()
                except TimeoutError:
                    raise LockTimeout(f"{name}: busy for {wait} s") from None
        except BaseException:
            self._forget(name)
            raise
        return deadline

    def leave(self, name: str) -> None:
        self._local[name][0].release()
        self._forget(name)

    def _forget(self, name: str) -> None:
        lock, users = self._local[name]
        if users <= 1:
            del self._local[name]  # no unbounded growth with the number of users
        else:
            self._local[name] = (lock, users - 1)

    async def _take(
        self, name: str, deadline: float, then: Callable[[sqlite3.Connection], T]
    ) -> Lease[T]:
        owner = f"{self._prefix}-{next(self._serial)}"
        delay = 0.005
        while True:
            now = time.time()
            taken = await self._worker.execute(
                _TAKE, (name, owner, now + self._lease, now), inline=True
            )
            if taken == 1:
                try:
                    value = await self._worker.read(then, inline=True)
                except BaseException:
                    await self._worker.execute(_RELEASE, (name, owner), inline=True)
                    raise
                return Lease(name, owner, value)
            left = deadline - time.monotonic()
            if left <= 0:
                raise LockTimeout(f"{name}: held by another process")
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, 0.1)


def _nothing(conn: sqlite3.Connection) -> None:
    return None


# The row is ours when it was absent or its holder's lease has run out (a dead process).
_TAKE = (
    "INSERT INTO locks(name, owner, expires) VALUES (?1, ?2, ?3) ON CONFLICT(name) "
    "DO UPDATE SET owner = excluded.owner, expires = excluded.expires WHERE locks.expires <= ?4"
)
_RELEASE = "DELETE FROM locks WHERE name = ? AND owner = ?"


def release(name: str, owner: str, conn: sqlite3.Connection) -> None:
    """Delete the row of a lock we hold (inside the caller's transaction)."""
    conn.execute(_RELEASE, (name, owner))


__all__ = ["TABLE", "Lease", "RowLocks", "release"]
