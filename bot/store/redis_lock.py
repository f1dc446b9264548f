"""A fair (first come, first served) per-user lock on Redis, safe across workers.

Why not redis-py's `Lock`: it is a polling mutex, so when the holder releases, whichever of
several waiters polls first wins, and a user's third message can be answered before the
second. Here each waiter takes a ticket in a per-user queue and only the head of the queue may
take the lock, which keeps one user's messages in arrival order whichever worker got them.

Keys (all share the `{<user hash>}` hash tag so the scripts touch one cluster slot):
  <base>lock   the holder's random token, with a lease (PX) renewed while the holder runs
  <base>lq     waiting tokens, scored by ticket number (arrival order)
  <base>lqd    waiting tokens, scored by the time (ms) after which a silent waiter is dropped
  <base>lqn    the ticket counter
A waiter that crashes or is cancelled stops refreshing its deadline and is dropped after
`stale` seconds, so it cannot stall the queue for longer than that.

Hand-over: releasing publishes the new head's token on `<prefix>lockwake`; each worker process
listens there and wakes that waiter at once. Polling (fast at the head of the queue, slow
further back) remains as the fallback for a missed message, a dropped waiter or an expired lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from .base import LockTimeout

log = logging.getLogger(__name__)

# Redis TIME keeps one clock for all workers. KEYS: lock, queue, deadlines, counter.
# ARGV: token, lease ms, stale ms. Returns 1 when the lock was taken, else minus the waiter's
# place in the queue (0 at the head, -1 next, ...).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, w in ipairs(stale) do
  redis.call('ZREM', KEYS[2], w)
  redis.call('ZREM', KEYS[3], w)
end
-- Nobody waiting and nobody holding: take it without queue bookkeeping (the common case).
if redis.call('ZCARD', KEYS[2]) == 0
    and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), ARGV[1])
end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[1])
-- The bookkeeping disappears on its own once nobody waits any more.
local keep = 2 * tonumber(ARGV[3])
for i = 2, 4 do redis.call('PEXPIRE', KEYS[i], keep) end
local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if head == ARGV[1] and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 1
end
return -redis.call('ZRANK', KEYS[2], ARGV[1])
"""

# The same, and on success the value of KEYS[5] read in the same step (`acquire(load=...)`):
# the session comes with the lock, one round trip. KEYS[5] shares the user's hash tag.
_ACQUIRE_LOAD = _ACQUIRE.replace("return 1\n", "return {1, redis.call('GET', KEYS[5])}\n")

# KEYS: queue, deadlines. ARGV: token. A waiter that gives up leaves the queue at once.
_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""

