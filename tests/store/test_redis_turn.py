"""RedisStore.turn: the session comes with the lock, the turn's writes go in one step, and the
last one releases the lock (and wakes the next waiter) in that same step."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import redis

from bot.store.base import LockTimeout, TranscriptLine, UserKey
from bot.store.redis import RedisStore
from bot.store.redis_support import user_hash

ALICE = UserKey("wechat", "oAbC-123_openid")


def line(text: str) -> TranscriptLine:
    return TranscriptLine(datetime.now(UTC), "user", text)


async def test_a_turn_reads_and_writes_the_session(redis_store: RedisStore) -> None:
    async with redis_store.turn(ALICE) as first:
        assert first.loaded is None
        await first.save({"step": 1}, [line("一建"), line("答")])
    async with redis_store.turn(ALICE) as second:
        assert second.loaded == {"step": 1}
        await second.save({"step": 2}, [])
    assert await redis_store.load_session(ALICE) == {"step": 2}
    assert [x.text for x in await redis_store.transcript(ALICE)] == ["一建", "答"]


async def test_the_lock_is_held_until_the_scope_ends(redis_url: str) -> None:
    a, b = RedisStore(redis_url, share_pool=False), RedisStore(redis_url, share_pool=False)
    try:
        async with a.turn(ALICE) as scope:
            await scope.save({"step": 1}, [line("x")])  # not the last step: still locked
            with pytest.raises(LockTimeout):
                async with b.turn(ALICE, timeout=0.2):
                    pass
    finally:
        await a.close()
        await b.close()


async def test_the_last_save_releases_the_lock_and_wakes_the_next(redis_url: str) -> None:
    a, b = RedisStore(redis_url, share_pool=False), RedisStore(redis_url, share_pool=False)
    try:
        got: list[dict[str, object] | None] = []

        async def waiter() -> None:
            async with b.turn(ALICE, timeout=5) as scope:
                got.append(scope.loaded)

        async with a.turn(ALICE) as scope:
            waiting = asyncio.create_task(waiter())
            await asyncio.sleep(0.1)  # b is queued
            await scope.save({"step": 1}, [line("x")], last=True)
            # Released by the save itself: b gets in while a is still inside its scope.
            await asyncio.wait_for(waiting, 1)
        assert got == [{"step": 1}]
    finally:
        await a.close()
        await b.close()


async def test_a_turn_keeps_the_bookkeeping(redis_store: RedisStore, admin: redis.Redis) -> None:
    async with redis_store.turn(ALICE) as scope:
        await scope.save({"step": 1}, [line("x")], last=True)
    base = f"jifen:u:{{{user_hash(ALICE)}}}:"
    assert admin.smembers(f"{base}keys") == {f"{base}sess", f"{base}tr"}
    for suffix in ("sess", "tr", "keys"):
        assert admin.ttl(base + suffix) > 29 * 24 * 3600
    assert admin.zscore("jifen:touch", user_hash(ALICE)) is not None
    await redis_store.forget(ALICE)  # the index lets forget find everything
    assert await redis_store.load_session(ALICE) is None
    assert await redis_store.transcript(ALICE) == []
