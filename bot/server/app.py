"""The Starlette application of `jifen-bot serve`.

Parameters of `build_app` are seams for tests: a store, a service (the conversation) and the
rules can be passed in; by default everything is built from the environment. Building the app
reads and checks every setting, so a malformed one stops start-up before uvicorn listens.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from bot.channels.base import ChannelMount, SelfContained
from bot.rules.resolve import MatcherLike
from bot.rules.ruleset import Ruleset, load_ruleset
from bot.server.api import RulesAPI
from bot.server.metrics_route import ROUTE as METRICS_ROUTE
from bot.server.mounts import MOUNTS, describe, load_mounts
from bot.server.observe import Observe
from bot.server.retention import RetentionMount
from bot.server.settings import ServerSettings
from bot.server.wiring import make_matcher, make_service, make_store
from bot.store.base import Store

log = logging.getLogger(__name__)
PING_TIMEOUT = 2.0
YOUNG_GC_THRESHOLD = 10_000


def build_app(
    env: Mapping[str, str] | None = None,
    *,
    store: Store | None = None,
    service: Any = None,
    rules: Ruleset | None = None,
    matcher: MatcherLike | None = None,
    registry: Sequence[str] = MOUNTS,
) -> Starlette:
    """Raises ConfigError / DataError for a setting or data file that is wrong."""
    env = dict(os.environ) if env is None else env
    settings = ServerSettings.from_env(env)
    rules = rules or load_ruleset()
    matcher = matcher or make_matcher(rules)
    store = store or make_store(settings.store_url)
    service = service or make_service(store, rules, matcher)
    mounts = load_mounts(env, service, store, registry)
    log.info(describe(mounts))
    # Background work that is not a channel: started and stopped with them.
    background: list[ChannelMount] = []
    flow = getattr(getattr(service, "engine", None), "flow", None)
    if flow is not None:  # a test's stand-in service has no engine
        background.append(RetentionMount(store, flow.session.retention_days))

    # Channel routes first: the router tries routes in order, and they take nearly all requests.
    routes: list[BaseRoute] = [route for mount in mounts for route in mount.routes]
    routes += [Route("/healthz", _healthz(store), methods=["GET"]), METRICS_ROUTE]
    routes += RulesAPI(rules, matcher).routes

    app = Starlette(
        routes=routes,
        lifespan=_lifespan(store, [*mounts, *background]),
        middleware=[Middleware(Observe, direct=_direct(routes))],
    )
    app.state.store = store
    app.state.service = service
    app.state.mounts = {m.name: m for m in mounts}
    app.state.background = background
    return app


def _direct(routes: list[BaseRoute]) -> dict[tuple[str, str], ASGIApp]:
    """(method, path) → endpoint, for the self-contained endpoints of plain paths."""
    direct: dict[tuple[str, str], ASGIApp] = {}
    for route in routes:
        if not isinstance(route, Route) or route.param_convertors:
            continue
        if isinstance(route.endpoint, SelfContained):
            for method in route.methods or ():
                direct.setdefault((method, route.path), route.endpoint)
    return direct


def create_app() -> Starlette:
    """Factory for `uvicorn --factory` (several workers): everything from os.environ."""
    return build_app()


def _lifespan(store: Store, mounts: list[ChannelMount]) -> Any:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        started: list[ChannelMount] = []
        try:
            for mount in mounts:
                await mount.startup()
                started.append(mount)
            # Rules, catalogue, matcher indexes and texts are a few hundred thousand objects
            # that live as long as the process; a full garbage collection walking them stalls
            # every request in flight for tens of milliseconds. Frozen, the collector skips them.
            gc.collect()
            gc.freeze()
            # Fifty requests in flight keep more than the default 700 new objects alive at
            # once, so the youngest generation was collected every dozen messages, finding
            # no cycles to free (11 µs a message, bench/README.md). Ten thousand still bounds
            # what a cycle can hold on to.
            gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
            yield
        finally:
            for mount in reversed(started):
                try:
                    await mount.shutdown()
                except Exception:
                    log.exception("channel %s did not shut down cleanly", mount.name)
            await store.close()

    return lifespan


def _healthz(store: Store) -> Any:
    async def healthz(request: Request) -> Response:
        try:
            ok = await asyncio.wait_for(store.ping(), PING_TIMEOUT)
        except Exception as exc:  # StoreError, timeout, a dropped connection
            log.warning("healthz: store unreachable (%s)", type(exc).__name__)
            ok = False
        if ok:
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "store unreachable"}, status_code=503)

    return healthz


__all__ = ["build_app", "create_app"]
