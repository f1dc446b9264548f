"""Two workers behind one port on Redis: one user's messages run one at a time and in arrival
order whichever worker got them, and a WeChat retry reaching the other worker gets the first
worker's answer.

To make the race real, the test itself holds the user's lock (as a slow earlier message would)
while the messages arrive, each on a connection to a known worker, and lets go once all of them
are queued.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import redis as redis_client
from store.redis_server import RedisServer

from bot.store.base import UserKey
from bot.store.redis import RedisStore
from bot.store.redis_support import user_hash

from .cluster import SCRIPT, conns_per_worker
from .conftest import MakeCluster


@pytest.fixture
async def store(redis: RedisServer) -> AsyncIterator[RedisStore]:
    s = RedisStore(redis.url)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


def waiting(redis: RedisServer, user: UserKey) -> Callable[[], int]:
    """How many messages of `user` wait in the lock's queue."""
    admin = redis_client.Redis.from_url(redis.url)
    queue = f"jifen:u:{{{user_hash(user)}}}:lq"
    return lambda: int(admin.zcard(queue))


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail("condition not met in time")


async def test_one_users_messages_run_in_arrival_order_across_workers(
    cluster: MakeCluster, redis: RedisServer, store: RedisStore, answers: list[str]
) -> None:
    node = cluster()
    steps = 6
    conns = await conns_per_worker(node.port, workers=2, each=steps // 2)  # A, B, A, B, ...
    user = UserKey("wechat", "oOrderUser000000000000000001")
    queued = waiting(redis, user)
    sends = []
    async with store.lock(user, timeout=5):
        for step in range(steps):
            sends.append(
                asyncio.create_task(conns[step].send(user.user, SCRIPT[step], 8_000_000 + step))
            )
            # The next message leaves only once this one waits in the queue: arrival order.
            await until(lambda n=step + 1: queued() >= n)
    got = await asyncio.gather(*sends)

    assert len({g.worker for g in got}) == 2  # both workers took part
    # Each answer is the one a single process gives to the same messages in the same order:
    # no message overtook another, none ran on a state another was still changing.
    assert [g.content for g in got] == answers[:steps]
    said = [line.text for line in await store.transcript(user) if line.sender == "user"]
    assert said == list(SCRIPT[:steps])


async def test_a_retry_on_the_other_worker_gets_the_first_answer(
    cluster: MakeCluster, store: RedisStore, answers: list[str]
) -> None:
    node = cluster()
    first_conn, retry_conn = await conns_per_worker(node.port, workers=2, each=1)
    user = UserKey("wechat", "oRetryUser000000000000000001")
    async with store.lock(user, timeout=5):  # the first delivery is slow to answer
        first = asyncio.create_task(first_conn.send(user.user, SCRIPT[0], 8_100_000))
        await asyncio.sleep(0.3)
        # WeChat gave up waiting and delivers again; this time the other worker gets it.
        retry = asyncio.create_task(retry_conn.send(user.user, SCRIPT[0], 8_100_000))
        await asyncio.sleep(0.3)
    one, two = await asyncio.gather(first, retry)

    assert one.worker != two.worker
    assert one.content == two.content == answers[0]
    said = [line.text for line in await store.transcript(user) if line.sender == "user"]
    assert said == [SCRIPT[0]]  # run once
    # And a retry after the answer, on either worker, gets it again without running it.
    for conn in (first_conn, retry_conn):
        again = await conn.send(user.user, SCRIPT[0], 8_100_000)
        assert again.content == answers[0]
    metrics = await node.metrics()
    assert metrics['jifen_dedupe_hits_total{channel="wechat"}'] == 3
    assert metrics['jifen_messages_total{channel="wechat"}'] == 1
