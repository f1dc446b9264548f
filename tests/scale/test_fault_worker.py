"""Under load, one of two workers is killed (SIGKILL, mid-answer): no message the bot had taken
on is lost, none is answered twice, and the surviving worker carries on.

The test plays WeChat for a crowd of users, each going through the script as fast as the
answers come: a keep-alive connection per user, the next message once the last one is answered,
either by the passive reply or, after `success`, by a customer-service message (the API
double). A delivery whose connection breaks is retried on a new connection, at most three
deliveries in all, as WeChat does. Each user must end up with exactly the answers one process
gives to the script, in order, and no customer-service message to spare.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

from auxil.wechat_double import WeChatDouble
from store.redis_server import RedisServer

from bot.store.base import UserKey
from bot.store.redis import RedisStore
from bot.store.redis_support import user_hash

from .cluster import SCRIPT, Cluster, Conn, conns_per_worker
from .conftest import ROUNDS, MakeCluster

USERS = 16
STUCK = (0, 2)  # users on the victim whose message is caught mid-answer for sure
TRIES = 3  # WeChat delivers a message at most three times
ANSWER_WAIT = 20.0  # seconds a late answer may take to come by customer-service message


class WeChat:
    """WeChat's servers for the test users: deliveries, retries, customer-service inbox."""

    def __init__(self, node: Cluster, double: WeChatDouble) -> None:
        self.node = node
        self.double = double
        self.read: dict[str, int] = {}  # customer-service messages consumed per user
        self.retries = 0
        self.answered = 0
        self.kill_at = 0
        self.time_to_kill = asyncio.Event()

    async def deliver(self, conn: Conn, openid: str, text: str, msg_id: int) -> str:
        for _ in range(TRIES):
            try:
                got = await asyncio.wait_for(conn.send(openid, text, msg_id), 10)
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                # The worker died with the request: deliver again, on a new connection.
                self.retries += 1
                conn.close()
                continue
            assert got.status == 200
            self.answered += 1
            if self.answered == self.kill_at:
                self.time_to_kill.set()
            if got.content is not None:
                return got.content
            return await self.inbox(openid)  # `success`: the answer comes separately
        raise AssertionError(f"message {msg_id} of {openid}: {TRIES} deliveries failed")

    async def inbox(self, openid: str) -> str:
        """The user's next customer-service message."""
        seen = self.read.get(openid, 0)
        deadline = time.monotonic() + ANSWER_WAIT
        while time.monotonic() < deadline:
            mine = [m.content for m in self.double.sent if m.touser == openid]
            if len(mine) > seen:
                self.read[openid] = seen + 1
                return mine[seen]
            await asyncio.sleep(0.02)
        raise AssertionError(f"{openid}: answered `success`, but no message followed")

    def unread(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in self.double.sent:
            counts[m.touser] = counts.get(m.touser, 0) + 1
        return {u: n - self.read.get(u, 0) for u, n in counts.items() if n > self.read.get(u, 0)}


async def test_a_worker_killed_under_load(
    cluster: MakeCluster, redis: RedisServer, double: WeChatDouble, answers: list[str]
) -> None:
    # A short budget makes the late path (success, then 客服) part of the test too.
    node = cluster(JIFEN_WECHAT_BUDGET="1.5")
    conns = await conns_per_worker(node.port, workers=2, each=USERS // 2)
    victim = node.pid_of(await conns[0].worker())  # the worker of users 0, 2, 4, ...
    store = RedisStore(redis.url)
    wechat = WeChat(node, double)
    script = SCRIPT * ROUNDS
    total = USERS * len(script)
    got: dict[str, list[str]] = {}

    def openid_of(n: int) -> str:
        return f"oFaultUser{n:018d}"

    async def user(n: int) -> None:
        openid = openid_of(n)
        got[openid] = []
        for step, text in enumerate(script):
            answer = await wechat.deliver(conns[n], openid, text, 9_000_000 + n * 1000 + step)
            got[openid].append(answer)

    wechat.kill_at = total // 3

    async def killer() -> None:
        await wechat.time_to_kill.wait()
        # Most kills catch some message between claim and answer; to be sure, two users'
        # next messages are held back (the test holds their locks, as a slow turn would)
        # until the worker has claimed them, and the kill comes then.
        async with AsyncExitStack() as held:
            for n in STUCK:
                await held.enter_async_context(store.lock(UserKey("wechat", openid_of(n)), 10))
            queues = [f"jifen:u:{{{user_hash(UserKey('wechat', openid_of(n)))}}}:lq" for n in STUCK]
            await until_queued(redis, queues)
            node.kill(victim)  # and half the users have a message in flight on it anyway

    began = time.monotonic()
    try:
        await asyncio.gather(killer(), *(user(n) for n in range(USERS)))
    finally:
        await store.close()
    took = time.monotonic() - began

    # Nothing lost, nothing twice, nothing out of order: every user has exactly the answers
    # a single process gives, and no customer-service message is left over.
    for openid, answered in got.items():
        assert answered == answers[: len(script)], openid
    await asyncio.sleep(1.0)  # a duplicate would be on its way by now
    assert wechat.unread() == {}
    assert wechat.retries > 0  # the kill did cut requests off

    store = RedisStore(redis.url)
    try:
        for openid in got:
            lines = await store.transcript(UserKey("wechat", openid), limit=1000)
            said = [line.text for line in lines if line.sender == "user"]
            assert said == list(script), openid  # each message ran exactly once
    finally:
        await store.close()

    metrics = await node.metrics()
    assert metrics["jifen_wechat_takeovers_total"] >= len(STUCK)  # retries took over
    assert metrics['jifen_errors_total{kind="internal"}'] == 0
    assert metrics['jifen_messages_total{channel="wechat"}'] >= total
    assert victim not in node.worker_pids()
    assert node.healthy()
    print(f"\n{total} messages, {wechat.retries} redelivered, in {took:.1f} s")


async def until_queued(redis: RedisServer, queues: list[str], within: float = 10.0) -> None:
    import redis as redis_client

    admin = redis_client.Redis.from_url(redis.url)
    try:
        deadline = time.monotonic() + within
        while not all(admin.zcard(q) for q in queues):
            assert time.monotonic() < deadline, "the held-back messages never queued"
            await asyncio.sleep(0.01)
    finally:
        admin.close()
