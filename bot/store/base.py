"""The store interface every backend implements (SQLite by default, Redis at scale).

Kept narrow and async so that a second backend is a drop-in. Keys are (channel, user) pairs;
user ids are the channel's own (openid, Telegram chat id, terminal name).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
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

    # Dedupe of channel retries (WeChat MsgId, Telegram update_id).
    @abstractmethod
    async def claim_once(self, namespace: str, msg_id: str, ttl: float) -> bool:
        """True for the first caller of (namespace, msg_id) within ttl seconds, False after."""

    @abstractmethod
    async def set_result(self, namespace: str, msg_id: str, result: str, ttl: float) -> None:
        """Store the rendered answer of a claimed message for retries to pick up."""

    @abstractmethod
    async def get_result(self, namespace: str, msg_id: str) -> str | None: ...

    # Small expiring values: access tokens, rate-limit counters.
    @abstractmethod
    async def kv_get(self, key: str) -> str | None: ...

    @abstractmethod
    async def kv_set(self, key: str, value: str, ttl: float | None = None) -> None: ...

    @abstractmethod
    async def kv_set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool: ...

    @abstractmethod
    async def kv_delete(self, key: str) -> None: ...


__all__ = ["LockTimeout", "Store", "StoreError", "TranscriptLine", "UserKey"]
