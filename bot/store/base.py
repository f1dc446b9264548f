"""The store interface every backend implements (SQLite by default, Redis at scale).

Kept narrow and async so that a second backend is a drop-in. Keys are (channel, user) pairs;
user ids are the channel's own (openid, Telegram chat id, terminal name).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class UserKey:
    channel: str
    user: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.user}"


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    at: datetime  # timezone-aware UTC
    sender: str  # "user" | "bot" | "staff:<name>" | "system"
    text: str


class StoreError(Exception):
    """The store could not be reached or answered wrongly; callers fail fast and log."""


class LockTimeout(StoreError):
    """The per-user lock could not be taken in time."""


class TurnConflict(StoreError):
    """An optimistic turn (`Store.turn` without `exclusive`) found the session changed by
    another worker since it was loaded, and wrote nothing: run the turn again, exclusively."""


class TurnScope:
    """One turn of a user's conversation, inside the user's lock (`Store.turn`): the session
    as it was when the lock was taken, and `save` for what the turn changed.

    `memo`: what the caller passed to the `save` that wrote `loaded`, when the backend kept
    the session in memory since (bot/store/recent.py), else None. The caller's own decoded
    form of the session, so that it need not decode it again; opaque to the store."""

    def __init__(
        self,
        store: Store,
        key: UserKey,
        loaded: dict[str, Any] | None,
        memo: object | None = None,
    ) -> None:
        self.store = store
        self.key = key
        self.loaded = loaded
        self.memo = memo

    async def save(
        self,
        state: dict[str, Any],
        lines: list[TranscriptLine],
        *,
        last: bool = False,
        memo: object | None = None,
    ) -> None:
        """Save the session and append to the transcript, as one step where the backend can.
        `last`: the turn does nothing more with the store, so a backend may release the lock
        in the same step (the lock is released on leaving the scope in any case). `memo`:
        see above; neither `state` nor `memo` may be changed by the caller afterwards."""
        await self.store.save_turn(self.key, state, lines)


class Store(ABC):
    """Async persistence for the bot. All methods may raise StoreError."""

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect / create schema. Called once before use."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    @abstractmethod
    async def ping(self) -> bool:
        """True when the store answers (GET /healthz)."""

    # Sessions: the dialog state, a JSON-serialisable dict.
    @abstractmethod
    async def load_session(self, key: UserKey) -> dict[str, Any] | None: ...

    @abstractmethod
    async def save_session(self, key: UserKey, state: dict[str, Any]) -> None: ...

    @abstractmethod
    async def delete_session(self, key: UserKey) -> None: ...

    async def save_turn(
        self, key: UserKey, state: dict[str, Any], lines: list[TranscriptLine]
    ) -> None:
        """`save_session` and `append_transcript` together (one transaction where the backend
        has them, so a turn is never half written)."""
        await self.save_session(key, state)
        await self.append_transcript(key, lines)

    # Transcripts: both sides of the conversation, kept for staff.
    @abstractmethod
    async def append_transcript(self, key: UserKey, lines: list[TranscriptLine]) -> None: ...

    @abstractmethod
    async def transcript(self, key: UserKey, limit: int = 500) -> list[TranscriptLine]: ...

    # Personal data.
    @abstractmethod
    async def forget(self, key: UserKey) -> None:
        """Erase everything kept about this user (session, transcript, tickets)."""

    @abstractmethod
    async def purge(self, older_than: datetime) -> int:
        """Erase transcripts and sessions last touched before `older_than`; return rows removed."""

    # One message of a user at a time, across workers.
    @abstractmethod
    def lock(self, key: UserKey, timeout: float = 10.0) -> AbstractAsyncContextManager[None]:
        """Async context manager holding the per-user lock; raises LockTimeout."""

    def turn(
        self, key: UserKey, timeout: float = 10.0, *, exclusive: bool = False
    ) -> AbstractAsyncContextManager[TurnScope]:
        """`lock` and `load_session` together: `async with store.turn(key) as t:` holds the
        user's lock, `t.loaded` is the session, `await t.save(state, lines)` writes the turn.
        Backends override it to take the lock and load in one round trip.

        Without `exclusive`, a backend may hold the lock only within this process and check
        at `save` that no other worker changed the session meanwhile, raising TurnConflict
        (nothing written) when one did; the caller then runs the turn again with `exclusive`,
        which holds the lock across workers for the whole turn."""
        return _default_turn(self, key, timeout)

    # Dedupe of channel retries (WeChat MsgId, Telegram update_id).
    @abstractmethod
    async def claim_once(self, namespace: str, msg_id: str, ttl: float) -> bool:
        """True for the first caller of (namespace, msg_id) within ttl seconds, False after."""

    @abstractmethod
    async def set_result(self, namespace: str, msg_id: str, result: str, ttl: float) -> None:
        """Store the rendered answer of a claimed message for retries to pick up."""

    @abstractmethod
    async def get_result(self, namespace: str, msg_id: str) -> str | None: ...

    # Dedupe with takeover: a claim held under a short lease that its holder renews while it
    # works, so that when a worker dies mid-answer a retry on another worker can take over.
    # The defaults suit a store used by one process (nobody to take over from): claim_once.
    # `leases` says whether a backend implements them; channels that find it False leave the
    # dedupe of redeliveries to the turn's own record (bot/once.py, LocalDedupe).
    leases: bool = False

    async def claim_lease(
        self, namespace: str, msg_id: str, token: str, lease: float, ttl: float
    ) -> bool:
        """True when `token` holds the claim afterwards: the message is new, or its holder's
        lease ran out with no result recorded (taken over), or `token` held it already (lease
        renewed). False while another holder's lease runs or once a result is recorded."""
        return await self.claim_once(namespace, msg_id, ttl)

    async def renew_lease(self, namespace: str, msg_id: str, token: str, lease: float) -> bool:
        """Extend `token`'s lease; False when it no longer holds the claim (taken over)."""
        return True

    async def settle_lease(
        self, namespace: str, msg_id: str, token: str, result: str, ttl: float
    ) -> bool:
        """`set_result`, only while `token` holds the claim: False when another worker took
        the message over (it will answer) or answered it already."""
        await self.set_result(namespace, msg_id, result, ttl)
        return True

    # The inbox: what a channel acknowledged before processing it (Telegram's webhook answers
    # 200 at once, and Telegram never delivers an acknowledged update again), kept until it
    # has been processed, so that a worker that dies in between loses nothing: once its lease
    # runs out, another worker (or the restarted one) takes the item and processes it again.
    @abstractmethod
    async def inbox_add(self, channel: str, item: str, body: str, lease: float) -> None:
        """Keep `body` under (channel, item) until `inbox_done`; nobody may take it for
        `lease` seconds (the time its worker has to process it). Adding an item already
        there changes nothing."""

    @abstractmethod
    async def inbox_done(self, channel: str, item: str) -> None:
        """The item has been processed: forget it (nothing happens if it is not there)."""

    @abstractmethod
    async def inbox_take(
        self, channel: str, lease: float, limit: int = 100
    ) -> list[tuple[str, str, int]]:
        """Items of `channel` whose lease has run out, oldest lease first, at most `limit`:
        (item, body, takes), where `takes` counts the times it was taken, this one included.
        Each is leased again for `lease` seconds to the caller, atomically: two workers
        taking at once never get the same item."""

    # Small expiring values: access tokens, rate-limit counters.
    @abstractmethod
    async def kv_get(self, key: str) -> str | None: ...

    @abstractmethod
    async def kv_set(self, key: str, value: str, ttl: float | None = None) -> None: ...

    @abstractmethod
    async def kv_set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool: ...

    @abstractmethod
    async def kv_delete(self, key: str) -> None: ...


@contextlib.asynccontextmanager
async def _default_turn(store: Store, key: UserKey, wait: float) -> AsyncIterator[TurnScope]:
    async with store.lock(key, wait):
        yield TurnScope(store, key, await store.load_session(key))


__all__ = [
    "LockTimeout",
    "Store",
    "StoreError",
    "TranscriptLine",
    "TurnConflict",
    "TurnScope",
    "UserKey",
]
