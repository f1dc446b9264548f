"""Background work of the staff mount: announce new tickets to the Telegram staff group, and
apologise to users whose ticket nobody claimed within JIFEN_HANDOFF_TIMEOUT.

Every worker runs this loop; `mark_once` on the ticket makes sure only one of them announces
or apologises, however many are running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.dialog.replies import Choice, Reply
from bot.store.base import Store, StoreError, TranscriptLine, UserKey
from bot.store.tickets import Ticket, TicketStore, utcnow

from .group import StaffGroup
from .relay import Relay
from .texts import StaffTexts

log = logging.getLogger(__name__)


class Watcher:
    def __init__(
        self,
        tickets: TicketStore,
        relay: Relay,
        store: Store,
        texts: StaffTexts,
        timeout: float,
        group: StaffGroup | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.tickets = tickets
        self.relay = relay
        self.store = store
        self.texts = texts
        self.timeout = timedelta(seconds=timeout)
        self.group = group
        self.clock = clock
        # Often enough that a short timeout is honoured closely; never a busy loop.
        self.interval = min(5.0, max(0.2, timeout / 4))
        self._task: asyncio.Task[None] | None = None

    async def announce(self, ticket: Ticket) -> None:
        if self.group is not None and await self.tickets.mark_once(ticket.id, "announced"):
            await self.group.announce(ticket)

    async def tick(self) -> None:
        now = self.clock()
        for ticket in await self.tickets.list("open", limit=500):
            await self.announce(ticket)
            late = now - ticket.opened_at >= self.timeout
            if late and await self.tickets.mark_once(ticket.id, "apologised"):
                await self._apologise(ticket)

    async def _apologise(self, ticket: Ticket) -> None:
        text = self.texts("handoff.timeout")
        choices: tuple[Choice, ...] = ()
        if ticket.channel == "telegram":
            # Buttons where the channel has them; elsewhere the sentence names the words.
            wait, back = self.texts("handoff.choice_wait"), self.texts("handoff.choice_bot")
            choices = (Choice(wait, wait), Choice(back, back))
        try:
            await self.relay.deliver(ticket.channel, ticket.user, [Reply(text, choices)])
            line = TranscriptLine(self.clock(), "bot", text)
            await self.store.append_transcript(UserKey(ticket.channel, ticket.user), [line])
            log.info("ticket %s unclaimed after %s: user told", ticket.id, self.timeout)
        except Exception as exc:
            log.warning("ticket %s: timeout apology not delivered: %s", ticket.id, exc)

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except StoreError as exc:
                log.warning("staff watcher: store unavailable (%s)", exc)
            except Exception:
                log.exception("staff watcher failed; trying again")
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


__all__ = ["Watcher"]
