"""Running each WeChat message once, however often WeChat delivers it, whichever worker dies.

WeChat repeats a request up to 3 times when it gets no answer in 5 s. The first delivery
claims the message's key in the store under a short lease (`claim_lease`, shared by every
worker) and renews the lease while it works; it alone runs the conversation and publishes the
outcome (`settle_lease`). A later delivery waits for that outcome: through an in-process future
when the first delivery is in this worker, by polling the store when it is in another.

When the worker answering dies (killed, out of memory), it stops renewing: once its lease has
run out, the retry polling for the outcome takes the claim over and answers itself (`wait`
returns TAKEN_OVER). Should the first worker turn out to be alive after all (stalled longer
than a lease), its `publish` finds the claim gone and it stays silent, so exactly one answers;
the conversation itself runs a message once in any case (`once` in bot/service.py).

`LocalDedupe` is for stores without leases (SQLite: every worker on one machine, and a claim
nobody can take over). There the shared claim would buy nothing the turn does not already do:
each turn saves its message id and replies in the session, in the same transaction as the new
state (bot/once.py), so a retry on another worker finds them and replays them instead of
running a second turn; one that ran at the very same moment finds its save refused
(TurnConflict), runs again under the user's lock and finds them then. What stays is in this
process (the first delivery's future, the outcomes of the last TTL seconds) and, only when an
answer goes late, one row in the store so that no worker answers that message passively
again. Two store writes fewer per message (bench/README.md).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Final

from bot.store.base import Store, StoreError

log = logging.getLogger(__name__)

NAMESPACE = "wechat"
TTL = 120.0  # covers WeChat's three tries (3 × 5 s) with a wide margin
# How long a retry waits for a worker that stopped renewing before taking over. Renewed every
# third of it, so a live worker has two chances to renew before anyone may take over.
LEASE = 3.0


class _TakenOver:
    def __repr__(self) -> str:
        return "TAKEN_OVER"


TAKEN_OVER: Final = _TakenOver()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the first delivery answered: a passive text, or None for `success`."""

    passive: str | None

    # Recorded as "=" and the text, or "-" for `success`: written for every message, so not
    # JSON. Records in the JSON form of earlier versions live at most TTL; still read.
    def encode(self) -> str:
        return "-" if self.passive is None else "=" + self.passive

    @classmethod
    def decode(cls, raw: str) -> Outcome:
        if raw[:1] == "=":
            return cls(raw[1:])
        if raw[:1] != "{":
            return cls(None)
        try:
            value = json.loads(raw).get("passive")
        except (ValueError, AttributeError):
            return cls(None)
        return cls(value if isinstance(value, str) else None)


@dataclass
class _Claim:
    token: str
    future: asyncio.Future[Outcome]
    timer: asyncio.TimerHandle | None = None
    renewing: set[asyncio.Task[Any]] = field(default_factory=set)


async def _outcome_of(claim: _Claim, within: float) -> Outcome | None:
    """The outcome the first delivery in this process publishes, or None after `within` s."""
    try:
        return await asyncio.wait_for(asyncio.shield(claim.future), max(0.0, within))
    except TimeoutError:
        return None


