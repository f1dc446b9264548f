"""The SQLite store's fast path (issue 5): statements inline on the event loop, falling back to
the worker thread when the file is busy; a conversation turn in few statements; the WAL kept
bounded by checkpoints the loop does not wait for."""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from store_contract import ALICE, BOB, lines

from bot.store import sqlite_worker
from bot.store.base import LockTimeout, Store, TranscriptLine, TurnConflict, TurnScope, UserKey
from bot.store.sqlite import TOUCH_GRAIN_US, SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "inline.db")
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, SqliteStore]]:
    """Two stores on one file: two worker processes, for all SQLite can tell."""
    a, b = SqliteStore(tmp_path / "t.db"), SqliteStore(tmp_path / "t.db")
    await a.open()
    await b.open()
    yield a, b
    await a.close()
    await b.close()


def _hold_write_lock(path: Path, held: threading.Event, release: threading.Event) -> None:
    """Another connection (another process, for all SQLite can tell) holding the write lock."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO kv(key, value) VALUES ('other', 'x')")
    held.set()
    release.wait(10)
    conn.execute("COMMIT")
    conn.close()


async def test_a_busy_file_sends_the_write_to_the_worker_without_blocking_the_loop(
    store: SqliteStore, tmp_path: Path
) -> None:
    held, release = threading.Event(), threading.Event()
    other = threading.Thread(target=_hold_write_lock, args=(tmp_path / "inline.db", held, release))
    other.start()
    try:
        assert await asyncio.to_thread(held.wait, 10)
        write = asyncio.create_task(store.save_session(ALICE, {"step": "grade"}))
        ticks = 0
        while ticks < 5:  # the loop keeps turning while the write waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert not write.done()
        release.set()
        await asyncio.wait_for(write, 10)
    finally:
        release.set()
        await asyncio.to_thread(other.join, 10)
    assert store._worker.fallbacks >= 1
    assert await store.load_session(ALICE) == {"step": "grade"}
    assert await store.kv_get("other") == "x"


async def test_an_exclusive_turn_loads_under_the_lock_and_releases_it_with_the_save(
    two: tuple[SqliteStore, SqliteStore],
) -> None:
    a, b = two
    await a.save_session(ALICE, {"n": 1})
    async with a.turn(ALICE, exclusive=True) as scope:
        assert scope.loaded == {"n": 1}
        with pytest.raises(LockTimeout):
            async with b.turn(ALICE, timeout=0.2, exclusive=True):
                pytest.fail("two turns of one user at once")
        await scope.save({"n": 2}, lines(2), last=True)
        # Released by the save itself: the other store gets in before this scope ends.
        async with b.turn(ALICE, timeout=0.5, exclusive=True) as other:
            assert other.loaded == {"n": 2}
            await other.save({"n": 3}, lines(1, start=2))
    async with a.turn(ALICE, timeout=0.5, exclusive=True) as scope:
        assert scope.loaded == {"n": 3}
    assert await a.transcript(ALICE) == lines(3)


async def test_of_two_workers_turns_at_once_the_second_save_conflicts_and_writes_nothing(
    two: tuple[SqliteStore, SqliteStore],
) -> None:
    a, b = two
    await a.save_session(ALICE, {"n": 1})
    async with a.turn(ALICE) as mine:
        async with b.turn(ALICE, timeout=0.2) as theirs:  # no lock across processes
            assert mine.loaded == theirs.loaded == {"n": 1}
            await theirs.save({"n": 2}, lines(1), last=True)
        with pytest.raises(TurnConflict):
            await mine.save({"n": 99}, lines(2, start=1), last=True)
    assert await a.load_session(ALICE) == {"n": 2}
    assert await a.transcript(ALICE) == lines(1)
    # A new user: two first turns at once, one wins.
    async with a.turn(BOB) as mine, b.turn(BOB) as theirs:
        await theirs.save({"n": 1}, [], last=True)
        with pytest.raises(TurnConflict):
            await mine.save({"n": 2}, [], last=True)
    # The user's lock held by the other worker (an exclusive turn, the staff console):
    # a conflict even when the session itself did not change.
    async with a.turn(ALICE) as mine, b.lock(ALICE):
        with pytest.raises(TurnConflict):
            await mine.save({"n": 3}, lines(1), last=True)
    assert await a.load_session(ALICE) == {"n": 2}
    # Within one process, turns of one user queue.
    async with a.turn(ALICE) as mine:
        with pytest.raises(LockTimeout):
            async with a.turn(ALICE, timeout=0.2):
                pytest.fail("two turns of one user at once in one process")
        await mine.save({"n": 3}, lines(1), last=True)
    assert await a.load_session(ALICE) == {"n": 3}


async def test_a_session_this_process_saved_is_not_read_again_but_is_still_checked(
    two: tuple[SqliteStore, SqliteStore],
) -> None:
    a, b = two
    memo = object()  # the caller's decoded form of what it saved
    async with a.turn(ALICE) as scope:
        await scope.save({"n": 1}, lines(1), last=True, memo=memo)
    async with a.turn(ALICE) as scope:
        assert scope.loaded == {"n": 1}
        assert scope.memo is memo  # from memory, not from the file
        await scope.save({"n": 2}, [], last=True, memo=memo)
    # Another worker moves the conversation on: this process's copy is out of date, and its
    # turn finds out when it saves; the exclusive rerun reads what the file holds.
    async with b.turn(ALICE) as scope:
        assert scope.loaded == {"n": 2}
        assert scope.memo is None
        await scope.save({"n": 3}, lines(1, start=1), last=True)
    async with a.turn(ALICE) as scope:
        assert scope.loaded == {"n": 2}
        with pytest.raises(TurnConflict):
            await scope.save({"n": 99}, lines(1, start=5), last=True, memo=memo)
    async with a.turn(ALICE, exclusive=True) as scope:
        assert scope.loaded == {"n": 3}
        assert scope.memo is None
        await scope.save({"n": 4}, [], last=True, memo=memo)
    assert await b.load_session(ALICE) == {"n": 4}
    assert await b.transcript(ALICE) == lines(2)
    # Forgotten by another process (`jifen-bot forget`): the kept copy is no use either.
    await b.forget(ALICE)
    async with a.turn(ALICE) as scope:
        assert scope.loaded == {"n": 4}
        with pytest.raises(TurnConflict):
            await scope.save({"n": 5}, [], last=True)
    async with a.turn(ALICE, exclusive=True) as scope:
        assert scope.loaded is None


async def test_what_erases_a_user_erases_the_copy_kept_in_memory(tmp_path: Path) -> None:
    now = [datetime(2026, 11, 20, tzinfo=UTC)]
    store = SqliteStore(tmp_path / "kept.db", clock=lambda: now[0])
    await store.open()
    memo = object()

    async def kept() -> object | None:
        async with store.turn(ALICE) as scope:
            return scope.memo

    async def save(n: int) -> None:
        async with store.turn(ALICE) as scope:
            await scope.save({"n": n}, lines(1), last=True, memo=memo)

    try:
        for erase in (
            lambda: store.forget(ALICE),
            lambda: store.delete_session(ALICE),
            lambda: store.save_session(ALICE, {"n": 0}),
            lambda: store.purge(now[0] + timedelta(days=1)),
        ):
            await save(1)
            assert await kept() is memo
            await erase()
            assert await kept() is None
        assert len(store._recent) <= 1
    finally:
        await store.close()


async def test_a_user_forgotten_while_a_turn_waits_for_the_file_is_not_kept_in_memory(
    store: SqliteStore, tmp_path: Path
) -> None:
    memo = object()
    async with store.turn(ALICE) as scope:
        await scope.save({"n": 1}, lines(1), last=True, memo=memo)
    held, release = threading.Event(), threading.Event()
    other = threading.Thread(target=_hold_write_lock, args=(tmp_path / "inline.db", held, release))
    other.start()

    async def turn() -> None:
        async with store.turn(ALICE) as scope:
            await scope.save({"n": 2}, lines(1, start=1), last=True, memo=memo)

    try:
        assert await asyncio.to_thread(held.wait, 10)
        saving = asyncio.create_task(turn())  # waits for the file on the worker thread
        await asyncio.sleep(0.05)
        forgetting = asyncio.create_task(store.forget(ALICE))  # queued behind it
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.wait_for(asyncio.gather(saving, forgetting), 10)
    finally:
        release.set()
        await asyncio.to_thread(other.join, 10)
    assert await store.load_session(ALICE) is None
    assert len(store._recent) == 0  # the turn saved after the forget began: not kept either
    async with store.turn(ALICE) as scope:
        assert scope.loaded is None
        assert scope.memo is None


async def test_turns_touch_the_user_to_within_two_minutes(tmp_path: Path) -> None:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    now = [start]
    store = SqliteStore(tmp_path / "touch2.db", clock=lambda: now[0])
    await store.open()

    async def turn_at(seconds: int) -> int:
        """Seconds after `start` of the user's "last touched", after a turn at `seconds`."""
        now[0] = start + timedelta(seconds=seconds)
        async with store.turn(ALICE) as scope:
            await scope.save({"s": seconds}, [], last=True, memo=seconds)
        rows = await store._query("SELECT touched_us FROM users")
        return int(rows[0][0]) // 1_000_000 - int(start.timestamp())

    try:
        assert [await turn_at(s) for s in (0, 30, 59, 61, 100, 150)] == [0, 0, 0, 61, 61, 150]
    finally:
        await store.close()


