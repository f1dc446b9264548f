"""Real worker processes on one Redis: every message handled exactly once, no lost update."""

from __future__ import annotations

import asyncio
import multiprocessing
from typing import Any

from bot.store.base import UserKey
from bot.store.redis import RedisStore

USERS = [UserKey("wechat", f"openid-{n}") for n in range(4)]
MESSAGES = 40  # per user
RETRY_AFTER = 0.03  # s between the first delivery of a message and its delivery to the other


def _worker(url: str, name: str, start: Any) -> None:
    """Receives every message (as when WeChat retries to another worker) and handles the ones
    it claims: a read-modify-write of the user's session under the user's lock."""

    async def handle(store: RedisStore, user: UserKey, n: int) -> None:
        # Message n arrives n × 5 ms after the start, as traffic does, first at one worker and
        # 30 ms later, as a retry, at the other: on a loaded machine a process that got the CPU
        # first could otherwise claim every message before the other one asked for any, and
        # "both took part" would depend on the scheduler (it did fail so, once in a while).
        first = name == f"w{n % 2}"
        await asyncio.sleep(n * 0.005 + (0 if first else RETRY_AFTER))
        if not await store.claim_once("wx", f"{user.user}:{n}", ttl=60):
            return
        async with store.lock(user, timeout=30):
            state = await store.load_session(user) or {"seen": []}
            await asyncio.sleep(0)  # let the other tasks interleave here if they could
            state["seen"].append([n, name])
            await store.save_session(user, state)

    async def run() -> None:
        store = RedisStore(url)
        await store.open()
        await asyncio.to_thread(start.wait, 60)  # both processes begin together
        try:
            await asyncio.gather(*(handle(store, u, n) for n in range(MESSAGES) for u in USERS))
        finally:
            await store.close()

    asyncio.run(run())


async def test_two_processes_share_dedupe_and_locks(redis_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(3)
    procs = [ctx.Process(target=_worker, args=(redis_url, f"w{i}", start)) for i in range(2)]
    for p in procs:
        p.start()
    await asyncio.to_thread(start.wait, 60)
    for p in procs:
        await asyncio.to_thread(p.join, 60)
    assert [p.exitcode for p in procs] == [0, 0]

    store = RedisStore(redis_url)
    try:
        workers = set()
        for user in USERS:
            state = await store.load_session(user)
            assert state is not None
            handled = sorted(n for n, _ in state["seen"])
            assert handled == list(range(MESSAGES))  # each once: none lost, none twice
            workers |= {w for _, w in state["seen"]}
        assert workers == {"w0", "w1"}  # both really took part
    finally:
        await store.close()
