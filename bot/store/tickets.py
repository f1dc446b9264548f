"""Handoff tickets: what staff see and answer, and WeChat's customer-service window per user.

A ticket is opened when a user asks for a colleague and lives `open` → `claimed` → `closed`.
At most one ticket per user is active (open or claimed) at a time. Every change bumps a store
wide revision number, so a console can poll one integer and fetch lists only when it moved.

WeChat lets an account send customer-service messages to a user only within 48 hours of the
user's last message, and at most 5 of them per user message (the count starts again when the
user writes). `note_user_message` records the user's side; `reserve_message` takes one of the
5 atomically before a send, `release_message` gives it back when the send failed.

Backends: tickets_sqlite.py (beside the SQLite store, same file) and tickets_redis.py.
`ticket_store_for(store)` picks the one matching a bot store.
"""

from __future__ import annotations

import builtins
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from bot.errors import BotError

from .base import Store
from .cs_window import QUOTA, WINDOW, QuotaUsed, Window, WindowClosed, WindowError

log = logging.getLogger(__name__)

Status = Literal["open", "claimed", "closed"]
STATUSES: tuple[str, ...] = get_args(Status)
Flag = Literal["announced", "apologised"]
FLAGS: tuple[str, ...] = get_args(Flag)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TicketError(BotError):
    """A ticket operation that cannot be done as asked."""


class TicketNotFound(TicketError):
    pass


class TicketConflict(TicketError):
    """Another agent has claimed the ticket (HTTP 409)."""

    def __init__(self, ticket_id: str, claimed_by: str) -> None:
        super().__init__(f"ticket {ticket_id} is claimed by {claimed_by}")
        self.claimed_by = claimed_by


class TicketClosed(TicketError):
    """The ticket is already closed."""


@dataclass(frozen=True, slots=True)
class TicketMessage:
    at: datetime
    sender: str  # "user" | "bot" | "staff:<name>" | "system"
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"at": self.at.isoformat(), "sender": self.sender, "text": self.text}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TicketMessage:
        return cls(parse_time(str(data["at"])), str(data["sender"]), str(data["text"]))


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str
    channel: str
    user: str
    reason: str
    opened_at: datetime
    status: Status
    claimed_by: str | None = None
    transcript: tuple[TicketMessage, ...] = ()  # the conversation before the ticket
    slots: dict[str, Any] = field(default_factory=dict)
    assessment: builtins.list[dict[str, Any]] = field(default_factory=list)
    messages: tuple[TicketMessage, ...] = ()  # user and staff messages since it opened
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None

    @property
    def active(self) -> bool:
        return self.status != "closed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "user": self.user,
            "reason": self.reason,
            "opened_at": self.opened_at.isoformat(),
            "status": self.status,
            "claimed_by": self.claimed_by,
            "transcript": [m.to_dict() for m in self.transcript],
            "slots": self.slots,
            "assessment": self.assessment,
            "messages": [m.to_dict() for m in self.messages],
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "closed_by": self.closed_by,
        }


def parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def ticket_number(ticket_id: str) -> int:
    """A ticket id as the stores number them; TicketNotFound for anything else (ids come
    from URLs)."""
    if not ticket_id.isascii() or not ticket_id.isdigit() or len(ticket_id) > 18:
        raise TicketNotFound(ticket_id)
    return int(ticket_id)


def check_status(status: str) -> Status:
    if status not in STATUSES:
        raise ValueError(f"unknown ticket status {status!r}; one of {', '.join(STATUSES)}")
    return status  # type: ignore[return-value]