class Dedupe:
    def __init__(
        self, store: Store, ttl: float = TTL, poll: float = 0.02, lease: float = LEASE
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._poll = poll
        self._lease = lease
        self._local: dict[str, _Claim] = {}

    async def claim(self, key: str) -> bool:
        """True for the first delivery of `key`; it must then `publish` an outcome."""
        token = _token()
        first = await self._store.claim_lease(NAMESPACE, key, token, self._lease, self._ttl)
        if first:
            self._hold(key, token)
        return first

    async def publish(self, key: str, outcome: Outcome) -> bool:
        """Record the outcome for retries. False when another worker has taken the message
        over meanwhile: it answers, this worker must not. Raises StoreError."""
        claim = self._local.pop(key, None)
        if claim is not None and claim.timer is not None:
            claim.timer.cancel()
        try:
            if claim is None:  # not claimed here (a test, or a bug): record it anyway
                await self._store.set_result(NAMESPACE, key, outcome.encode(), self._ttl)
                return True
            return await self._store.settle_lease(
                NAMESPACE, key, claim.token, outcome.encode(), self._ttl
            )
        finally:
            if claim is not None and not claim.future.done():
                claim.future.set_result(outcome)

    async def wait(self, key: str, within: float) -> Outcome | _TakenOver | None:
        """The first delivery's outcome; TAKEN_OVER when its worker stopped renewing and this
        caller now holds the claim (it must run the message and `publish`); None when neither
        happened within `within` s."""
        deadline = time.monotonic() + within
        while True:
            claim = self._local.get(key)
            if claim is not None:  # the first delivery is in this process, alive
                return await _outcome_of(claim, deadline - time.monotonic())
            raw = await self._store.get_result(NAMESPACE, key)
            if raw is not None:
                return Outcome.decode(raw)
            token = _token()
            if await self._store.claim_lease(NAMESPACE, key, token, self._lease, self._ttl):
                self._hold(key, token)
                return TAKEN_OVER
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            await asyncio.sleep(min(self._poll, left))

    def _hold(self, key: str, token: str) -> None:
        loop = asyncio.get_running_loop()
        claim = _Claim(token, loop.create_future())
        self._local[key] = claim
        # A timer, not a task: most messages are answered long before the first renewal, and
        # a cancelled timer costs next to nothing.
        claim.timer = loop.call_later(self._lease / 3, self._renew, key, claim)

    def _renew(self, key: str, claim: _Claim) -> None:
        task = asyncio.get_running_loop().create_task(self._renew_now(key, claim))
        claim.renewing.add(task)
        task.add_done_callback(claim.renewing.discard)

    async def _renew_now(self, key: str, claim: _Claim) -> None:
        if self._local.get(key) is not claim:
            return  # published meanwhile
        try:
            kept = await self._store.renew_lease(NAMESPACE, key, claim.token, self._lease)
        except StoreError as exc:
            # Keep trying: the lease may outlast a short outage.
            log.warning("wechat: could not renew the claim of a message (%s)", exc)
            kept = True
        if not kept:
            log.warning("wechat: another worker took over a message still being answered here")
            return
        if self._local.get(key) is claim:
            loop = asyncio.get_running_loop()
            claim.timer = loop.call_later(self._lease / 3, self._renew, key, claim)


class LocalDedupe(Dedupe):
    """Claims and outcomes kept in this process; see the module docstring. `keep` bounds the
    outcomes remembered (a retry of an older one gets the replies the session recorded)."""

    def __init__(self, store: Store, ttl: float = TTL, keep: int = 4096) -> None:
        super().__init__(store, ttl)
        self._keep = keep
        self._recent: OrderedDict[str, tuple[float, Outcome]] = OrderedDict()

    async def claim(self, key: str) -> bool:
        if key in self._local or self._remembered(key) is not None:
            return False
        # An answer that went late on another worker: the only record in the store.
        if await self._store.get_result(NAMESPACE, key) is not None:
            return False
        self._local[key] = _Claim("", asyncio.get_running_loop().create_future())
        return True

    async def publish(self, key: str, outcome: Outcome) -> bool:
        """True when this delivery is the one to answer. An answer that is not passive (it
        went late, or there is nothing to say) is recorded in the store first, and only the
        delivery that records it may send it."""
        claim = self._local.pop(key, None)
        try:
            mine = True
            if outcome.passive is None:
                mine = await self._store.claim_once(NAMESPACE, key, self._ttl)
                if mine:
                    await self._store.set_result(NAMESPACE, key, outcome.encode(), self._ttl)
            self._remember(key, outcome)
            return mine
        finally:
            if claim is not None and not claim.future.done():
                claim.future.set_result(outcome)

    async def wait(self, key: str, within: float) -> Outcome | _TakenOver | None:
        claim = self._local.get(key)
        if claim is not None:
            return await _outcome_of(claim, within)
        remembered = self._remembered(key)
        if remembered is not None:
            return remembered
        raw = await self._store.get_result(NAMESPACE, key)
        return None if raw is None else Outcome.decode(raw)

    def _remembered(self, key: str) -> Outcome | None:
        found = self._recent.get(key)
        if found is None:
            return None
        if found[0] < time.monotonic():
            del self._recent[key]
            return None
        return found[1]

    def _remember(self, key: str, outcome: Outcome) -> None:
        self._recent[key] = (time.monotonic() + self._ttl, outcome)
        self._recent.move_to_end(key)
        while len(self._recent) > self._keep:
            self._recent.popitem(last=False)


# Claim tokens: unique across workers (a random prefix per process) and within one (a counter);
# cheaper than asking the operating system for random bytes on every message.
_PREFIX = secrets.token_hex(6)
_SERIAL = itertools.count(1)


def _token() -> str:
    return f"{_PREFIX}{next(_SERIAL):x}"


__all__ = ["LEASE", "NAMESPACE", "TAKEN_OVER", "TTL", "Dedupe", "LocalDedupe", "Outcome"]