async def test_a_failed_save_leaves_the_lock_free(store: SqliteStore) -> None:
    bad = [TranscriptLine(datetime(2026, 1, 1), "user", "naive time")]  # refused: no tzinfo
    with pytest.raises(ValueError):
        async with store.turn(ALICE) as scope:
            await scope.save({"n": 1}, bad, last=True)
    assert await store.load_session(ALICE) is None  # nothing half written
    async with store.turn(ALICE, timeout=0.2) as scope:
        assert scope.loaded is None


async def test_the_default_turn_is_lock_load_save_and_append(store: SqliteStore) -> None:
    # What every backend gets from bot/store/base.py unless it overrides `turn`.
    async with Store.turn(store, ALICE) as scope:
        assert type(scope) is TurnScope
        assert scope.loaded is None
        await scope.save({"n": 1}, lines(1), last=True)
        with pytest.raises(LockTimeout):
            async with store.lock(ALICE, timeout=0.1):
                pass
    assert await store.load_session(ALICE) == {"n": 1}
    assert await store.transcript(ALICE) == lines(1)


async def test_an_expired_claim_starts_afresh_without_its_answer(store: SqliteStore) -> None:
    assert await store.claim_once("wx", "1", ttl=0.1)
    await store.set_result("wx", "1", "first answer", ttl=0.1)
    await asyncio.sleep(0.2)
    assert await store.claim_once("wx", "1", ttl=30)
    assert await store.get_result("wx", "1") is None
    assert not await store.claim_once("wx", "1", ttl=30)


