"""The SQLite store: one file, WAL mode, safe for several processes on one machine.

The short statements of a message (session, transcript lines) run inline on the event loop
and fall back to the store's worker thread when the file is busy; long ones (purge, reading a
transcript, forget) always run on the worker (sqlite_worker.py). A conversation turn (`turn`)
is optimistic: one read (none when this process saved the session last: recent.py), and one
transaction that writes only if no other worker changed the session meanwhile
(`_OptimisticTurn`; TurnConflict otherwise). An exclusive turn takes the
per-user lock, good across processes (sqlite_lock.py), and loads, then saves, appends and
releases in one transaction. The saves of turns that end at the same moment share one
transaction (sqlite_worker.py), each still checked on its own.

Expiring values (dedupe claims, kv, lock leases) use the wall clock (`time.time`), as Redis TTLs
do; "last touched" for `purge` uses the injectable `clock`, so retention can be tested.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import orjson

from .base import Store, StoreError, TranscriptLine, TurnConflict, TurnScope, UserKey
from .recent import Recent, RecentSessions
from .sqlite_lock import TABLE as LOCKS_TABLE
from .sqlite_lock import Lease, RowLocks, release
from .sqlite_worker import SqliteWorker

T = TypeVar("T")

SCHEMA_VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Every message writes a few of these rows, and each write copies whole pages into the WAL, so
# the keyed tables with small rows are WITHOUT ROWID (one b-tree to change, not a table and its
# key index) and transcript ids need no AUTOINCREMENT (no sqlite_sequence page per line: a new
# line's id is still above every line kept). Files made before keep their tables; the
# statements are the same for both.
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
  id INTEGER PRIMARY KEY, channel TEXT NOT NULL, user TEXT NOT NULL,
  at_us INTEGER NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS transcripts_user ON transcripts(channel, user, id);
CREATE TABLE IF NOT EXISTS dedupe(
  namespace TEXT NOT NULL, msg_id TEXT NOT NULL, expires REAL NOT NULL, result TEXT,
  PRIMARY KEY (namespace, msg_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL)
  WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox(
  channel TEXT NOT NULL, item TEXT NOT NULL, body TEXT NOT NULL, due REAL NOT NULL,
  takes INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (channel, item)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS inbox_due ON inbox(channel, due);
"""
    + LOCKS_TABLE
)
# "Last touched" is kept to this precision (retention counts in days): a user's row is
# rewritten at most once a minute, not on every message, and a turn of a session this process
# saved less than a minute ago does not even ask (so "last touched" may lag by two minutes).
TOUCH_GRAIN_US = 60_000_000


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _us(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return (at - _EPOCH) // _MICROSECOND


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
        self._recent = RecentSessions()
        # The fused turn (lock + load, save + append + unlock) bypasses the single methods; a
        # subclass that overrides one of them (a test injecting failures) gets them composed.
        cls = type(self)
        self._fused = all(
            getattr(cls, name) is getattr(SqliteStore, name)
            for name in ("load_session", "save_session", "append_transcript", "lock")
        )

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
        """A long read: on the worker thread."""
        return await self._worker.query(sql, params)

    async def _get(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """A keyed read of a row or two: inline."""
        return await self._worker.query(sql, params, inline=True)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """A short write transaction: inline."""
        return await self._worker.tx(fn, inline=True)

    async def _write1(self, sql: str, *params: Any) -> int:
        """One short write statement, a transaction by itself: inline. Rows changed."""
        return await self._worker.execute(sql, params, inline=True)

    def _touch(self, conn: sqlite3.Connection, key: UserKey, at_us: int | None = None) -> None:
        at_us = _us(self._clock()) if at_us is None else at_us
        conn.execute(_TOUCH, (key.channel, key.user, at_us, TOUCH_GRAIN_US))

    async def _dropping(self, key: UserKey, write: Awaitable[T]) -> T:
        """`write`, a change of the user's session made outside a turn, with the copy kept in
        memory dropped before it (no turn starts from it) and after it (nor from one a turn
        saved meanwhile, while the write waited for the file): erased data is not kept here."""
        self._recent.drop(key)
        try:
            return await write
        finally:
            self._recent.drop(key)

    async def _save_kept(
        self,
        key: UserKey,
        write: Callable[[sqlite3.Connection], int | None],
        data: bytes,
        state: dict[str, Any],
        memo: object | None,
    ) -> int | None:
        """A turn's save (`write` returns when it touched the user), committed with the other
        turns saving at the same moment (SqliteWorker.tx_grouped), after which the session
        it wrote (`data`, `state`, the caller's `memo`) is kept for the user's next turn.
        Nothing is kept while it runs, nor when it fails (a conflict: out of date; a failed
        commit: unknown)."""
        self._recent.drop(key)
        touched = await self._worker.tx_grouped(write)
        self._recent.put(key, Recent(data, state, memo, touched))
        return touched

    async def ping(self) -> bool:
        try:
            return (await self._get("SELECT 1")) == [(1,)]
        except StoreError:
            return False

    # Sessions and transcripts ---------------------------------------------------------------

    async def load_session(self, key: UserKey) -> dict[str, Any] | None:
        rows = await self._get(_LOAD, key.channel, key.user)
        return _decode(key, rows[0][0]) if rows else None

    async def save_session(self, key: UserKey, state: dict[str, Any]) -> None:
        data = _encode(state)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(_SAVE, (key.channel, key.user, data))
            self._touch(conn, key)

        await self._dropping(key, self._write(write))

    async def delete_session(self, key: UserKey) -> None:
        sql = "DELETE FROM sessions WHERE channel = ? AND user = ?"
        await self._dropping(key, self._write1(sql, key.channel, key.user))

    async def append_transcript(self, key: UserKey, lines: list[TranscriptLine]) -> None:
        if not lines:
            return
        rows = _rows(key, lines)

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany(_APPEND, rows)
            self._touch(conn, key)

        await self._write(write)

    async def save_turn(
        self, key: UserKey, state: dict[str, Any], lines: list[TranscriptLine]
    ) -> None:
        if not self._fused:
            return await super().save_turn(key, state, lines)
        write = partial(self._save_turn, key, _encode(state), _rows(key, lines), None)
        await self._dropping(key, self._write(write))

    def _save_turn(
        self,
        key: UserKey,
        data: bytes,
        rows: list[tuple[str, str, int, str, str]],
        lease: Lease[Any] | None,
        conn: sqlite3.Connection,
    ) -> int:
        """The turn's writes; when the user was touched (`_us`)."""
        conn.execute(_SAVE, (key.channel, key.user, data))
        if rows:
            conn.executemany(_APPEND, rows)
        touched = _us(self._clock())
        self._touch(conn, key, touched)
        if lease is not None:
            release(lease.name, lease.owner, conn)
        return touched

    def _save_checked(
        self,
        key: UserKey,
        loaded: bytes | None,
        data: bytes,
        rows: list[tuple[str, str, int, str, str]],
        touched: int | None,
        conn: sqlite3.Connection,
    ) -> int | None:
        """The turn's writes, if the session is still `loaded` and no other worker holds the
        user's lock; TurnConflict otherwise. `touched`: when this process last touched the
        user. Returns the same for the touch made here, if any."""
        params = (key.channel, key.user, str(key), time.time(), loaded, data)
        sql = _CREATE_IF_ABSENT if loaded is None else _SAVE_IF_UNCHANGED
        if conn.execute(sql, params).rowcount != 1:
            raise TurnConflict(f"session of {key} changed by another worker during the turn")
        if rows:
            conn.executemany(_APPEND, rows)
        now = _us(self._clock())
        if touched is not None and 0 <= now - touched < TOUCH_GRAIN_US:
            return touched
        self._touch(conn, key, now)
        return now

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

        await self._dropping(key, self._worker.tx(erase))

    async def purge(self, older_than: datetime) -> int:
        cutoff = _us(older_than)
        # Whom the purge takes is decided in the file: what is kept here goes with everyone's,
        # before (no turn starts from it) and after (nor from a turn saved meanwhile).
        self._recent.clear()

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
            # Updates nobody processed since the cutoff: their channel is no longer served.
            conn.execute("DELETE FROM inbox WHERE due < ?", (older_than.timestamp(),))
            return removed

        try:
            return await self._worker.tx(erase)
        finally:
            self._recent.clear()

    # The per-user lock ----------------------------------------------------------------------

    def lock(self, key: UserKey, timeout: float = 10.0) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(str(key), timeout)

    def turn(
        self, key: UserKey, timeout: float = 10.0, *, exclusive: bool = False
    ) -> AbstractAsyncContextManager[TurnScope]:
        if not self._fused:
            return super().turn(key, timeout)
        if exclusive:
            return self._turn(key, timeout)
        return _OptimisticTurn(self, key, timeout)

    @contextlib.asynccontextmanager
    async def _turn(self, key: UserKey, wait: float) -> AsyncIterator[TurnScope]:
        async with self._locks.held(str(key), wait, partial(_load_raw, key)) as lease:
            loaded = None if lease.value is None else _decode(key, lease.value)
            yield _SqliteTurn(self, key, loaded, lease)

    # Dedupe and kv --------------------------------------------------------------------------

    async def claim_once(self, namespace: str, msg_id: str, ttl: float) -> bool:
        # New, or the old claim has expired (then it starts afresh, without its result).
        now = time.time()
        changed = await self._write1(
            "INSERT INTO dedupe(namespace, msg_id, expires) VALUES (?1, ?2, ?3) "
            "ON CONFLICT(namespace, msg_id) DO UPDATE "
            "SET expires = excluded.expires, result = NULL WHERE dedupe.expires <= ?4",
            namespace,
            msg_id,
            now + ttl,
            now,
        )
        return changed == 1

    async def set_result(self, namespace: str, msg_id: str, result: str, ttl: float) -> None:
        await self._write1(
            "INSERT INTO dedupe(namespace, msg_id, expires, result) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(namespace, msg_id) DO UPDATE "
            "SET result = excluded.result, expires = excluded.expires",
            namespace,
            msg_id,
            time.time() + ttl,
            result,
        )

    async def get_result(self, namespace: str, msg_id: str) -> str | None:
        rows = await self._get(
            "SELECT result FROM dedupe WHERE namespace = ? AND msg_id = ? AND expires > ?",
            namespace,
            msg_id,
            time.time(),
        )
        return rows[0][0] if rows else None

    async def kv_get(self, key: str) -> str | None:
        rows = await self._get(
            "SELECT value FROM kv WHERE key = ? AND (expires IS NULL OR expires > ?)",
            key,
            time.time(),
        )
        return str(rows[0][0]) if rows else None

    async def kv_set(self, key: str, value: str, ttl: float | None = None) -> None:
        expires = None if ttl is None else time.time() + ttl
        await self._write1(
            "INSERT INTO kv(key, value, expires) VALUES (?, ?, ?) ON CONFLICT(key) "
            "DO UPDATE SET value = excluded.value, expires = excluded.expires",
            key,
            value,
            expires,
        )

    async def kv_set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        # Absent, or present with an expiry that has passed (NULL: kept for good).
        now = time.time()
        changed = await self._write1(
            "INSERT INTO kv(key, value, expires) VALUES (?1, ?2, ?3) ON CONFLICT(key) "
            "DO UPDATE SET value = excluded.value, expires = excluded.expires "
            "WHERE kv.expires <= ?4",
            key,
            value,
            None if ttl is None else now + ttl,
            now,
        )
        return changed == 1

    async def kv_delete(self, key: str) -> None:
        await self._write1("DELETE FROM kv WHERE key = ?", key)

    # The inbox ------------------------------------------------------------------------------

    async def inbox_add(self, channel: str, item: str, body: str, lease: float) -> None:
        await self._write1(
            "INSERT INTO inbox(channel, item, body, due) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(channel, item) DO NOTHING",
            channel,
            item,
            body,
            time.time() + lease,
        )

    async def inbox_done(self, channel: str, item: str) -> None:
        await self._write1("DELETE FROM inbox WHERE channel = ? AND item = ?", channel, item)

    async def inbox_take(
        self, channel: str, lease: float, limit: int = 100
    ) -> list[tuple[str, str, int]]:
        if limit <= 0:
            return []  # SQLite reads a negative LIMIT as none at all
        now = time.time()

        def take(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
            # Inside the write transaction (BEGIN IMMEDIATE): no other worker takes these too.
            rows = conn.execute(
                "SELECT item FROM inbox WHERE channel = ? AND due <= ? ORDER BY due LIMIT ?",
                (channel, now, limit),
            ).fetchall()
            taken: list[tuple[str, str, int]] = []
            for (item,) in rows:
                body, takes = conn.execute(
                    "UPDATE inbox SET due = ?, takes = takes + 1 WHERE channel = ? AND item = ? "
                    "RETURNING body, takes",
                    (now + lease, channel, item),
                ).fetchone()
                taken.append((str(item), str(body), int(takes)))
            return taken

        return await self._worker.tx(take)

    # For operators and tests ------------------------------------------------------------------

    async def users(self) -> list[UserKey]:
        """Every user the store holds anything about (`jifen-bot purge --dry-run`, tests)."""
        rows = await self._query("SELECT channel, user FROM users ORDER BY channel, user")
        return [UserKey(c, u) for c, u in rows]


class _SqliteTurn(TurnScope):
    def __init__(
        self, store: SqliteStore, key: UserKey, loaded: dict[str, Any] | None, lease: Lease[Any]
    ) -> None:
        super().__init__(store, key, loaded)
        self._sqlite = store
        self._lease = lease

    async def save(
        self,
        state: dict[str, Any],
        lines: list[TranscriptLine],
        *,
        last: bool = False,
        memo: object | None = None,
    ) -> None:
        # With `last`, the lock's row goes in the same transaction as the turn's writes.
        lease = self._lease if last else None
        store, key, data = self._sqlite, self.key, _encode(state)
        write = partial(store._save_turn, key, data, _rows(key, lines), lease)
        await store._save_kept(key, write, data, state, memo)
        if lease is not None:
            lease.released = True


class _OptimisticTurn:
    """A turn that holds the user's lock in this process only: one read to load, and one
    transaction that saves after checking that the session is as loaded and that no other
    worker holds the user's row lock (an exclusive turn, the staff console); TurnConflict,
    with nothing written, when either fails. Another worker on the same user at the same
    moment is rare (a retry, two fast messages), so nearly every turn costs one commit, where
    taking and releasing the row lock would write the lock's page in two."""

    __slots__ = ("_key", "_name", "_store", "_wait")

    def __init__(self, store: SqliteStore, key: UserKey, wait: float) -> None:
        self._store, self._key, self._wait = store, key, wait
        self._name = str(key)

    async def __aenter__(self) -> TurnScope:
        store, key = self._store, self._key
        await store._locks.queue(self._name, self._wait)
        recent = store._recent.get(key)
        if recent is not None:  # checked when the turn saves, like a read would be
            return _CheckedTurn(store, key, recent.loaded, recent.raw, recent.memo, recent.touched)
        try:
            raw = await store._worker.read(partial(_load_raw, key), inline=True)
            loaded = None if raw is None else _decode(key, raw)
        except BaseException:
            store._locks.leave(self._name)
            raise
        return _CheckedTurn(store, key, loaded, raw)

    async def __aexit__(self, *exc: object) -> None:
        self._store._locks.leave(self._name)


class _CheckedTurn(TurnScope):
    def __init__(
        self,
        store: SqliteStore,
        key: UserKey,
        loaded: dict[str, Any] | None,
        raw: bytes | None,
        memo: object | None = None,
        touched: int | None = None,
    ) -> None:
        super().__init__(store, key, loaded, memo)
        self._sqlite = store
        self._raw = raw
        self._touched = touched

    async def save(
        self,
        state: dict[str, Any],
        lines: list[TranscriptLine],
        *,
        last: bool = False,
        memo: object | None = None,
    ) -> None:
        store, key = self._sqlite, self.key
        data, rows = _encode(state), _rows(key, lines)
        write = partial(store._save_checked, key, self._raw, data, rows, self._touched)
        self._touched = await store._save_kept(key, write, data, state, memo)
        self._raw = data  # a second save in the same turn checks against the first


# Session text crosses to SQLite as its UTF-8 bytes, made TEXT (or read back as bytes) by CAST,
# which copies them as they are: bound as a str, the few kilobytes of a session (Chinese text,
# two bytes a character in Python) would be re-encoded on every save and every compare.
_LOAD = "SELECT CAST(state AS BLOB) FROM sessions WHERE channel = ? AND user = ?"
# The optimistic turn's save: written only when no other worker holds the user's row lock and
# the session is still the text the turn loaded; an UPDATE, so a session deleted since is not
# written either. One row changed, or none; compared in SQLite, without reading the session's
# text back. A turn that loaded no session creates it only if there is still none.
_SAVE_IF_UNCHANGED = (
    "UPDATE sessions SET state = CAST(?6 AS TEXT) WHERE channel = ?1 AND user = ?2 "
    "AND state = CAST(?5 AS TEXT) "
    "AND NOT EXISTS (SELECT 1 FROM locks WHERE name = ?3 AND expires > ?4)"
)
_CREATE_IF_ABSENT = (
    "INSERT INTO sessions(channel, user, state) SELECT ?1, ?2, CAST(?6 AS TEXT) "
    "WHERE ?5 IS NULL AND NOT EXISTS (SELECT 1 FROM locks WHERE name = ?3 AND expires > ?4) "
    "ON CONFLICT(channel, user) DO NOTHING"
)
_TOUCH = (
    "INSERT INTO users(channel, user, touched_us) VALUES (?1, ?2, ?3) "
    "ON CONFLICT(channel, user) DO UPDATE SET touched_us = excluded.touched_us "
    "WHERE excluded.touched_us - touched_us NOT BETWEEN 0 AND ?4 - 1"
)
_SAVE = (
    "INSERT INTO sessions(channel, user, state) VALUES (?, ?, CAST(? AS TEXT)) "
    "ON CONFLICT(channel, user) DO UPDATE SET state = excluded.state"
)
_APPEND = "INSERT INTO transcripts(channel, user, at_us, sender, text) VALUES (?, ?, ?, ?, ?)"


def _load_raw(key: UserKey, conn: sqlite3.Connection) -> bytes | None:
    row = conn.execute(_LOAD, (key.channel, key.user)).fetchone()
    return None if row is None else bytes(row[0])


def _encode(state: dict[str, Any]) -> bytes:
    # orjson: the same compact UTF-8 JSON as json.dumps(ensure_ascii=False, separators=(",",
    # ":")), in a fraction of the time; the session is written on every message.
    try:
        return orjson.dumps(state)
    except orjson.JSONEncodeError:
        # What only the json module writes (keys that are not strings, integers over 64 bits,
        # NaN, lone surrogates), marked by a leading space (still JSON) so that the json
        # module reads it back; ASCII, so that it is valid UTF-8 whatever the text holds.
        return b" " + json.dumps(state, separators=(",", ":")).encode("ascii")


def _decode(key: UserKey, raw: bytes) -> dict[str, Any]:
    if raw[:1] != b" ":
        with contextlib.suppress(orjson.JSONDecodeError):
            loaded: dict[str, Any] = orjson.loads(raw)
            return loaded
    try:  # what only the json module reads exactly (NaN, integers over 64 bits)
        state: dict[str, Any] = json.loads(raw)
    except ValueError as exc:
        raise StoreError(f"session of {key}: {exc}") from exc
    return state


def _rows(key: UserKey, lines: list[TranscriptLine]) -> list[tuple[str, str, int, str, str]]:
    return [(key.channel, key.user, _us(ln.at), ln.sender, ln.text) for ln in lines]


__all__ = ["SCHEMA_VERSION", "SqliteStore"]
