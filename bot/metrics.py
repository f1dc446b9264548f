"""Prometheus metrics, correct across worker processes.

`jifen-bot serve` points PROMETHEUS_MULTIPROC_DIR at an empty directory before any worker
starts (bot/server/metrics_dir.py); prometheus_client then keeps every value in a small memory-
mapped file per process, and `GET /metrics` (bot/server/metrics_route.py) adds up all the files,
so whichever worker answers the scrape reports the whole server. Counters of a worker that died
keep counting in the sum. Without the variable (tests, `jifen-bot chat`) values live in memory.

The recording functions below are what the code calls, one call per event, at the edges
(service, channels, HTTP middleware). Label values come from small fixed sets; children are
cached so that an event costs a dictionary lookup and an increment (about a microsecond, a few
in multiprocess mode), never a registry lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

if TYPE_CHECKING:
    from bot.dialog.ports import MatcherPort, MatchPort

# Our own registry rather than the global one, so that importing this module twice in tests
# or beside another library never collides; in multiprocess mode the files are what counts.
REGISTRY = CollectorRegistry(auto_describe=True)

_MESSAGES = Counter(
    "jifen_messages", "User messages handled by the conversation.", ["channel"], registry=REGISTRY
)
_MATCHES = Counter(
    "jifen_match_outcomes",
    "Certificate lookups in conversations by outcome: match, choose (a short list), none.",
    ["outcome"],
    registry=REGISTRY,
)
_FINISHED = Counter(
    "jifen_conversations_finished",
    "Certificates assessed to the end (points told).",
    ["channel"],
    registry=REGISTRY,
)
_HANDOFFS = Counter(
    "jifen_handoffs_opened", "Requests for a colleague.", ["channel"], registry=REGISTRY
)
# Set from the ticket store at each scrape by the worker answering it: the most recent value
# set by any process is the right one.
HANDOFFS_OPEN = Gauge(
    "jifen_handoffs_open",
    "Handoff tickets not yet closed, by status (open: waiting for staff; claimed).",
    ["status"],
    registry=REGISTRY,
    multiprocess_mode="mostrecent",
)
_FALLBACKS = Counter(
    "jifen_wechat_fallbacks",
    "WeChat answers not ready within the budget (4 s): `success` now, customer-service later.",
    registry=REGISTRY,
)
_TAKEOVERS = Counter(
    "jifen_wechat_takeovers",
    "WeChat messages whose first worker stopped mid-answer and that another worker answered.",
    registry=REGISTRY,
)
_DEDUPE = Counter(
    "jifen_dedupe_hits",
    "Repeated deliveries recognised (WeChat retries, Telegram resent updates).",
    ["channel"],
    registry=REGISTRY,
)
_LATENCY = Histogram(
    "jifen_request_seconds",
    "HTTP request latency until the response is sent, by route.",
    ["route"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 4.0, 5.0, 10.0),
)
_ERRORS = Counter("jifen_errors", "Errors by kind.", ["kind"], registry=REGISTRY)

# Error kinds, a closed set (labels must not grow without bound).
STORE = "store"  # a conversation could not reach the store
INTERNAL = "internal"  # a bug: an unexpected exception while answering
DEDUPE = "dedupe"  # the dedupe record was unavailable; the message was not run
WECHAT_SEND = "wechat_send"  # a customer-service message failed
TELEGRAM_SEND = "telegram_send"  # a Bot API call failed for good
HTTP_5XX = "http_5xx"  # a response with a 5xx status

ROUTES = ("/wechat", "/telegram", "/staff", "/api", "/healthz", "/metrics")


def _cached(metric: Any) -> Callable[[str], Any]:
    children: dict[str, Any] = {}

    def child(label: str) -> Any:
        found = children.get(label)
        if found is None:
            found = children[label] = metric.labels(label)
        return found

    return child


_messages = _cached(_MESSAGES)
_matches = _cached(_MATCHES)
_finished = _cached(_FINISHED)
_handoffs = _cached(_HANDOFFS)
_dedupe = _cached(_DEDUPE)
_latency = _cached(_LATENCY)
_errors = _cached(_ERRORS)

# The known series exist from the start at 0, so that rate() and alerts see them before the
# first event (and a dashboard shows 0, not "no data").
for _channel in ("wechat", "telegram"):
    for _child in (_messages, _finished, _handoffs, _dedupe):
        _child(_channel)
for _outcome in ("match", "choose", "none"):
    _matches(_outcome)
for _kind in (STORE, INTERNAL, DEDUPE, WECHAT_SEND, TELEGRAM_SEND, HTTP_5XX):
    _errors(_kind)


def message(channel: str) -> None:
    _messages(channel).inc()


def match_outcome(outcome: str) -> None:
    _matches(outcome).inc()


def finished(channel: str) -> None:
    _finished(channel).inc()


def handoff_opened(channel: str) -> None:
    _handoffs(channel).inc()


def wechat_fallback() -> None:
    _FALLBACKS.inc()


def wechat_takeover() -> None:
    _TAKEOVERS.inc()


def dedupe_hit(channel: str) -> None:
    _dedupe(channel).inc()


def error(kind: str) -> None:
    _errors(kind).inc()


def request_done(path: str, seconds: float) -> None:
    _latency(route_of(path)).observe(seconds)


def route_of(path: str) -> str:
    """The route label of a path: one of ROUTES or "other" (paths are not labels: a scan of
    random URLs must not create a series each)."""
    for route in ROUTES:
        if path == route or path.startswith(route + "/"):
            return route
    return "other"


class CountingMatcher:
    """A matcher that counts its outcomes; the conversation's matcher is wrapped in it."""

    def __init__(self, inner: MatcherPort) -> None:
        self._inner = inner

    def match(self, text: str) -> MatchPort:
        result = self._inner.match(text)
        _matches(result.outcome).inc()
        return result


__all__ = [
    "DEDUPE",
    "HANDOFFS_OPEN",
    "HTTP_5XX",
    "INTERNAL",
    "REGISTRY",
    "ROUTES",
    "STORE",
    "TELEGRAM_SEND",
    "WECHAT_SEND",
    "CountingMatcher",
    "dedupe_hit",
    "error",
    "finished",
    "handoff_opened",
    "match_outcome",
    "message",
    "request_done",
    "route_of",
    "wechat_fallback",
    "wechat_takeover",
]