async def test_a_value_kept_for_good_is_never_replaced_if_absent(store: SqliteStore) -> None:
    await store.kv_set("k", "forever")
    assert not await store.kv_set_if_absent("k", "other", ttl=1)
    assert await store.kv_get("k") == "forever"


async def test_last_touch_is_kept_to_the_minute(tmp_path: Path) -> None:
    now = [datetime(2026, 11, 20, tzinfo=UTC)]
    store = SqliteStore(tmp_path / "touch.db", clock=lambda: now[0])
    await store.open()
    try:

        async def touched() -> int:
            rows = await store._query("SELECT touched_us FROM users")
            return int(rows[0][0])

        await store.save_session(ALICE, {})
        first = await touched()
        now[0] += timedelta(seconds=30)
        await store.append_transcript(ALICE, lines(1))
        assert await touched() == first  # not rewritten on every message
        now[0] += timedelta(seconds=31)
        await store.save_session(ALICE, {})
        assert await touched() == first + 61_000_000
        assert TOUCH_GRAIN_US == 60_000_000
        now[0] -= timedelta(days=1)  # a clock set back is followed, as before
        await store.save_session(ALICE, {})
        assert await touched() < first
    finally:
        await store.close()


def _wal_sequence(wal: Path) -> int:
    """The WAL header's checkpoint sequence number: bumped each time the WAL starts over."""
    with wal.open("rb") as f:
        return int.from_bytes(f.read(16)[12:16], "big")


