"""The Store contract on SQLite, plus what only a file-backed store can show: persistence
across reopening, the lock shared by two stores (two processes) on one file, WAL mode."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from store_contract import ALICE, MakeStore, StoreContract, lines

from bot.errors import ConfigError
from bot.store.base import LockTimeout, Store, StoreError, UserKey
from bot.store.factory import open_store, sqlite_path, store_url
from bot.store.sqlite import SqliteStore


@pytest.fixture
async def make_store(tmp_path: Path) -> AsyncIterator[MakeStore]:
    opened: list[Store] = []

    async def make(**options: Any) -> Store:
        store = SqliteStore(tmp_path / "jifen.sqlite3", **options)
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


@pytest.fixture
async def store(make_store: MakeStore) -> Store:
    return await make_store()


class TestSqliteContract(StoreContract):
    pass


async def test_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "x.db"  # missing folders are made
    first = SqliteStore(path)
    await first.open()
    await first.save_session(ALICE, {"step": "grade"})
    await first.append_transcript(ALICE, lines(2))
    await first.close()
    second = SqliteStore(path)
    await second.open()
    try:
        assert await second.load_session(ALICE) == {"step": "grade"}
        assert await second.transcript(ALICE) == lines(2)
    finally:
        await second.close()


async def test_wal_mode(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "w.db")
    await store.open()
    await store.close()
    with sqlite3.connect(tmp_path / "w.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_lock_is_shared_by_two_stores_on_one_file(tmp_path: Path) -> None:
    a, b = SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db")
    await a.open()
    await b.open()
    try:
        async with a.lock(ALICE):
            with pytest.raises(LockTimeout):
                async with b.lock(ALICE, timeout=0.2):
                    pytest.fail("two stores held one user's lock")
        async with b.lock(ALICE, timeout=1):
            pass
    finally:
        await a.close()
        await b.close()


async def test_a_dead_holders_lock_expires(tmp_path: Path) -> None:
    a = SqliteStore(tmp_path / "s.db", lock_lease=0.3)
    b = SqliteStore(tmp_path / "s.db", lock_lease=0.3)
    await a.open()
    await b.open()
    try:
        held = a.lock(ALICE)
        await held.__aenter__()  # and never leaves: a process killed while holding it
        started = time.monotonic()
        async with b.lock(ALICE, timeout=5):
            assert time.monotonic() - started >= 0.2
    finally:
        await a.close()
        await b.close()


def _hold_in_another_process(path: str, ready: Any, release: Any) -> None:
    async def run() -> None:
        store = SqliteStore(path)
        await store.open()
        async with store.lock(ALICE):
            ready.set()
            await asyncio.to_thread(release.wait, 10)
        await store.close()

    asyncio.run(run())


async def test_lock_across_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "p.db")
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold_in_another_process, args=(path, ready, release))
    child.start()
    store = SqliteStore(path)
    await store.open()
    try:
        assert await asyncio.to_thread(ready.wait, 30)
        with pytest.raises(LockTimeout):
            async with store.lock(ALICE, timeout=0.3):
                pytest.fail("the other process holds it")
        release.set()
        async with store.lock(ALICE, timeout=10):
            pass
    finally:
        release.set()
        await asyncio.to_thread(child.join, 30)
        await store.close()
    assert child.exitcode == 0


async def test_closed_store_raises_store_error(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "c.db")
    with pytest.raises(StoreError):
        await store.load_session(ALICE)
    await store.open()
    await store.close()
    with pytest.raises(StoreError):
        await store.save_session(ALICE, {})
    assert await store.ping() is False


async def test_unreadable_file_is_a_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    store = SqliteStore(bad)
    with pytest.raises(StoreError):
        await store.open()


async def test_users_lists_who_has_data(store: Store) -> None:
    assert isinstance(store, SqliteStore)
    await store.save_session(ALICE, {})
    await store.append_transcript(UserKey("terminal", "z"), lines(1))
    assert await store.users() == [UserKey("terminal", "z"), ALICE]


# The factory -------------------------------------------------------------------------------


def test_sqlite_urls() -> None:
    assert sqlite_path("sqlite:///x.db") == "x.db"
    assert sqlite_path("sqlite:////tmp/x.db") == "/tmp/x.db"
    assert sqlite_path("sqlite:///:memory:") == ":memory:"
    with pytest.raises(ConfigError):
        sqlite_path("sqlite://host/x.db")
    with pytest.raises(ConfigError):
        sqlite_path("sqlite://")


def test_store_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIFEN_STORE", "sqlite:////srv/j.db")
    assert store_url() == "sqlite:////srv/j.db"
    assert store_url("sqlite:///given.db") == "sqlite:///given.db"
    monkeypatch.delenv("JIFEN_STORE")
    assert store_url().startswith("sqlite:///")
    assert store_url().endswith("jifen-bot.sqlite3")


def test_open_store_schemes(tmp_path: Path) -> None:
    assert isinstance(open_store(f"sqlite:///{tmp_path}/f.db"), SqliteStore)
    with pytest.raises(ConfigError, match="unknown store scheme"):
        open_store("postgres://localhost/db")
