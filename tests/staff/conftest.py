"""Fixtures: ticket stores on SQLite and on a real redis-server, and a controllable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from auxil.wechat_double import WeChatDouble, served_wechat_double
from store.redis_server import RedisServer

from bot.store.tickets import TicketStore
from bot.store.tickets_redis import RedisTickets
from bot.store.tickets_sqlite import SqliteTickets


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def staff_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("staff-redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "redis"])
async def tickets(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[TicketStore]:
    store: TicketStore
    if request.param == "sqlite":
        store = SqliteTickets(tmp_path / "bot.sqlite3", clock=clock)
    else:
        server: RedisServer = request.getfixturevalue("staff_redis")
        with redis.Redis.from_url(server.url) as admin:
            admin.flushall()
        store = RedisTickets(server.url, clock=clock)
    await store.connect()
    try:
        yield store
    finally:
        await store.disconnect()


@pytest.fixture(scope="session")
def rules() -> Any:
    from bot.rules.ruleset import load_ruleset

    return load_ruleset()


@pytest.fixture(scope="session")
def matcher(rules: Any) -> Any:
    from bot.server.wiring import make_matcher

    return make_matcher(rules)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium for a module's tests; each test opens its own context (own cookies)."""
    from .browser import launched

    with launched() as b:
        yield b


@pytest.fixture
def wechat_double() -> Iterator[WeChatDouble]:
    """WeChat's REST API (token, customer-service send) on loopback."""
    with served_wechat_double() as double:
        yield double
