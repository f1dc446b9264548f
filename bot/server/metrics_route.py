"""GET /metrics: Prometheus text format for the whole server, whichever worker answers.

In multiprocess mode (PROMETHEUS_MULTIPROC_DIR set, as `jifen-bot serve` does) each scrape
builds a fresh registry over every worker's files, as prometheus_client prescribes; otherwise
it reports this process's registry. The open-handoff gauge is read from the ticket store at
scrape time: the store knows across workers, no process's memory does.

Not routed by nginx (deploy/nginx.conf): Prometheus scrapes the bot's port from inside.
"""

from __future__ import annotations

import asyncio
import logging
import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import metrics
from bot.store.tickets import TicketStore

log = logging.getLogger(__name__)

PATH = "/metrics"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
COUNT_LIMIT = 1000  # tickets counted per status; a longer queue shows as 1000
STORE_TIMEOUT = 2.0


async def metrics_endpoint(request: Request) -> Response:
    mount = getattr(request.app.state, "mounts", {}).get("staff")
    tickets = getattr(mount, "tickets", None)
    if isinstance(tickets, TicketStore):
        await _count_handoffs(tickets)
    body = await asyncio.to_thread(collect)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def collect() -> bytes:
    """Every metric, summed over all worker processes when in multiprocess mode."""
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return generate_latest(metrics.REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


async def _count_handoffs(tickets: TicketStore) -> None:
    try:
        async with asyncio.timeout(STORE_TIMEOUT):
            for status in ("open", "claimed"):
                found = await tickets.list(status, COUNT_LIMIT)
                metrics.HANDOFFS_OPEN.labels(status).set(len(found))
    except Exception as exc:  # the store is down: the scrape still reports everything else
        log.warning("metrics: open handoffs not counted (%s)", type(exc).__name__)


ROUTE = Route(PATH, metrics_endpoint, methods=["GET"])

__all__ = ["MULTIPROC_ENV", "PATH", "ROUTE", "collect", "metrics_endpoint"]
