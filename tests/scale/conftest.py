"""Fixtures of the scale tests: Redis with its append-only file, the WeChat API double, and
`jifen-bot serve --workers 2` against both."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from auxil.wechat_double import APPID, SECRET, WeChatDouble, served_wechat_double
from auxil.wechat_wire import TOKEN
from store.redis_server import RedisServer

from .cluster import SCRIPT, Cluster, expected_answers

MakeCluster = Callable[..., Cluster]


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private Redis as deploy/ runs it: append-only, fsync on every write."""
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = RedisServer(workdir, appendonly=True, fsync="always")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def double() -> Iterator[WeChatDouble]:
    """WeChat's customer-service API: answers that miss the passive reply arrive here."""
    with served_wechat_double() as d:
        yield d


@pytest.fixture
def cluster(tmp_path: Path, redis: RedisServer, double: WeChatDouble) -> Iterator[MakeCluster]:
    """cluster(workers=2, **env) → a started Cluster on `redis`, sending 客服 to `double`."""
    started: list[Cluster] = []

    def make(workers: int = 2, **env: str) -> Cluster:
        settings = {
            "JIFEN_STORE": redis.url,
            "JIFEN_WECHAT_TOKEN": TOKEN,
            "JIFEN_WECHAT_APPID": APPID,
            "JIFEN_WECHAT_SECRET": SECRET,
            "JIFEN_WECHAT_API_BASE": double.url,
            **env,
        }
        workdir = tmp_path / f"cluster{len(started)}"
        workdir.mkdir()
        node = Cluster(settings, workdir, workers)
        started.append(node)
        node.start()
        return node

    try:
        yield make
    finally:
        for node in started:
            node.stop()


ROUNDS = 3  # the longest a test user runs through SCRIPT


@pytest.fixture(scope="session")
def answers() -> list[str]:
    """The answers to SCRIPT × ROUNDS, in order, as one process on one store gives them."""
    return expected_answers(SCRIPT * ROUNDS)
