"""The Store contract (tests/store_contract.py, shared with SQLite) against RedisStore on a
real server, plus what is particular to the Redis layout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from store_contract import ALICE, BOB, T0, MakeStore, StoreContract, lines

from bot.store.base import Store, UserKey
from bot.store.redis import RedisStore


@pytest.fixture
async def make_store(redis_url: str) -> AsyncIterator[MakeStore]:
    opened: list[Store] = []

    async def make(**options: Any) -> Store:
        store = RedisStore(redis_url, **options)
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


@pytest.fixture
async def store(make_store: MakeStore) -> Store:
    return await make_store()


class TestRedisContract(StoreContract):
    pass


async def test_transcript_is_capped(make_store: MakeStore) -> None:
    store = await make_store(transcript_cap=5)
    await store.append_transcript(ALICE, lines(4))
    await store.append_transcript(ALICE, lines(4, start=4))
    assert await store.transcript(ALICE) == lines(5, start=3)


async def test_forget_leaves_no_key_of_the_user(store: Store, admin: redis.Redis) -> None:
    for key in (ALICE, BOB):
        await store.save_session(key, {"a": 1})
        await store.append_transcript(key, lines(3))
    async with store.lock(ALICE):
        pass
    await store.forget(ALICE)
    await store.forget(BOB)
    assert admin.keys("*") == []  # not even an entry in the purge index


async def test_purge_many_users_in_batches(make_store: MakeStore) -> None:
    store = await make_store(clock=lambda: T0)
    for i in range(450):  # more than two of the purge script's batches
        await store.save_session(UserKey("terminal", f"u{i}"), {"i": i})
    assert await store.purge(T0 + timedelta(seconds=1)) == 450
    assert await store.load_session(UserKey("terminal", "u7")) is None


async def test_the_factory_opens_redis_urls(redis_url: str) -> None:
    from bot.store.factory import open_store

    store = open_store(redis_url)
    assert isinstance(store, RedisStore)
    await store.open()
    try:
        assert await store.ping() is True
    finally:
        await store.close()