class TicketStore(ABC):
    """Async ticket persistence. Methods may raise StoreError (backend down) as the bot store's.

    Parameters: `clock` giving aware UTC times (tests pass a fake)."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self.clock = clock

    # Named apart from the bot store's open/close: `close` here closes a ticket.
    async def connect(self) -> None:  # noqa: B027 - optional hook
        """Connect and create the schema."""

    async def disconnect(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    @abstractmethod
    async def create(
        self,
        channel: str,
        user: str,
        reason: str,
        transcript: builtins.list[TicketMessage],
        slots: dict[str, Any],
        assessment: builtins.list[dict[str, Any]],
    ) -> Ticket:
        """A new open ticket; the user's active ticket instead when there already is one."""

    @abstractmethod
    async def get(self, ticket_id: str) -> Ticket | None: ...

    @abstractmethod
    async def list(self, status: Status, limit: int = 100) -> builtins.list[Ticket]:
        """Tickets in `status`: open and claimed oldest first, closed newest first."""

    @abstractmethod
    async def claim(self, ticket_id: str, agent: str) -> Ticket:
        """Atomically claim; claiming one's own ticket again is a no-op. Raises TicketNotFound,
        TicketConflict (another agent has it) or TicketClosed."""

    @abstractmethod
    async def reply(self, ticket_id: str, agent: str, text: str) -> Ticket:
        """Append a staff message, claiming an open ticket for `agent` first. Same errors."""

    @abstractmethod
    async def add_user_message(self, channel: str, user: str, text: str) -> Ticket | None:
        """Append a user message to the user's active ticket; None when there is none."""

    @abstractmethod
    async def close(self, ticket_id: str, agent: str, *, force: bool = False) -> Ticket:
        """Close; `force` (the user cancelled, or a timeout) ignores who claimed it."""

    @abstractmethod
    async def open_ticket_for(self, channel: str, user: str) -> Ticket | None:
        """The user's active (open or claimed) ticket."""

    @abstractmethod
    async def mark_once(self, ticket_id: str, flag: Flag) -> bool:
        """True for the first caller only (across workers): announce or apologise once."""

    @abstractmethod
    async def revision(self) -> int:
        """A number that grows with every change to any ticket."""

    @abstractmethod
    async def forget(self, channel: str, user: str) -> int:
        """Erase the user's tickets and window; return how many tickets went."""

    @abstractmethod
    async def purge(self, older_than: datetime) -> int:
        """Erase tickets last changed before `older_than`, whatever their status (an open one
        nobody touched for the whole retention is as dead as the session it came from), and
        windows of users who last wrote before it; return how many tickets went."""

    # The WeChat customer-service window.

    @abstractmethod
    async def note_user_message(self, channel: str, user: str, at: datetime | None = None) -> None:
        """The user wrote: the window opens for 48 hours and the count starts again."""

    @abstractmethod
    async def window(self, channel: str, user: str) -> Window: ...

    @abstractmethod
    async def reserve_message(self, channel: str, user: str) -> Window:
        """Count one message against the window atomically, or raise WindowClosed/QuotaUsed."""

    @abstractmethod
    async def release_message(self, channel: str, user: str) -> None:
        """Give back a reserved message whose send failed."""


def _beside(store: Store, clock: Callable[[], datetime]) -> TicketStore | None:
    from .sqlite import SqliteStore
    from .tickets_sqlite import SqliteTickets

    if isinstance(store, SqliteStore):
        return SqliteTickets(store.path, clock=clock)
    url = getattr(store, "url", None) or getattr(store, "_url", None)
    if isinstance(url, str) and url.split(":", 1)[0] in ("redis", "rediss", "unix"):
        from .tickets_redis import RedisTickets

        prefix = getattr(store, "_prefix", "jifen:")
        return RedisTickets(url, prefix=f"{prefix}staff:", clock=clock)
    return None


def ticket_store_for(store: Store, clock: Callable[[], datetime] = utcnow) -> TicketStore:
    """The ticket store living beside `store`: same SQLite file, or same Redis."""
    tickets = _beside(store, clock)
    if tickets is None:
        from .tickets_sqlite import SqliteTickets

        # An in-memory test store: tickets live as long as the process, all it promises.
        log.warning("tickets kept in memory: %s has no file or server", type(store).__name__)
        tickets = SqliteTickets(":memory:", clock=clock)
    return tickets


async def forget_tickets(store: Store, channel: str, user: str) -> int:
    """Erase a user's tickets kept beside `store` (for `jifen-bot forget` and unsubscribes)."""
    return await _erase_beside(store, lambda tickets: tickets.forget(channel, user))


async def purge_tickets(store: Store, older_than: datetime) -> int:
    """Erase tickets kept beside `store` last changed before `older_than` (the retention)."""
    return await _erase_beside(store, lambda tickets: tickets.purge(older_than))


async def _erase_beside(store: Store, erase: Callable[[TicketStore], Awaitable[int]]) -> int:
    """`erase` on the ticket store beside `store`, opened for it alone; 0 when there is none."""
    tickets = _beside(store, utcnow)
    if tickets is None:
        return 0
    await tickets.connect()
    try:
        return await erase(tickets)
    finally:
        await tickets.disconnect()


__all__ = [
    "FLAGS",
    "QUOTA",
    "STATUSES",
    "WINDOW",
    "Flag",
    "QuotaUsed",
    "Status",
    "Ticket",
    "TicketClosed",
    "TicketConflict",
    "TicketError",
    "TicketMessage",
    "TicketNotFound",
    "TicketStore",
    "Window",
    "WindowClosed",
    "WindowError",
    "check_status",
    "forget_tickets",
    "parse_time",
    "purge_tickets",
    "ticket_number",
    "ticket_store_for",
    "utcnow",
]
