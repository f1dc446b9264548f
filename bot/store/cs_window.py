"""WeChat's customer-service window for one user, as the ticket stores keep it.

WeChat accepts customer-service messages to a user only within 48 hours of the user's last
message, and at most 5 of them per user message (the count starts again when the user
writes). Outside that, sends fail with 45015 (window) or 45047 (quota).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.errors import BotError

WINDOW = timedelta(hours=48)  # customer-service messages allowed this long after the user wrote
QUOTA = 5  # customer-service messages allowed per user message within the window
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(at: datetime) -> int:
    """Microseconds since the epoch: how the stores keep times, exact and sortable."""
    return (at - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


class WindowError(BotError):
    """A customer-service message may not be sent now."""


class WindowClosed(WindowError):
    """More than 48 hours since the user last wrote (WeChat error 45015)."""


class QuotaUsed(WindowError):
    """The 5 messages allowed since the user last wrote are used up (WeChat error 45047)."""


@dataclass(frozen=True, slots=True)
class Window:
    """A user's customer-service window as of the last message they sent."""

    last_user_at: datetime | None
    sent: int = 0

    def closes_at(self) -> datetime | None:
        return None if self.last_user_at is None else self.last_user_at + WINDOW

    def is_open(self, now: datetime) -> bool:
        closes = self.closes_at()
        return closes is not None and now < closes

    def remaining(self, now: datetime) -> int:
        return max(0, QUOTA - self.sent) if self.is_open(now) else 0

    def check(self, now: datetime) -> None:
        """Raise unless one more message may be sent now."""
        if not self.is_open(now):
            raise WindowClosed("the user has not written within 48 hours")
        if self.sent >= QUOTA:
            raise QuotaUsed(f"{QUOTA} messages already sent since the user last wrote")

    def to_dict(self, now: datetime) -> dict[str, Any]:
        closes = self.closes_at()
        return {
            "open": self.is_open(now),
            "closes_at": closes.isoformat() if closes else None,
            "last_user_at": self.last_user_at.isoformat() if self.last_user_at else None,
            "sent": self.sent,
            "remaining": self.remaining(now),
            "quota": QUOTA,
        }


__all__ = [
    "QUOTA",
    "WINDOW",
    "QuotaUsed",
    "Window",
    "WindowClosed",
    "WindowError",
    "from_us",
    "to_us",
]
