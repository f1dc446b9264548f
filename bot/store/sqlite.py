"""The SQLite store: one file, WAL mode, safe for several processes on one machine.

All SQL runs on one worker thread per store (sqlite_worker.py); the per-user lock, good across
processes, is in sqlite_lock.py.

Expiring values (dedupe claims, kv, lock leases) use the wall clock (`time.time`), as Redis TTLs
do; "last touched" for `purge` uses the injectable `clock`, so retention can be tested.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from .base import Store, StoreError, TranscriptLine, UserKey
from .sqlite_lock import TABLE as LOCKS_TABLE
from .sqlite_lock import RowLocks
from .sqlite_worker import SqliteWorker

T = TypeVar("T")

SCHEMA_VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS users(
  channel TEXT NOT NULL, user TEXT NOT NULL, touched_us INTEGER NOT NULL,
  PRIMARY KEY (channel, user));
CREATE INDEX IF NOT EXISTS users_touched ON users(touched_us);
CREATE TABLE IF NOT EXISTS sessions(
  channel TEXT NOT NULL, user TEXT NOT NULL, state TEXT NOT NULL,
  PRIMARY KEY (channel, user));
CREATE TABLE IF NOT EXISTS transcripts(
  id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, user TEXT NOT NULL,
  at_us INTEGER NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS transcripts_user ON transcripts(channel, user, id);
CREATE TABLE IF NOT EXISTS dedupe(
  namespace TEXT NOT NULL, msg_id TEXT NOT NULL, expires REAL NOT NULL, result TEXT,
  PRIMARY KEY (namespace, msg_id));
CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL);
"""
    + LOCKS_TABLE
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _us(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return (at - _EPOCH) // timedelta(microseconds=1)


class SqliteStore(Store):
    """Parameters: `path` of the database file (":memory:" for a private in-memory store);
    `clock` for "last touched" times; `lock_lease` seconds after which a lock left by a dead
    process is taken over; `busy_timeout` seconds to wait for another process's write."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], datetime] = _utcnow,
        lock_lease: float = 30.0,
        busy_timeout: float = 5.0,
    ) -> None:
        self.path = str(path)
        self._clock = clock
        self._worker = SqliteWorker(path, _SCHEMA, busy_timeout=busy_timeout, name="store")
        self._locks = RowLocks(self._worker, lock_lease)

    # Plumbing -------------------------------------------------------------------------------

    async def open(self) -> None:
        await self._worker.connect()
        try:
            await self._worker.call(self._check_version)
        except BaseException:
            await self._worker.disconnect()
            raise

    def _check_version(self) -> None:
        conn = self._db()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: schema {version} is newer than this bot's")
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    async def close(self) -> None:
        await self._worker.disconnect()

    def _db(self) -> sqlite3.Connection:
        conn = self._worker._conn  # only ever used on the worker thread
        if conn is None:
            raise StoreError("the SQLite store is not open")
        return conn

    async def _query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return await self._worker.call(lambda: self._db().execute(sql, params).fetchall())

    def _touch(self, conn: sqlite3.Connection, key: UserKey) -> None:
        conn.execute(
            "INSERT INTO users(channel, user, touched_us) VALUES (?, ?, ?) "
            "ON CONFLICT(channel, user) DO UPDATE SET touched_us = excluded.touched_us",
            (key.channel, key.user, _us(self._clock())),
        )

    async def ping(self) -> bool:
        try:
            return (await self._query("SELECT 1")) == [(1,)]
        except StoreError:
            return False

    # Sessions and transcripts ---------------------------------------------------------------

    async def load_session(self, key: UserKey) -> dict[str, Any] | None:
        rows = await self._query(
            "SELECT state FROM sessions WHERE channel = ? AND user = ?", key.channel, key.user
        )
        if not rows:
            return None
        try:
            state: dict[str, Any] = json.loads(rows[0][0])
        except ValueError as exc:
            raise StoreError(f"session of {key}: {exc}") from exc
        return state

    async def save_session(self, key: UserKey, state: dict[str, Any]) -> None:
        data = json.dumps(state, ensure_ascii=False, separators=(",", ":"))

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO sessions(channel, user, state) VALUES (?, ?, ?) "
                "ON CONFLICT(channel, user) DO UPDATE SET state = excluded.state",
                (key.channel, key.user, data),
            )
            self._touch(conn, key)

        await self._worker.tx(write)

    async def delete_session(self, key: UserKey) -> None:
        await self._worker.tx(
            lambda c: c.execute(
                "DELETE FROM sessions WHERE channel = ? AND user = ?", (key.channel, key.user)
            )
        )

    async def append_transcript(self, key: UserKey, lines: list[TranscriptLine]) -> None:
        if not lines:
            return
        rows = [(key.channel, key.user, _us(ln.at), ln.sender, ln.text) for ln in lines]

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO transcripts(channel, user, at_us, sender, text) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            self._touch(conn, key)

        await self._worker.tx(write)

    async def transcript(self, key: UserKey, limit: int = 500) -> list[TranscriptLine]:
        if limit <= 0:
            return []
        rows = await self._query(
            "SELECT at_us, sender, text FROM transcripts WHERE channel = ? AND user = ? "
            "ORDER BY id DESC LIMIT ?",
            key.channel,
            key.user,
            limit,
        )
        return [
            TranscriptLine(_EPOCH + timedelta(microseconds=at), sender, text)
            for at, sender, text in reversed(rows)
        ]

    async def forget(self, key: UserKey) -> None:
        def erase(conn: sqlite3.Connection) -> None:
            for table in ("sessions", "transcripts", "users"):
                conn.execute(
                    f"DELETE FROM {table} WHERE channel = ? AND user = ?",  # noqa: S608 - fixed names
                    (key.channel, key.user),
                )
            conn.execute("DELETE FROM locks WHERE name = ?", (str(key),))

        await self._worker.tx(erase)

    async def purge(self, older_than: datetime) -> int:
        cutoff = _us(older_than)

        def erase(conn: sqlite3.Connection) -> int:
            gone = "SELECT channel, user FROM users WHERE touched_us < ?"
            removed = 0
            for table in ("sessions", "transcripts"):
                removed += conn.execute(
                    f"DELETE FROM {table} WHERE (channel, user) IN ({gone})",  # noqa: S608
                    (cutoff,),
                ).rowcount
            conn.execute("DELETE FROM users WHERE touched_us < ?", (cutoff,))
            # Housekeeping: expired values nobody will read again.
            now = time.time()
            for table in ("dedupe", "kv", "locks"):
                conn.execute(f"DELETE FROM {table} WHERE expires <= ?", (now,))  # noqa: S608
            return removed

        return await self._worker.tx(erase)

    # The per-user lock ----------------------------------------------------------------------

    def lock(self, key: UserKey, timeout: float = 10.0) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(str(key), timeout)

    # Dedupe and kv --------------------------------------------------------------------------

    async def claim_once(self, namespace: str, msg_id: str, ttl: float) -> bool:
        def claim(conn: sqlite3.Connection) -> bool:
            now = time.time()
            conn.execute(
                "DELETE FROM dedupe WHERE namespace = ? AND msg_id = ? AND expires <= ?",
                (namespace, msg_id, now),
            )
            cursor = conn.execute(
                "INSERT OR IGNORE INTO dedupe(namespace, msg_id, expires) VALUES (?, ?, ?)",
                (namespace, msg_id, now + ttl),
            )
            return cursor.rowcount == 1

        return await self._worker.tx(claim)

    async def set_result(self, namespace: str, msg_id: str, result: str, ttl: float) -> None:
        expires = time.time() + ttl
        await self._worker.tx(
            lambda c: c.execute(
                "INSERT INTO dedupe(namespace, msg_id, expires, result) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(namespace, msg_id) DO UPDATE "
                "SET result = excluded.result, expires = excluded.expires",
                (namespace, msg_id, expires, result),
            )
        )

    async def get_result(self, namespace: str, msg_id: str) -> str | None:
        rows = await self._query(
            "SELECT result FROM dedupe WHERE namespace = ? AND msg_id = ? AND expires > ?",
            namespace,
            msg_id,
            time.time(),
        )
        return rows[0][0] if rows else None

    async def kv_get(self, key: str) -> str | None:
        rows = await self._query(
            "SELECT value FROM kv WHERE key = ? AND (expires IS NULL OR expires > ?)",
            key,
            time.time(),
        )
        return str(rows[0][0]) if rows else None

    async def kv_set(self, key: str, value: str, ttl: float | None = None) -> None:
        expires = None if ttl is None else time.time() + ttl
        await self._worker.tx(
            lambda c: c.execute(
                "INSERT INTO kv(key, value, expires) VALUES (?, ?, ?) ON CONFLICT(key) "
                "DO UPDATE SET value = excluded.value, expires = excluded.expires",
                (key, value, expires),
            )
        )

    async def kv_set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        def put(conn: sqlite3.Connection) -> bool:
            now = time.time()
            conn.execute("DELETE FROM kv WHERE key = ? AND expires <= ?", (key, now))
            cursor = conn.execute(
                "INSERT OR IGNORE INTO kv(key, value, expires) VALUES (?, ?, ?)",
                (key, value, None if ttl is None else now + ttl),
            )
            return cursor.rowcount == 1

        return await self._worker.tx(put)

    async def kv_delete(self, key: str) -> None:
        await self._worker.tx(lambda c: c.execute("DELETE FROM kv WHERE key = ?", (key,)))

    # For operators and tests ------------------------------------------------------------------

    async def users(self) -> list[UserKey]:
        """Every user the store holds anything about (`jifen-bot purge --dry-run`, tests)."""
        rows = await self._query("SELECT channel, user FROM users ORDER BY channel, user")
        return [UserKey(c, u) for c, u in rows]


__all__ = ["SCHEMA_VERSION", "SqliteStore"]
