"""What goes into the engine (Incoming) and what comes out of one turn (Turn, Event)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bot.dialog.replies import Reply
from bot.dialog.state import SessionState

# "text" is the normal case; channels map pictures, voice and stickers they cannot read to the
# other kinds so that the engine answers them politely instead of trying to match them.
IncomingKind = Literal["text", "sticker", "media"]

# Event kinds the service acts on. Kept as a closed set so that a typo fails type checking.
EventKind = Literal[
    "handoff_requested",  # the user asked for a colleague; data: reason, step, certificates
    "handoff_message",  # a message while staff have the conversation; data: text
    "handoff_cancelled",  # the user went back to the bot
    "finished",  # a certificate was assessed; data: entry_id, grade, points, full_points, review
    "restarted",
    "expired",
]


@dataclass(frozen=True, slots=True)
class Incoming:
    text: str
    kind: IncomingKind = "text"


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    data: dict[str, Any] = field(default_factory=dict)


# Not frozen (its lists never were): one is built for every message, and a frozen dataclass
# takes about twice as long to build.
@dataclass(slots=True)
class Turn:
    state: SessionState
    replies: list[Reply]
    events: list[Event]


__all__ = ["Event", "EventKind", "Incoming", "IncomingKind", "Turn"]
