"""Redis restarted or briefly gone under two workers: sessions survive (append-only file);
meanwhile requests fail fast, WeChat gets `success`, the log says why; then the bot carries on.
"""

from __future__ import annotations

import asyncio
import time

from store.redis_server import RedisServer

from .cluster import SCRIPT, Conn
from .conftest import MakeCluster

OPENID = "oRedisFaultUser0000000000001"


async def test_sessions_survive_a_redis_restart(
    cluster: MakeCluster, redis: RedisServer, answers: list[str]
) -> None:
    node = cluster()
    conn = await Conn(node.port).open()
    for step in range(3):
        assert (await conn.send(OPENID, SCRIPT[step], 100 + step)).content == answers[step]
    redis.stop()  # a restart: Redis writes and reloads its append-only file
    redis.start()
    got = await conn.send(OPENID, SCRIPT[3], 103)
    assert got.content == answers[3]  # the conversation goes on where it was
    redis.kill()  # a crash: with `appendfsync always` nothing acknowledged is lost either
    redis.start()
    got = await conn.send(OPENID, SCRIPT[4], 104)
    assert got.content == answers[4]


async def test_redis_unreachable_fails_fast_then_the_bot_carries_on(
    cluster: MakeCluster, redis: RedisServer, answers: list[str]
) -> None:
    node = cluster()
    conn = await Conn(node.port).open()
    for step in range(2):
        assert (await conn.send(OPENID, SCRIPT[step], 200 + step)).content == answers[step]

    redis.kill()
    began = time.monotonic()
    during = await conn.send(OPENID, SCRIPT[2], 202)
    took = time.monotonic() - began
    assert during.status == 200
    assert during.content is None  # `success`: WeChat neither retries nor shows an error
    assert took < 1.5, took  # fast, far inside WeChat's 5 s
    status, _, _ = await conn.request("GET", "/healthz")
    assert status == 503

    await asyncio.sleep(0.3)  # the log line is written by the worker, not by us
    reasons = [
        r
        for r in node.records()
        if r.get("level") == "error" and "redis" in str(r.get("msg")) and "failed" in str(r["msg"])
    ]
    assert reasons, node.log()[-3000:]
    assert "ConnectionError" in str(reasons[0]["msg"])  # the reason, not just "error"
    assert OPENID not in node.log()

    redis.start()  # back, same port, same append-only file
    status, _, _ = await conn.request("GET", "/healthz")
    assert status == 200
    # The user, who got no answer, sends the message again: the conversation carries on from
    # the last answer they had; nothing acknowledged was lost.
    again = await conn.send(OPENID, SCRIPT[2], 203)
    assert again.content == answers[2]
    assert (await conn.send(OPENID, SCRIPT[3], 204)).content == answers[3]
