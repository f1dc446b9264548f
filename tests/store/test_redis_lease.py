"""Lease claims on dedupe keys: a worker that dies mid-answer is taken over after its lease;
one that lives on renews and keeps the message; exactly one holder may record the answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore

NS = "wechat"
LEASE = 0.2
TTL = 30.0


@pytest.fixture
async def pair(redis_url: str) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    a, b = RedisStore(redis_url, share_pool=False), RedisStore(redis_url, share_pool=False)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def test_one_holder_at_a_time(pair: tuple[RedisStore, RedisStore]) -> None:
    wins = await asyncio.gather(
        *(w.claim_lease(NS, "m1", f"t{n}", LEASE, TTL) for n, w in enumerate(pair * 10))
    )
    assert wins.count(True) == 1
    assert await pair[1].get_result(NS, "m1") is None  # claimed, not answered


async def test_a_dead_holder_is_taken_over_after_its_lease(
    pair: tuple[RedisStore, RedisStore],
) -> None:
    a, b = pair
    assert await a.claim_lease(NS, "m1", "dead", LEASE, TTL)
    assert not await b.claim_lease(NS, "m1", "retry", LEASE, TTL)
    await asyncio.sleep(LEASE + 0.05)  # "dead" never renews
    assert await b.claim_lease(NS, "m1", "retry", LEASE, TTL)
    # The old holder, should it come back, can neither renew nor answer.
    assert not await a.renew_lease(NS, "m1", "dead", LEASE)
    assert not await a.settle_lease(NS, "m1", "dead", "stale answer", TTL)
    assert await b.settle_lease(NS, "m1", "retry", "answer", TTL)
    assert await a.get_result(NS, "m1") == "answer"
    assert not await a.claim_lease(NS, "m1", "third", LEASE, TTL)


async def test_a_live_holder_keeps_the_message_by_renewing(
    pair: tuple[RedisStore, RedisStore],
) -> None:
    a, b = pair
    assert await a.claim_lease(NS, "m1", "alive", LEASE, TTL)
    for _ in range(4):  # twice the lease in all
        await asyncio.sleep(LEASE / 2)
        assert await a.renew_lease(NS, "m1", "alive", LEASE)
        assert not await b.claim_lease(NS, "m1", "retry", LEASE, TTL)
    assert await a.settle_lease(NS, "m1", "alive", "answer", TTL)
    assert not await b.settle_lease(NS, "m1", "retry", "other", TTL)  # answered already
    assert await b.get_result(NS, "m1") == "answer"


async def test_a_plain_claim_is_never_taken_over(redis_store: RedisStore) -> None:
    assert await redis_store.claim_once(NS, "m1", TTL)
    await asyncio.sleep(LEASE + 0.05)
    assert not await redis_store.claim_lease(NS, "m1", "retry", LEASE, TTL)


async def test_the_record_expires_with_its_ttl(redis_store: RedisStore) -> None:
    assert await redis_store.claim_lease(NS, "m1", "a", 10.0, 0.2)
    await asyncio.sleep(0.3)
    assert await redis_store.claim_lease(NS, "m1", "b", 10.0, TTL)


async def test_stores_without_leases_fall_back_to_claim_once() -> None:
    store = SqliteStore(":memory:")
    await store.open()
    try:
        assert await store.claim_lease(NS, "m1", "a", LEASE, TTL)
        await asyncio.sleep(LEASE + 0.05)
        assert not await store.claim_lease(NS, "m1", "b", LEASE, TTL)  # no takeover
        assert await store.renew_lease(NS, "m1", "a", LEASE)
        assert await store.settle_lease(NS, "m1", "a", "answer", TTL)
        assert await store.get_result(NS, "m1") == "answer"
    finally:
        await store.close()