async def test_the_loop_finishes_a_checkpoint_so_the_wal_starts_over(
    store: SqliteStore, tmp_path: Path
) -> None:
    # Under steady load inline commits go on while the worker checkpoints, so the WAL is never
    # entirely copied and would never start over: it would grow for as long as the load lasts.
    worker, wal = store._worker, tmp_path / "inline.db-wal"

    async def write(n: int) -> None:
        for i in range(n):
            await store.save_turn(UserKey("wechat", f"u{i % 7}"), {"pad": "填" * 300}, lines(1))

    await write(60)
    pages = await worker.call(worker._checkpoint_work)
    assert pages > 0
    await write(5)  # committed while the worker was copying
    before = _wal_sequence(wal)
    await write(1)
    assert _wal_sequence(wal) == before  # not entirely copied: the WAL goes on growing

    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    done.set_result(sqlite_worker.WAL_RESTART_PAGES)  # the worker found the WAL big
    worker._finish_checkpoint(done)
    await write(1)
    assert _wal_sequence(wal) == before + 1  # started over from its beginning


async def test_checkpoints_are_asked_of_the_worker_every_so_many_commits(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    real = store._worker._checkpoint_work

    def spy() -> int:
        asked.append(1)
        return real()

    monkeypatch.setattr(store._worker, "_checkpoint_work", spy)
    for i in range(sqlite_worker.CHECKPOINT_EVERY * 3):
        await store.kv_set("k", str(i))
        await asyncio.sleep(0)
    assert 1 <= len(asked) <= 3


async def test_memory_store_runs_everything_on_its_one_connection() -> None:
    store = SqliteStore(":memory:")
    await store.open()
    try:
        await store.save_session(ALICE, {"a": 1})
        async with store.turn(ALICE) as scope:
            assert scope.loaded == {"a": 1}
            await scope.save({"a": 2}, lines(1), last=True)
        assert await store.load_session(ALICE) == {"a": 2}
        assert await store.purge(datetime.now(UTC) + timedelta(days=1)) == 2
    finally:
        await store.close()


async def test_states_json_round_trip_with_any_text(store: SqliteStore) -> None:
    state: dict[str, Any] = {
        "text": '引号"、反斜杠\\、换行\n、emoji 🙂、\u2028',
        "n": [1, 2.5, None, True, 10**15],
        "nested": {"k": {"v": []}},
    }
    await store.save_session(ALICE, state)
    assert await store.load_session(ALICE) == state
    # Written by json before orjson was used (NaN is only json's): still read.
    await store._write1(
        "UPDATE sessions SET state = ? WHERE channel = ? AND user = ?",
        '{"x": NaN, "y": "旧"}',
        ALICE.channel,
        ALICE.user,
    )
    loaded = await store.load_session(ALICE)
    assert loaded is not None
    assert loaded["y"] == "旧"
    assert math.isnan(loaded["x"])


async def test_inline_calls_are_quick(store: SqliteStore) -> None:
    # The point of running them inline: a message's statements cost microseconds, not a
    # thread hop each. Generous bound: a loaded CI machine must pass it too.
    started = time.perf_counter()
    for i in range(200):
        async with store.turn(UserKey("wechat", f"u{i % 10}")) as scope:
            await scope.save({"i": i}, lines(2), last=True)
    assert (time.perf_counter() - started) / 200 < 0.01


async def test_what_only_json_can_write_is_still_written(store: SqliteStore) -> None:
    await store.save_session(ALICE, {"big": 10**30, "keys": {1: "one"}})
    assert await store.load_session(ALICE) == {"big": 10**30, "keys": {"1": "one"}}


async def test_turns_that_save_at_the_same_moment_commit_together(store: SqliteStore) -> None:
    users = [UserKey("wechat", f"u{i}") for i in range(6)]
    begun: list[str] = []
    conn = store._worker._inline
    assert conn is not None
    conn.set_trace_callback(lambda sql: begun.append(sql) if sql.startswith("BEGIN") else None)

    async def turn(key: UserKey, n: int) -> None:
        async with store.turn(key) as scope:
            await scope.save({"n": n}, lines(1), last=True)

    await asyncio.gather(*(turn(key, n) for n, key in enumerate(users)))
    conn.set_trace_callback(None)
    assert len(begun) == 1  # six turns, one transaction
    for n, key in enumerate(users):
        assert await store.load_session(key) == {"n": n}
        assert await store.transcript(key) == lines(1)


async def test_a_conflict_in_a_group_fails_only_its_own_turn(
    two: tuple[SqliteStore, SqliteStore],
) -> None:
    a, b = two
    for key in (ALICE, BOB):
        async with a.turn(key) as scope:
            await scope.save({"n": 1}, [], last=True)
    # Another worker moves Alice on: this process's copy of her session is out of date.
    async with b.turn(ALICE, exclusive=True) as scope:
        await scope.save({"n": 2}, lines(1), last=True)

    async def turn(key: UserKey) -> None:
        async with a.turn(key) as scope:
            await scope.save({"n": 99}, lines(1, start=5), last=True)

    alice, bob = await asyncio.gather(turn(ALICE), turn(BOB), return_exceptions=True)
    assert isinstance(alice, TurnConflict)
    assert bob is None
    assert await b.load_session(ALICE) == {"n": 2}
    assert await b.transcript(ALICE) == lines(1)
    assert await b.load_session(BOB) == {"n": 99}
    assert await b.transcript(BOB) == lines(1, start=5)


async def test_a_save_cancelled_before_its_group_commits_writes_nothing(
    store: SqliteStore,
) -> None:
    async def turn(key: UserKey, n: int) -> None:
        async with store.turn(key) as scope:
            await scope.save({"n": n}, lines(1), last=True)

    cancelled = asyncio.create_task(turn(ALICE, 1))
    kept = asyncio.create_task(turn(BOB, 2))
    for _ in range(100):  # until both wait for their group's commit
        if len(store._worker._group) == 2:
            break
        await asyncio.sleep(0)
    assert len(store._worker._group) == 2
    cancelled.cancel()
    await asyncio.gather(cancelled, kept, return_exceptions=True)
    assert cancelled.cancelled()
    assert await store.load_session(ALICE) is None
    assert await store.transcript(ALICE) == []
    assert await store.load_session(BOB) == {"n": 2}


async def test_sessions_written_as_text_before_are_checked_and_saved_alike(
    store: SqliteStore,
) -> None:
    # Earlier versions bound the session as a str; turns now compare and write UTF-8 bytes.
    await store._write1(
        "INSERT INTO sessions(channel, user, state) VALUES (?, ?, ?)",
        ALICE.channel,
        ALICE.user,
        '{"step":"等级"}',
    )
    async with store.turn(ALICE) as scope:
        assert scope.loaded == {"step": "等级"}
        await scope.save({"step": "地点"}, lines(1), last=True)
    rows = await store._get("SELECT typeof(state), state FROM sessions")
    assert rows == [("text", '{"step":"地点"}')]


async def test_a_session_with_a_lone_surrogate_is_kept_exactly(store: SqliteStore) -> None:
    # Telegram's JSON can carry one; it is not UTF-8, so orjson refuses it.
    state = {"text": "半个\ud83d表情"}
    async with store.turn(ALICE) as scope:
        await scope.save(state, [], last=True)
    assert await store.load_session(ALICE) == state
    async with store.turn(ALICE) as scope:
        assert scope.loaded == state
        await scope.save({"text": "好"}, [], last=True)
    assert await store.load_session(ALICE) == {"text": "好"}


async def test_purge_drops_inbox_items_nobody_processed_since_the_cutoff(
    store: SqliteStore,
) -> None:
    await store.inbox_add("telegram", "1", "{}", 0.0)
    await store.purge(datetime.now(UTC) - timedelta(days=1))
    assert [item for item, _, _ in await store.inbox_take("telegram", 60)] == ["1"]
    await store.purge(datetime.now(UTC) + timedelta(days=1))
    await store.inbox_add("telegram", "2", "{}", 0.0)
    assert [item for item, _, _ in await store.inbox_take("telegram", 60)] == ["2"]
