"""One SQLite connection served by one worker thread, reached from the event loop.

sqlite3 connections are not shared across threads, and SQLite calls block; so each call runs
on the worker with `run_in_executor`. Transactions are opened with BEGIN IMMEDIATE, so that a
read-then-write never upgrades its lock midway (the classic SQLITE_BUSY deadlock).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from .base import StoreError

T = TypeVar("T")


class SqliteWorker:
    """Parameters: `path` of the file (":memory:" for a private database); `schema` run on
    connecting; `busy_timeout` seconds to wait for another process's write; `name` for errors."""

    def __init__(
        self, path: str | Path, schema: str, *, busy_timeout: float = 5.0, name: str = "sqlite"
    ) -> None:
        self.path = str(path)
        self._schema = schema
        self._busy = busy_timeout
        self._name = name
        self._conn: sqlite3.Connection | None = None
        self._pool: ThreadPoolExecutor | None = None

    async def connect(self) -> None:
        if self._conn is not None:
            return
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"jifen-{self._name}")
        try:
            self._conn = await self.call(self._connect)
        except BaseException:
            self._pool.shutdown(wait=False)
            self._pool = None
            raise

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self._busy, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(self._schema)
        except BaseException:
            conn.close()
            raise
        return conn

    async def disconnect(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(StoreError):
                await self.call(self._conn.close)
            self._conn = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            raise StoreError(f"{self._name} {self.path} is not open")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, partial(fn, *args))
        except sqlite3.Error as exc:
            raise StoreError(f"{self._name} {self.path}: {exc}") from exc

    async def tx(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` inside one write transaction on the worker thread."""

        def run() -> T:
            conn = self._conn
            if conn is None:
                raise StoreError(f"{self._name} {self.path} is not open")
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self.call(run)


__all__ = ["SqliteWorker"]
