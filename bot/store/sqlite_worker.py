"""SQLite reached from the event loop: short statements inline, anything that may wait on a thread.

sqlite3 calls block. Most of the bot's are tiny (a keyed SELECT, one small write transaction:
~5-15 µs on WAL), far less than handing them to a thread and back (~40-70 µs of event-loop
time, plus a context switch each way). So there are two connections to the file:

- the inline connection, used on the event loop for the calls a caller marks `inline=True`.
  Its busy timeout is zero: when another connection (another process, or this worker) holds
  the write lock, the call fails at once with SQLITE_BUSY instead of blocking the loop, and is
  run again on the worker, which waits for the lock as before. It never checkpoints the WAL
  itself (the fsyncs of a checkpoint would stall every request in flight); after every
  CHECKPOINT_EVERY inline commits it asks the worker for one (see `_checkpoint_work`).
- the worker connection, on one worker thread (`run_in_executor`), for everything else: long
  queries (purge, transcripts), the fallback of busy inline calls, checkpoints.

Turns of the conversation that save in the same pass of the event loop commit together
(`tx_grouped`): one BEGIN and one COMMIT for all of them, and the pages they share (the end
of the transcript, its index) go to the WAL once. Each still returns only once its writes are
committed. When any of them fails (a conflict, an error), the group is rolled back and each
runs again alone, so that one turn's failure is never another's.

Write transactions are opened with BEGIN IMMEDIATE, so that a read-then-write never upgrades
its lock midway (the classic SQLITE_BUSY deadlock); a transaction function may therefore run
more than once (in a group rolled back, inline and rolled back on BUSY, then on the worker)
and must not have effects outside the database. A private ":memory:" database is one
connection, so there everything runs inline.
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

CHECKPOINT_EVERY = 200  # inline commits between two passive checkpoints on the worker
CHECKPOINT_ROUNDS = 8  # passes of the worker's checkpoint while commits keep coming
CHECKPOINT_LEFT = 32  # pages the loop may have to copy itself to finish a checkpoint
WAL_RESTART_PAGES = 4096  # from this WAL size on (16 MB), the loop finishes a checkpoint
MMAP_BYTES = 256 * 1024 * 1024  # address space, not memory: pages come from the OS cache
CACHE_KIB = 16 * 1024  # page cache per connection (SQLite's default is 2 MB)


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
        self._conn: sqlite3.Connection | None = None  # the worker thread's
        self._inline: sqlite3.Connection | None = None  # the event loop's
        self._pool: ThreadPoolExecutor | None = None
        self._commits = 0  # inline commits since the last checkpoint was asked for
        self._checkpoint: asyncio.Future[int] | None = None
        self.fallbacks = 0  # inline calls that met a busy database and went to the worker
        self._group: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]] = []

    @property
    def _memory(self) -> bool:
        return self.path == ":memory:"

    async def connect(self) -> None:
        if self._conn is not None:
            return
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"jifen-{self._name}")
        try:
            self._conn = await self.call(self._connect)
            if self._memory:
                self._inline = self._conn  # one private database: one connection
            else:
                self._inline = self._open(timeout=0.0)
                self._inline.execute("PRAGMA synchronous=NORMAL")  # per connection
                self._inline.execute("PRAGMA wal_autocheckpoint=0")
        except sqlite3.Error as exc:
            await self.disconnect()
            raise StoreError(f"{self._name} {self.path}: {exc}") from exc
        except BaseException:
            await self.disconnect()
            raise

    def _open(self, timeout: float) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        # Pages read through a memory map rather than a read() each, and more of them cached:
        # every message walks the b-trees of sessions, transcripts and their index.
        conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        return conn

    def _connect(self) -> sqlite3.Connection:
        if not self._memory:
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        conn = self._open(self._busy)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(self._schema)
        except BaseException:
            conn.close()
            raise
        return conn

    async def disconnect(self) -> None:
        inline, self._inline = self._inline, None
        if inline is not None and inline is not self._conn:
            inline.close()
        if self._checkpoint is not None:
            with contextlib.suppress(Exception):
                await self._checkpoint
            self._checkpoint = None
        if self._conn is not None:
            with contextlib.suppress(StoreError):
                await self.call(self._conn.close)
            self._conn = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    async def call(self, fn: Callable[..., T], *args: Any, inline: bool = False) -> T:
        """`fn(*args)` on the worker thread; with `inline`, on the event loop if the database
        is not busy. An inline `fn` gets no connection: use `tx` or `query` for statements."""
        if self._pool is None:
            raise StoreError(f"{self._name} {self.path} is not open")
        if self._memory:
            inline = True  # one connection, used only from the loop
        if inline:
            try:
                return fn(*args)
            except sqlite3.Error as exc:
                raise StoreError(f"{self._name} {self.path}: {exc}") from exc
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, partial(fn, *args))
        except sqlite3.Error as exc:
            raise StoreError(f"{self._name} {self.path}: {exc}") from exc

    async def read(self, fn: Callable[[sqlite3.Connection], T], *, inline: bool = False) -> T:
        """`fn(conn)` outside any transaction (its reads see the latest commit)."""
        return await self._run(fn, inline, wrote=False)

    async def query(
        self, sql: str, params: tuple[Any, ...] = (), *, inline: bool = False
    ) -> list[tuple[Any, ...]]:
        """The rows of one statement outside any transaction."""
        return await self._run(lambda c: c.execute(sql, params).fetchall(), inline, wrote=False)

    async def execute(self, sql: str, params: tuple[Any, ...] = (), *, inline: bool = False) -> int:
        """One write statement, a transaction by itself; the number of rows it changed. (Much
        cheaper than BEGIN, the statement and COMMIT: one call into SQLite, not three.)"""
        return await self._run(lambda c: c.execute(sql, params).rowcount, inline, wrote=True)

    async def tx(self, fn: Callable[[sqlite3.Connection], T], *, inline: bool = False) -> T:
        """Run `fn` inside one write transaction: on the event loop with `inline` (unless the
        database is busy), else on the worker thread."""
        return await self._run(partial(_transaction, fn=fn), inline, wrote=True)

    async def tx_grouped(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`tx(fn, inline=True)`, committed together with the other grouped transactions
        that reach here in the same pass of the event loop."""
        conn = self._inline
        if conn is None or self._memory:
            return await self.tx(fn, inline=True)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        if not self._group:
            loop.call_soon(self._commit_group, conn)
        self._group.append((fn, done))
        result = await done
        if result is _ALONE:
            return await self.tx(fn, inline=True)
        return result

    def _commit_group(self, conn: sqlite3.Connection) -> None:
        # Those whose caller was cancelled while they waited write nothing, as if they had
        # never been asked.
        group = [(fn, done) for fn, done in self._group if not done.cancelled()]
        self._group = []
        if not group:
            return
        results: list[Any] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, _ in group:
                results.append(fn(conn))
            conn.execute("COMMIT")
        except BaseException as exc:
            # Busy (another process writes), a conflict, an error: each transaction runs
            # again by itself, as `tx` would (waiting for a busy file on the worker thread).
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            for _, done in group:
                if not done.done():
                    done.set_result(_ALONE)
            if not isinstance(exc, Exception):
                raise
            return
        self._committed(len(group))
        for (_, done), result in zip(group, results, strict=True):
            if not done.done():
                done.set_result(result)

    async def _run(self, fn: Callable[[sqlite3.Connection], T], inline: bool, wrote: bool) -> T:
        if inline and self._inline is not None:
            try:
                result = fn(self._inline)
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise StoreError(f"{self._name} {self.path}: {exc}") from exc
                self.fallbacks += 1  # and wait for the lock on the worker thread
            except sqlite3.Error as exc:
                raise StoreError(f"{self._name} {self.path}: {exc}") from exc
            else:
                if wrote:
                    self._committed()
                return result
        return await self.call(lambda: fn(self._worker_conn()))

    def _worker_conn(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is None:
            raise StoreError(f"{self._name} {self.path} is not open")
        return conn

    def _committed(self, count: int = 1) -> None:
        if self._memory:
            return
        self._commits += count
        if self._commits < CHECKPOINT_EVERY or self._pool is None:
            return
        if self._checkpoint is not None and not self._checkpoint.done():
            return
        self._commits = 0
        loop = asyncio.get_running_loop()
        self._checkpoint = loop.run_in_executor(self._pool, self._checkpoint_work)
        self._checkpoint.add_done_callback(self._finish_checkpoint)

    def _checkpoint_work(self) -> int:
        """The bulk of a checkpoint, off the loop: sync the WAL, copy its pages into the
        database file, sync that. Passive: never waits for a reader or writer. Again while
        inline commits have added more than a few pages meanwhile. Returns the WAL's size in
        pages (0 when unknown)."""
        log = 0
        with contextlib.suppress(sqlite3.Error):
            conn = self._worker_conn()
            for _ in range(CHECKPOINT_ROUNDS):
                busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if busy or log - done <= CHECKPOINT_LEFT:
                    break
        return max(0, int(log))

    def _finish_checkpoint(self, future: asyncio.Future[int]) -> None:
        # Inline commits go on while the worker copies, so under steady load the WAL is never
        # entirely copied at once, and only then does a WAL start over from its beginning: it
        # would grow for as long as the load lasts. So once it is big, the last pages are
        # copied here, on the loop, where no inline commit can slip in between (a stall of a
        # few milliseconds every WAL_RESTART_PAGES pages; measured against letting the loop
        # checkpoint by itself, and against a RESTART checkpoint on the worker that keeps
        # writers out, it stalls least); the next write then starts the WAL afresh.
        if future.cancelled() or future.exception() is not None:
            return
        conn = self._inline
        if future.result() >= WAL_RESTART_PAGES and conn is not None and conn is not self._conn:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


# What a grouped transaction gets when its group was rolled back: it runs again by itself.
_ALONE: Any = object()


def _transaction(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """`fn(conn)` between BEGIN IMMEDIATE and COMMIT; rolled back when anything fails."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
    return result


def _busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY (and its extended codes): another connection holds the lock we need."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF == sqlite3.SQLITE_BUSY
    return "locked" in str(exc) or "busy" in str(exc)


__all__ = ["CHECKPOINT_EVERY", "SqliteWorker"]
