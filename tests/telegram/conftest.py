"""Fixtures: the Bot API double on loopback, and the channel served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.auxil.live import serving
from tests.auxil.memstore import MemoryStore
from tests.auxil.telegram_double import BotApiDouble
from tests.auxil.telegram_updates import UpdateFactory
from tests.telegram.fakes import ScriptedService
from tests.telegram.support import SECRET, TOKEN, Live, channel_app


@pytest.fixture
def double() -> Iterator[BotApiDouble]:
    api = BotApiDouble(TOKEN)
    with serving(api.asgi()) as server:
        api.url = server.url
        yield api


@pytest.fixture
def updates() -> UpdateFactory:
    return UpdateFactory()


@pytest.fixture
def tg_env(double: BotApiDouble) -> dict[str, str]:
    return {
        "JIFEN_TELEGRAM_TOKEN": TOKEN,
        "JIFEN_TELEGRAM_SECRET": SECRET,
        "JIFEN_TELEGRAM_API_BASE": double.api_base,
    }


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def service() -> ScriptedService:
    return ScriptedService()


@pytest.fixture
def scripted(
    tg_env: dict[str, str], service: ScriptedService, store: MemoryStore
) -> Iterator[Live]:
    """The channel alone, with a scripted service and an in-memory store."""
    with serving(channel_app(tg_env, service, store)) as server:
        yield Live(server.url)
