"""The conversation's side of a handoff: what the service does around each turn once staff
can take over.

Attached to the service by the staff mount (`service.attach_handoff(desk)`), which also makes
the dialog pause while a colleague has the conversation (flow.yaml's handoff_pauses_bot).
Around each user message, under the user's lock:
  before  record the WeChat window (the user wrote); a session still waiting for a colleague
          whose ticket is gone (closed meanwhile, or lost) goes back to the bot.
  extras  what the desk adds to the turn's replies: the hours staff work after a request for
          a colleague, an acknowledgement of "still waiting". Read-only, and known before the
          turn is saved, so that the turn's record (bot/once.py) holds the whole answer.
  after   a request for a colleague opens a ticket (transcript, slots, assessment); a message
          while waiting goes into the ticket; 取消人工 closes it.
`handback` is the other way: a colleague closed the ticket, the bot takes over again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.dialog.engine import DialogEngine
from bot.dialog.messages import Event, Turn
from bot.dialog.replies import Reply
from bot.dialog.state import SessionState, StateError
from bot.store.base import Store, TranscriptLine, UserKey
from bot.store.tickets import Ticket, TicketClosed, TicketMessage, TicketStore

from .summary import assess_all, slots_of
from .texts import StaffTexts

log = logging.getLogger(__name__)

TRANSCRIPT_LINES = 200  # of the conversation before the ticket, copied into it
Listener = Callable[[Ticket], Awaitable[None]]


def pausing(engine: DialogEngine) -> DialogEngine:
    """The same engine, except that a handoff pauses the bot until staff hand back."""
    flow = engine.flow
    if flow.session.handoff_pauses_bot:
        return engine
    cfg = engine.cfg
    return DialogEngine(
        rules=cfg.rules,
        matcher=cfg.matcher,
        flow=replace(flow, session=replace(flow.session, handoff_pauses_bot=True)),
        texts=cfg.texts,
        lexicon=cfg.lexicon,
    )


class HandoffDesk:
    """Parameters: the `tickets`; `texts` of dialogs/staff.yaml; `hours` staff work (None:
    the default sentence)."""

    def __init__(self, tickets: TicketStore, texts: StaffTexts, hours: str | None) -> None:
        self.tickets = tickets
        self.texts = texts
        self.hours = hours or texts("handoff.hours_default")
        self.listeners: list[Listener] = []
        self._service: Any = None
        self._tasks: set[asyncio.Task[None]] = set()

    def bind(self, service: Any) -> None:
        """Called by Service.attach_handoff: from now on the bot pauses for staff."""
        self._service = service
        service.engine = pausing(service.engine)

    @property
    def store(self) -> Store:
        store: Store = self._service.store
        return store

    @property
    def engine(self) -> DialogEngine:
        engine: DialogEngine = self._service.engine
        return engine

    # Around a user's turn ---------------------------------------------------------------------

    async def before(
        self, key: UserKey, state: SessionState | None, now: datetime
    ) -> SessionState | None:
        if key.channel == "wechat":
            await self.tickets.note_user_message(key.channel, key.user, now)
        waiting = state is not None and state.mode == "handoff"
        if waiting and await self.tickets.open_ticket_for(key.channel, key.user) is None:
            assert state is not None
            log.info("%s: waiting for a ticket that is closed; back to the bot", key.channel)
            # A copy: the state given may be the one the store keeps for the next turn.
            state = state.copy()
            state.mode = "bot"
            state.unclear = 0
        return state

    async def extras(self, key: UserKey, turn: Turn) -> list[Reply]:
        """The replies the handoff adds to the turn's own; nothing is changed."""
        extra: list[Reply] = []
        for event in turn.events:
            if event.kind == "handoff_requested":
                extra.append(Reply(self.texts("handoff.hours", hours=self.hours)))
            elif event.kind == "handoff_message" and await self._still_waiting(key, event):
                extra.append(Reply(self.texts("handoff.wait_ack")))
        return extra

    async def _still_waiting(self, key: UserKey, event: Event) -> bool:
        """The user says they are still waiting, and their ticket is open."""
        if not self.texts.is_wait(str(event.data.get("text", ""))):
            return False
        return await self.tickets.open_ticket_for(key.channel, key.user) is not None

    async def after(
        self, key: UserKey, turn: Turn, now: datetime, extras: list[Reply]
    ) -> list[Reply]:
        """Once the turn is saved: act on its events (tickets), write `extras` (from
        `extras`) to the transcript; the turn's replies and the extras."""
        for event in turn.events:
            await self._act(key, event, turn.state, now)
        if extras:
            lines = [TranscriptLine(now, "bot", r.text) for r in extras]
            await self.store.append_transcript(key, lines)
        return [*turn.replies, *extras]

    async def _act(self, key: UserKey, event: Event, state: SessionState, now: datetime) -> None:
        if event.kind == "handoff_requested":
            await self._open(key, event, state, now)
        elif event.kind == "handoff_message":
            text = str(event.data.get("text", ""))
            await self.tickets.add_user_message(key.channel, key.user, text)
        elif event.kind == "handoff_cancelled":
            ticket = await self.tickets.open_ticket_for(key.channel, key.user)
            if ticket is not None:
                with contextlib.suppress(TicketClosed):  # a colleague closed it just now
                    await self.tickets.close(ticket.id, "user", force=True)

    async def _open(self, key: UserKey, event: Event, state: SessionState, now: datetime) -> None:
        lines = await self.store.transcript(key, TRANSCRIPT_LINES)
        transcript = [TicketMessage(ln.at, ln.sender, ln.text) for ln in lines]
        reason = str(event.data.get("reason", "asked"))
        assessment = assess_all(self.engine.cfg.rules, state, now)
        ticket = await self.tickets.create(
            key.channel, key.user, reason, transcript, slots_of(state), assessment
        )
        log.info("ticket %s opened (%s, %s)", ticket.id, key.channel, reason)
        for listener in self.listeners:
            self._spawn(listener(ticket))

    # Staff hand the conversation back --------------------------------------------------------

    async def handback(self, channel: str, user: str) -> list[Reply]:
        """Put the user's session back in the bot's hands; the replies to send the user."""
        key = UserKey(channel, user)
        service = self._service
        now = service.clock()  # the conversation's own clock, as for its messages
        replies = [Reply(self.texts("handoff.closed"))]
        async with self.store.lock(key, timeout=service.lock_timeout):
            raw = await self.store.load_session(key)
            try:
                state = None if raw is None else SessionState.from_dict(raw)
            except StateError:
                state = None
            if state is not None and state.mode == "handoff":
                state.mode = "bot"
                state.unclear = 0
                turn = self.engine.resume(state, now)
                await self.store.save_session(key, turn.state.to_dict())
                replies += turn.replies
            lines = [TranscriptLine(now, "bot", r.text) for r in replies]
            await self.store.append_transcript(key, lines)
        return replies

    # Background work --------------------------------------------------------------------------

    def _spawn(self, work: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("a new-ticket listener failed")

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, grace: float = 5.0) -> None:
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()


__all__ = ["HandoffDesk", "Listener", "pausing"]
