"""Fixtures: the whole app (no channels unless asked) on loopback under uvicorn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from auxil.live import LiveServer
from auxil.memstore import MemoryStore
from auxil.services import EchoService

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
def serve_app(rules: Ruleset, matcher: Any) -> Iterator[Callable[..., str]]:
    """serve_app(env=None, store=None, registry=()) → base URL of the running app."""
    servers: list[LiveServer] = []

    def _serve(
        env: dict[str, str] | None = None, store: Any = None, registry: tuple[str, ...] = ()
    ) -> str:
        app = build_app(
            env or {},
            store=store or MemoryStore(),
            service=EchoService(),
            rules=rules,
            matcher=matcher,
            registry=registry,
        )
        live = LiveServer(app)
        live.start()
        servers.append(live)
        return live.url

    yield _serve
    for live in servers:
        live.stop()
