"""What a colleague can do with a ticket, whether from the console or the Telegram staff group:
claim it, reply to the user, close it and hand the user back to the bot."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.store.base import StoreError, TranscriptLine, UserKey
from bot.store.tickets import (
    QuotaUsed,
    Ticket,
    TicketNotFound,
    TicketStore,
    WindowClosed,
    utcnow,
)

from .desk import HandoffDesk
from .relay import NoChannel, Relay
from .texts import StaffTexts

log = logging.getLogger(__name__)

MAX_REPLY = 2000  # characters; WeChat cuts near 680 Chinese characters, so this is 3 messages


def problem_code(exc: BaseException) -> str:
    """The stable name of a delivery problem, for the API and the staff group."""
    if isinstance(exc, WindowClosed):
        return "window_closed"
    if isinstance(exc, QuotaUsed):
        return "quota_used"
    if isinstance(exc, NoChannel):
        return "no_channel"
    return "send_failed"


@dataclass(frozen=True, slots=True)
class Closed:
    ticket: Ticket
    handback_problem: str | None  # None: the user was told and is back with the bot


class StaffActions:
    def __init__(
        self,
        tickets: TicketStore,
        relay: Relay,
        desk: HandoffDesk,
        texts: StaffTexts,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.tickets = tickets
        self.relay = relay
        self.desk = desk
        self.texts = texts
        self.clock = clock

    async def _get(self, ticket_id: str) -> Ticket:
        ticket = await self.tickets.get(ticket_id)
        if ticket is None:
            raise TicketNotFound(ticket_id)
        return ticket

    async def claim(self, ticket_id: str, agent: str) -> Ticket:
        ticket = await self.tickets.claim(ticket_id, agent)
        log.info("ticket %s claimed by %s", ticket.id, agent)
        return ticket

    async def reply(self, ticket_id: str, agent: str, text: str) -> Ticket:
        """Claim (if open), deliver, then record. Raises TicketError, WindowError or
        RelayError; nothing is recorded when the user did not get the message."""
        await self.tickets.claim(ticket_id, agent)
        ticket = await self._get(ticket_id)
        shown = self.texts("handoff.staff_reply", text=text)
        await self.relay.send_text(ticket.channel, ticket.user, shown)
        ticket = await self.tickets.reply(ticket_id, agent, text)
        await self._transcribe(ticket, f"staff:{agent}", text)
        return ticket

    async def close(self, ticket_id: str, agent: str) -> Closed:
        ticket = await self.tickets.close(ticket_id, agent)
        log.info("ticket %s closed by %s", ticket.id, agent)
        problem = await self.hand_back(ticket)
        return Closed(ticket, problem)

    async def hand_back(self, ticket: Ticket) -> str | None:
        try:
            replies = await self.desk.handback(ticket.channel, ticket.user)
            await self.relay.deliver(ticket.channel, ticket.user, replies)
        except StoreError as exc:
            # The session stays marked as waiting; the desk sends it back to the bot on the
            # user's next message, because the ticket is closed.
            log.warning("ticket %s: handback not saved: %s", ticket.id, exc)
            return "send_failed"
        except Exception as exc:
            log.warning("ticket %s: handback message not delivered: %s", ticket.id, exc)
            return problem_code(exc)
        return None

    async def _transcribe(self, ticket: Ticket, sender: str, text: str) -> None:
        """Staff replies go into the user's transcript too: it is one conversation."""
        try:
            line = TranscriptLine(self.clock(), sender, text)
            await self.desk.store.append_transcript(UserKey(ticket.channel, ticket.user), [line])
        except StoreError as exc:
            log.warning("ticket %s: staff reply not added to the transcript: %s", ticket.id, exc)


__all__ = ["MAX_REPLY", "Closed", "StaffActions", "problem_code"]
