"""Redis going away and coming back: fail fast with a logged reason, recover, keep sessions."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.store.base import StoreError, TranscriptLine, UserKey
from bot.store.redis import RedisStore

from .redis_server import RedisServer

ALICE = UserKey("wechat", "oAbC-123_openid")
MakeServer = Callable[..., RedisServer]


def every_call(store: RedisStore) -> dict[str, Callable[[], Awaitable[Any]]]:
    line = TranscriptLine(datetime.now(UTC), "user", "我有电工证")

    async def lock() -> None:
        async with store.lock(ALICE, timeout=5):
            pass

    return {
        "load_session": lambda: store.load_session(ALICE),
        "save_session": lambda: store.save_session(ALICE, {"a": 1}),
        "delete_session": lambda: store.delete_session(ALICE),
        "append_transcript": lambda: store.append_transcript(ALICE, [line]),
        "transcript": lambda: store.transcript(ALICE),
        "forget": lambda: store.forget(ALICE),
        "purge": lambda: store.purge(datetime.now(UTC)),
        "lock": lock,
        "claim_once": lambda: store.claim_once("wx", "1", 30),
        "set_result": lambda: store.set_result("wx", "1", "x", 30),
        "get_result": lambda: store.get_result("wx", "1"),
        "kv_get": lambda: store.kv_get("k"),
        "kv_set": lambda: store.kv_set("k", "v", 60),
        "kv_set_if_absent": lambda: store.kv_set_if_absent("k", "v"),
        "kv_delete": lambda: store.kv_delete("k"),
    }


async def test_redis_down_fails_fast_then_recovers(
    private_redis: MakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = private_redis()
    store = RedisStore(server.url)
    try:
        await store.save_session(ALICE, {"step": 1})  # pooled connections now exist
        server.kill()

        caplog.set_level(logging.ERROR, logger="bot.store.redis")
        for name, call in every_call(store).items():
            began = time.monotonic()
            with pytest.raises(StoreError):
                await call()
            assert time.monotonic() - began < 2, name
        assert await store.ping() is False

        logged = caplog.text
        assert "redis" in logged
        assert "ConnectionError" in logged  # the reason
        assert ALICE.user not in logged  # and never the user's id

        server.start()  # same port
        assert await store.ping() is True
        for call in every_call(store).values():
            await call()
    finally:
        await store.close()


async def test_never_started_redis_fails_fast(private_redis: MakeServer) -> None:
    server = private_redis()
    server.kill()
    store = RedisStore(server.url)
    try:
        began = time.monotonic()
        with pytest.raises(StoreError):
            await store.load_session(ALICE)
        assert time.monotonic() - began < 2
    finally:
        await store.close()


async def test_sessions_survive_a_restart_with_appendonly(private_redis: MakeServer) -> None:
    server = private_redis(appendonly=True)
    store = RedisStore(server.url)
    try:
        await store.save_session(ALICE, {"step": "grade", "cert": "电工"})
        await store.append_transcript(ALICE, [TranscriptLine(datetime.now(UTC), "user", "三级")])
        server.stop()
        server.start()
        assert await store.load_session(ALICE) == {"step": "grade", "cert": "电工"}
        assert len(await store.transcript(ALICE)) == 1
    finally:
        await store.close()


async def test_acknowledged_writes_survive_a_crash_with_fsync_always(
    private_redis: MakeServer,
) -> None:
    """`appendfsync always`: a write Redis acknowledged is on disk, even if Redis is killed."""
    server = private_redis(appendonly=True, fsync="always")
    store = RedisStore(server.url)
    try:
        for n in range(20):
            await store.save_session(UserKey("telegram", str(n)), {"n": n})
        server.kill()
        server.start()
        for n in range(20):
            assert await store.load_session(UserKey("telegram", str(n))) == {"n": n}
    finally:
        await store.close()


async def test_hung_redis_fails_fast_then_recovers(private_redis: MakeServer) -> None:
    """A Redis that accepts connections but never answers (SIGSTOP) is cut off by timeouts."""
    server = private_redis()
    assert server.proc is not None
    store = RedisStore(server.url)
    try:
        await store.save_session(ALICE, {"step": 1})
        server.proc.send_signal(signal.SIGSTOP)
        try:
            for name in ("load_session", "save_session", "lock"):
                began = time.monotonic()
                with pytest.raises(StoreError):
                    await every_call(store)[name]()
                took = time.monotonic() - began
                assert took < 2, (name, took)
        finally:
            server.proc.send_signal(signal.SIGCONT)
        # A write that failed by timeout may still have been applied: the caller cannot know.
        assert await store.load_session(ALICE) in ({"step": 1}, {"a": 1})
    finally:
        await store.close()
