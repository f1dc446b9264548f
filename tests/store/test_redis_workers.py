"""Several workers on one Redis: each RedisStore here has its own connection pool, as two
processes would. Dedupe, lock exclusion, per-user ordering, lock leases, TTLs, key names."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
import redis

from bot.store.base import LockTimeout, TranscriptLine, UserKey
from bot.store.redis import RedisStore
from bot.store.redis_lock import LockSettings
from bot.store.redis_support import user_hash

ALICE = UserKey("wechat", "oAbC-123_openid")


async def until(condition: Callable[[], object], within: float = 5.0) -> None:
    for _ in range(int(within / 0.002)):
        if condition():
            return
        await asyncio.sleep(0.002)
    pytest.fail("condition not met in time")


@pytest.fixture
async def workers(redis_url: str) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    a = RedisStore(redis_url, share_pool=False)
    b = RedisStore(redis_url, share_pool=False)
    await a.open()
    await b.open()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def test_dedupe_across_workers(workers: tuple[RedisStore, RedisStore]) -> None:
    a, b = workers
    claims = await asyncio.gather(*(w.claim_once("wx", "m1", 30) for w in workers * 25))
    assert claims.count(True) == 1
    # The winner answers; a retry that lands on the other worker picks the answer up.
    await a.set_result("wx", "m1", "答复", 30)
    assert await b.get_result("wx", "m1") == "答复"
    assert await b.claim_once("wx", "m1", 30) is False


async def test_lock_excludes_across_workers(workers: tuple[RedisStore, RedisStore]) -> None:
    inside = 0
    most = 0
    done = 0

    async def handle(worker: RedisStore) -> None:
        nonlocal inside, most, done
        async with worker.lock(ALICE, timeout=10):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.005)
            inside -= 1
            done += 1

    await asyncio.gather(*(handle(w) for w in workers * 10))
    assert (most, done) == (1, 20)


async def test_one_users_messages_keep_arrival_order(
    workers: tuple[RedisStore, RedisStore], admin: redis.Redis
) -> None:
    """While a message is being handled, later ones queue on either worker and are let in
    first come, first served, not in whatever order they happen to poll."""
    queue = f"jifen:u:{{{user_hash(ALICE)}}}:lq"
    handled: list[int] = []

    async def message(n: int) -> None:
        async with workers[n % 2].lock(ALICE, timeout=10):
            handled.append(n)
            await asyncio.sleep(0.002)

    def queued(count: int) -> Callable[[], bool]:
        return lambda: int(admin.zcard(queue)) >= count

    tasks = []
    async with workers[0].lock(ALICE):
        for n in range(8):
            tasks.append(asyncio.create_task(message(n)))
            # The next message arrives only once this one has joined the queue.
            await until(queued(n + 1))
    await asyncio.gather(*tasks)
    assert handled == list(range(8))


async def test_the_lock_is_handed_over_without_polling(redis_url: str) -> None:
    """Release tells the next waiter, in whichever worker, that it is its turn: with polling
    slowed to once a second, ten hand-overs still take a fraction of a second."""
    slow = LockSettings(poll=1.0, max_poll=1.0, stale=5.0)
    a = RedisStore(redis_url, lock_settings=slow, share_pool=False)
    b = RedisStore(redis_url, lock_settings=slow, share_pool=False)
    handled: list[int] = []

    async def message(n: int) -> None:
        async with (a, b)[n % 2].lock(ALICE, timeout=10):
            handled.append(n)

    try:
        for store in (a, b):  # both listening before the test starts
            async with store.lock(UserKey("warm", "up")):
                pass
        await asyncio.sleep(0.2)
        began = asyncio.get_running_loop().time()
        await asyncio.gather(*(message(n) for n in range(10)))
        assert asyncio.get_running_loop().time() - began < 0.9
        assert sorted(handled) == list(range(10))
    finally:
        await a.close()
        await b.close()


async def test_two_users_do_not_wait_for_each_other(
    workers: tuple[RedisStore, RedisStore],
) -> None:
    a, b = workers
    async with a.lock(ALICE), b.lock(UserKey("wechat", "someone-else"), timeout=0.2):
        pass


async def test_cancelled_waiter_leaves_the_queue_at_once(
    workers: tuple[RedisStore, RedisStore],
) -> None:
    a, b = workers

    async def wait() -> None:
        async with b.lock(ALICE, timeout=10):
            pytest.fail("the cancelled waiter got the lock")

    async with a.lock(ALICE):
        waiter = asyncio.create_task(wait())
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    # Well under the 2 s after which a silent waiter would be dropped.
    async with b.lock(ALICE, timeout=0.3):
        pass


async def test_silent_waiter_is_dropped(redis_url: str, admin: redis.Redis) -> None:
    """A worker that crashed while waiting cannot block the user for longer than `stale`."""
    store = RedisStore(redis_url, lock_settings=LockSettings(stale=0.2))
    base = f"jifen:u:{{{user_hash(ALICE)}}}:"
    try:
        admin.zadd(f"{base}lq", {"ghost": 0})  # at the head of the queue, never polls again
        admin.zadd(f"{base}lqd", {"ghost": 0})
        async with store.lock(ALICE, timeout=2):
            pass
    finally:
        await store.close()


async def test_crashed_holder_blocks_only_one_lease(redis_url: str, admin: redis.Redis) -> None:
    store = RedisStore(redis_url)
    try:
        admin.set(f"jifen:u:{{{user_hash(ALICE)}}}:lock", "dead-worker", px=300)
        with pytest.raises(LockTimeout):
            async with store.lock(ALICE, timeout=0.1):
                pass
        async with store.lock(ALICE, timeout=2):
            pass
    finally:
        await store.close()


async def test_lease_is_renewed_while_held(redis_url: str) -> None:
    short = LockSettings(lease=0.3)
    a = RedisStore(redis_url, lock_settings=short, share_pool=False)
    b = RedisStore(redis_url, lock_settings=short, share_pool=False)
    try:
        async with a.lock(ALICE):
            # Three leases long: without renewal the other worker would get in.
            with pytest.raises(LockTimeout):
                async with b.lock(ALICE, timeout=0.9):
                    pass
        async with b.lock(ALICE, timeout=0.5):
            pass
    finally:
        await a.close()
        await b.close()


async def test_every_key_is_namespaced_and_has_no_user_id(
    redis_store: RedisStore, admin: redis.Redis
) -> None:
    await redis_store.save_session(ALICE, {"a": 1})
    await redis_store.append_transcript(ALICE, [TranscriptLine(_now(), "user", "hi")])
    await redis_store.claim_once("wx", "1", 30)
    await redis_store.kv_set("wx:token", "t", 60)
    async with redis_store.lock(ALICE):
        keys = admin.keys("*")
    assert keys
    assert all(str(k).startswith("jifen:") for k in keys), keys
    assert not [k for k in keys if ALICE.user in str(k)]


async def test_user_data_expires_after_retention(redis_url: str, admin: redis.Redis) -> None:
    store = RedisStore(redis_url, retention=1)
    try:
        await store.save_session(ALICE, {"a": 1})
        await store.append_transcript(ALICE, [TranscriptLine(_now(), "user", "hi")])
        base = f"jifen:u:{{{user_hash(ALICE)}}}:"
        for suffix in ("sess", "tr", "keys"):
            assert 0 < admin.pttl(base + suffix) <= 1000
        await asyncio.sleep(1.2)
        assert await store.load_session(ALICE) is None
        assert await store.transcript(ALICE) == []
    finally:
        await store.close()


async def test_writes_slide_the_retention_ttl(admin: redis.Redis, redis_url: str) -> None:
    store = RedisStore(redis_url)
    try:
        await store.save_session(ALICE, {"a": 1})
        sess = f"jifen:u:{{{user_hash(ALICE)}}}:sess"
        admin.expire(sess, 5)
        await store.append_transcript(ALICE, [TranscriptLine(_now(), "user", "hi")])
        assert admin.ttl(sess) > 29 * 24 * 3600  # a transcript line renews the session too
    finally:
        await store.close()


async def test_stores_in_one_worker_share_a_pool(redis_url: str) -> None:
    a, b = RedisStore(redis_url), RedisStore(redis_url)
    await a.open()
    await b.open()
    try:
        assert a._pool is b._pool
    finally:
        await a.close()
        assert await b.ping()  # closing one store leaves the shared pool to the other
        await b.close()


def _now() -> datetime:
    return datetime.now(UTC)
