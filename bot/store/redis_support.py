"""Plumbing for the Redis store: shared connection pools, error mapping, pseudonyms.

Kept apart from the store so that the store module reads as the data layout and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from bot.logs import pseudonym as keyed_pseudonym

from .base import StoreError, UserKey

log = logging.getLogger("bot.store.redis")


def user_hash(key: UserKey) -> str:
    """The user's id inside Redis key names: a digest, so that openids and chat ids never show
    in key listings, slow logs or error messages, and any character in a user id is safe."""
    raw = f"{key.channel}\x00{key.user}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def pseudonym(key: UserKey) -> str:
    """The user in log lines and error messages: the keyed pseudonym of bot/logs.py, the same
    as every other line shows (an unkeyed digest of a Telegram chat id is easily reversed)."""
    return keyed_pseudonym(key.channel, key.user)


@dataclass(frozen=True, slots=True)
class Connection:
    connect: float = 0.5  # seconds; a dead host must not hold a chat reply
    op: float = 1.0  # seconds for one command; a healthy Redis answers in well under 1 ms
    # Sockets per worker process. A burst queues for a free socket (each is busy for well under
    # a millisecond per call) instead of failing with "Too many connections".
    pool_size: int = 50

    @property
    def call(self) -> float:
        # The whole call. Enough for the one immediate reconnect-and-retry that replaces a
        # pooled socket closed by a Redis restart; a Redis that hangs is cut off here.
        return self.connect + self.op


@dataclass(slots=True)
class _Shared:
    pool: ConnectionPool
    users: int


# One pool per (event loop, url, settings) in this process: asyncio connections belong to the
# loop that opened them, and every store object of a worker then shares the same sockets.
_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, Connection], _Shared]]
_POOLS = weakref.WeakKeyDictionary()


def new_pool(url: str, settings: Connection) -> ConnectionPool:
    try:
        return BlockingConnectionPool.from_url(
            url,
            max_connections=settings.pool_size,
            # Waiting for a free socket counts against the call's deadline like any other wait.
            timeout=settings.call,
            decode_responses=True,
            socket_connect_timeout=settings.connect,
            socket_timeout=settings.op,
            # One immediate retry only: it replaces a socket closed by a Redis restart.
            # redis-py's default (3 tries, exponential backoff) would hold a request for seconds.
            retry=Retry(NoBackoff(), 1),
            # A connection idle past a restart is checked before use instead of failing once.
            health_check_interval=30,
        )
    except ValueError as exc:
        raise StoreError(f"invalid redis url: {exc}") from exc


def shared_pool(url: str, settings: Connection) -> ConnectionPool:
    pools = _POOLS.setdefault(asyncio.get_running_loop(), {})
    shared = pools.get((url, settings))
    if shared is None:
        shared = pools[(url, settings)] = _Shared(new_pool(url, settings), 0)
    shared.users += 1
    return shared.pool


async def drop_pool(pool: ConnectionPool) -> None:
    """Release one user of a pool; the last user (or an unshared pool) disconnects it."""
    for pools in _POOLS.values():
        for ident, shared in list(pools.items()):
            if shared.pool is pool:
                shared.users -= 1
                if shared.users > 0:
                    return
                del pools[ident]
    await pool.aclose()


class FailureLog:
    """Logs Redis failures with their reason, at most once per `every` seconds.

    During an outage every request fails; one line per request would bury the reason.
    """

    def __init__(self, every: float = 5.0) -> None:
        self._every = every
        self._last = -every
        self._unlogged = 0
        self._failing = 0

    def failed(self, op: str, who: str, exc: BaseException) -> None:
        self._failing += 1
        self._unlogged += 1
        now = time.monotonic()
        if now - self._last < self._every:
            return
        log.error(
            "redis %s failed%s: %s: %s (%d failed calls since the last report)",
            op,
            f" for user {who}" if who else "",
            type(exc).__name__,
            exc,
            self._unlogged,
        )
        self._last, self._unlogged = now, 0

    def succeeded(self) -> None:
        if self._failing:
            log.warning("redis answers again after %d failed calls", self._failing)
            self._failing = self._unlogged = 0
            self._last = -self._every


@contextlib.asynccontextmanager
async def guarded(failures: FailureLog, op: str, who: str, deadline: float) -> AsyncIterator[None]:
    """Run a block of Redis calls: any transport failure becomes StoreError within `deadline`."""
    try:
        async with asyncio.timeout(deadline):
            yield
    except StoreError:
        raise
    except (RedisError, OSError, TimeoutError) as exc:
        failures.failed(op, who, exc)
        reason = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        raise StoreError(f"redis {op} failed: {reason}") from exc
    failures.succeeded()


__all__ = [
    "Connection",
    "FailureLog",
    "drop_pool",
    "guarded",
    "new_pool",
    "pseudonym",
    "shared_pool",
    "user_hash",
]