# Only the holder of the token may release or extend.
# KEYS: lock, queue. ARGV: token, wake channel. Tells the next waiter it is its turn.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if head then redis.call('PUBLISH', ARGV[2], head) end
return 1
"""
# KEYS: lock. ARGV: token, lease ms.
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class LockSettings:
    # Seconds a crashed holder keeps the user blocked. Renewed every third of it while held, so
    # it only has to outlast a stalled event loop; kept below the service's lock wait (10 s) so
    # that the worker taking over a dead worker's message gets the user in time.
    lease: float = 5.0
    stale: float = 2.0  # seconds after which a silent waiter loses its place
    # Fallback wait between tries when no wake-up comes: `poll` at the head of the queue,
    # growing with the square of the place further back, where there is nothing to gain yet,
    # so that a long queue costs few calls. Must stay well below `stale`.
    poll: float = 0.02
    max_poll: float = 0.25


class FairLocks:
    """Creates per-user fair locks over one Redis client."""

    def __init__(
        self, client: Redis, settings: LockSettings, call_deadline: float, channel: str
    ) -> None:
        self._s = settings
        self._wakeups = Wakeups(client, channel, call_deadline)
        # Bounds each script call: a Redis that hangs must fail the wait now, not at its end.
        self._call = call_deadline
        self._acquire = client.register_script(_ACQUIRE)
        self._acquire_load = client.register_script(_ACQUIRE_LOAD)
        self._leave = client.register_script(_LEAVE)
        self._release = client.register_script(_RELEASE)
        self._extend = client.register_script(_EXTEND)

    async def acquire(self, base: str, wait: float, who: str, load: str | None = None) -> Held:
        """Wait up to `wait` seconds for the lock at `<base>lock`; raise LockTimeout.

        `who` is a pseudonym for log lines; `load`, a key of the same user whose value is read
        in the same step as the lock is taken (`Held.value`). Redis errors propagate for the
        caller to map.
        """
        token = secrets.token_hex(16)
        value = await self._wait(base, token, wait, who, load)
        watchdog = asyncio.create_task(self._keep(base, token, who))
        return Held(self, base, token, who, watchdog, value)

    @property
    def channel(self) -> str:
        """The wake-up channel, for a script that releases a lock itself (redis_turn.py)."""
        return self._wakeups.channel

    async def close(self) -> None:
        await self._wakeups.close()

    async def _wait(
        self, base: str, token: str, wait: float, who: str, load: str | None
    ) -> str | None:
        keys = [f"{base}lock", f"{base}lq", f"{base}lqd", f"{base}lqn"]
        script = self._acquire if load is None else self._acquire_load
        if load is not None:
            keys.append(load)
        args: list[Any] = [token, _ms(self._s.lease), _ms(self._s.stale)]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        # Listening from the first lock on, so that the first contended hand-over is quick too.
        self._wakeups.start()
        turn = self._wakeups.expect(token)
        task = asyncio.current_task()
        try:
            while True:
                # A cancellation swallowed on the way (inside the Redis client, or by a pause's
                # timeout firing at the same moment) still marks the task: honour it, or a
                # cancelled waiter would hold its place in the queue until `wait` runs out.
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError
                # Cleared before asking, so a wake-up published meanwhile is not lost.
                turn.clear()
                async with asyncio.timeout(self._call):
                    raw = await script(keys=keys, args=args)
                if isinstance(raw, list):  # {1, value}: taken, with the value of `load`
                    return None if raw[1] is None else str(raw[1])
                answer = int(raw)
                if answer == 1:
                    return None
                left = deadline - loop.time()
                if left <= 0:
                    raise LockTimeout(f"lock for user {who} not free within {wait:g} s")
                pause = min(self._s.poll * (1 - answer) ** 2, self._s.max_poll, left)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await turn.wait()
        except (LockTimeout, asyncio.CancelledError):
            # Give our place to the next waiter now rather than after `stale` seconds. Best
            # effort and brief; when Redis itself failed, `stale` takes care of it.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(0.25):
                    await self._leave(keys=keys[1:3], args=[token])
            raise
        finally:
            self._wakeups.forget(token)

    async def _keep(self, base: str, token: str, who: str) -> None:
        # Renew the lease while the holder works, so a slow step never lets a second worker in,
        # and a crashed worker blocks its user for at most one lease.
        while True:
            await asyncio.sleep(self._s.lease / 3)
            try:
                async with asyncio.timeout(self._call):
                    kept = await self._extend(
                        keys=[f"{base}lock"], args=[token, _ms(self._s.lease)]
                    )
                if kept != 1:
                    log.warning("lock for user %s was lost while held (lease expired)", who)
                    return
            except Exception as exc:  # keep trying until the lease runs out
                log.warning("could not renew lock for user %s: %s", who, type(exc).__name__)

    async def release(self, base: str, token: str, who: str) -> None:
        # The work under the lock is done (or has failed on its own account); a failed release
        # must not turn it into an error, the lease frees the user shortly anyway.
        try:
            async with asyncio.timeout(self._call):
                released = await self._release(
                    keys=[f"{base}lock", f"{base}lq"], args=[token, self._wakeups.channel]
                )
            if released != 1:
                log.warning("lock for user %s had expired before release", who)
        except Exception as exc:
            log.warning(
                "could not release lock for user %s (%s); it expires within %g s",
                who,
                type(exc).__name__,
                self._s.lease,
            )


class Wakeups:
    """This process's listener on the wake-up channel: token → the waiter's event.

    Started by the first lock taken (one connection per worker process). It reconnects on its
    own; while it is down, waiters poll.
    """

    def __init__(self, client: Redis, channel: str, call_deadline: float) -> None:
        self._r = client
        self.channel = channel
        self._call = call_deadline
        self._waiting: dict[str, asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def expect(self, token: str) -> asyncio.Event:
        event = self._waiting[token] = asyncio.Event()
        return event

    def forget(self, token: str) -> None:
        self._waiting.pop(token, None)

    def start(self) -> None:
        if not self._closed and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._listen(), name="jifen-lock-wakeups")

    async def close(self) -> None:
        # The flag ends the loop at its next turn even if redis-py, mid-reconnect, does not let
        # the cancellation through at once; closing never waits on it for long.
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task}, timeout=self._call)

    async def _listen(self) -> None:
        while not self._closed:
            try:
                async with self._r.pubsub(ignore_subscribe_messages=True) as pubsub:
                    async with asyncio.timeout(self._call):
                        await pubsub.subscribe(self.channel)
                    while not self._closed:
                        message = await pubsub.get_message(timeout=1.0)
                        if message is not None:
                            event = self._waiting.get(str(message["data"]))
                            if event is not None:
                                event.set()
            except asyncio.CancelledError:
                return
            except Exception as exc:
                # Redis is away: the waiters poll, and fail with StoreError on their own.
                log.debug("lock wake-up listener: %s; reconnecting", type(exc).__name__)
                await asyncio.sleep(1.0)


class Held:
    """A lock taken by `FairLocks.acquire`; `release()` once, in a finally block.

    `value`: what `acquire(load=...)` read with the lock. `released_elsewhere()`: a script
    released the lock as part of its own work (redis_turn.py), `release()` only stops renewing.
    """

    def __init__(
        self,
        locks: FairLocks,
        base: str,
        token: str,
        who: str,
        watchdog: asyncio.Task[None],
        value: str | None = None,
    ) -> None:
        self._locks, self._base, self._token, self._who = locks, base, token, who
        self._watchdog = watchdog
        self.value = value
        self._done = False

    @property
    def token(self) -> str:
        return self._token

    def released_elsewhere(self) -> None:
        self._done = True

    async def release(self) -> None:
        self._watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._watchdog
        if not self._done:
            await self._locks.release(self._base, self._token, self._who)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


__all__ = ["FairLocks", "Held", "LockSettings", "Wakeups"]
