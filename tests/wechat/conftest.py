"""Fixtures: the WeChat API double and the app under test, both on loopback under uvicorn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from auxil.live import LiveServer
from auxil.memstore import MemoryStore
from auxil.services import EchoService, Instrumented
from auxil.wechat_double import APPID, SECRET, WeChatDouble, served_wechat_double
from auxil.wechat_wire import TOKEN, SafeModeWire, random_aes_key

from bot.rules.ruleset import Ruleset, load_ruleset
from bot.server.app import build_app
from bot.server.wiring import make_matcher


@pytest.fixture(scope="session")
def rules() -> Ruleset:
    return load_ruleset()


@pytest.fixture(scope="session")
def matcher(rules: Ruleset) -> Any:
    return make_matcher(rules)


@pytest.fixture
def double() -> Iterator[WeChatDouble]:
    with served_wechat_double() as d:
        yield d


@pytest.fixture
def aes_key() -> str:
    return random_aes_key()


@pytest.fixture
def wire(aes_key: str) -> SafeModeWire:
    return SafeModeWire(aes_key, APPID)


@pytest.fixture
def env(double: WeChatDouble, aes_key: str) -> dict[str, str]:
    return {
        "JIFEN_WECHAT_TOKEN": TOKEN,
        "JIFEN_WECHAT_APPID": APPID,
        "JIFEN_WECHAT_SECRET": SECRET,
        "JIFEN_WECHAT_AES_KEY": aes_key,
        "JIFEN_WECHAT_API_BASE": double.url,
    }


class Running:
    def __init__(self, live: LiveServer, service: Instrumented, store: Any) -> None:
        self.live = live
        self.url = live.url
        self.service = service
        self.store = store

    def post(self, params: dict[str, str], body: bytes | str, **kw: Any) -> httpx.Response:
        data = body.encode("utf-8") if isinstance(body, str) else body
        return httpx.post(self.url + "/wechat", params=params, content=data, timeout=10, **kw)


@pytest.fixture
def start(rules: Ruleset, matcher: Any) -> Iterator[Callable[..., Running]]:
    """start(env, service=None, store=None) → the app serving on a free port."""
    servers: list[LiveServer] = []

    def _start(env: dict[str, str], service: Any = None, store: Any = None) -> Running:
        store = store if store is not None else MemoryStore()
        wrapped = Instrumented(service if service is not None else EchoService())
        app = build_app(
            env,
            store=store,
            service=wrapped,
            rules=rules,
            matcher=matcher,
            registry=("bot.channels.wechat.mount:from_env",),
        )
        live = LiveServer(app)
        live.start()
        servers.append(live)
        return Running(live, wrapped, store)

    yield _start
    for live in servers:
        live.stop()
