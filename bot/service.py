"""The one place that glues the dialog engine to the store; every channel calls only this.

For each message, under the user's lock: load the session, run the engine, save the new
state, append both sides to the transcript, act on the engine's events, return the replies.
When the store fails the user gets a polite line from dialogs/texts.yaml and the log gets the
details; nobody sees a stack trace.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from bot import metrics
from bot.dialog.engine import DialogEngine
from bot.dialog.messages import Event, Incoming, IncomingKind, Turn
from bot.dialog.ports import MatcherPort, RulesPort
from bot.dialog.replies import Reply
from bot.dialog.state import SessionState, StateError
from bot.errors import ConfigError
from bot.logs import message_scope, pseudonym
from bot.once import recorded, remember
from bot.store.base import Store, StoreError, TranscriptLine, TurnConflict, UserKey

log = logging.getLogger(__name__)

IDLE_ENV = "JIFEN_SESSION_IDLE_MINUTES"


def utcnow() -> datetime:
    return datetime.now(UTC)


def handoff_key(key: UserKey) -> str:
    """The kv key of a user's latest request for a colleague (issue 7 turns these into tickets)."""
    return f"handoff:{key.channel}:{key.user}"


async def forget_user(store: Store, key: UserKey) -> None:
    """Erase everything kept about a user: what the store holds, the handoff request and the
    tickets of the staff console."""
    from bot.store.tickets import forget_tickets

    await store.forget(key)
    await store.kv_delete(handoff_key(key))
    await forget_tickets(store, key.channel, key.user)


class HandoffDesk(Protocol):
    """Staff taking over conversations (bot/staff/desk.py), attached when the console is on."""

    def bind(self, service: Service) -> None: ...

    async def before(
        self, key: UserKey, state: SessionState | None, now: datetime
    ) -> SessionState | None: ...

    async def extras(self, key: UserKey, turn: Turn) -> list[Reply]: ...

    async def after(
        self, key: UserKey, turn: Turn, now: datetime, extras: list[Reply]
    ) -> list[Reply]: ...


class Service:
    """Parameters: an opened `store`; the `engine`; `clock` returning aware UTC times (tests
    pass a fake); `lock_timeout` seconds to wait for the user's previous message."""

    def __init__(
        self,
        store: Store,
        engine: DialogEngine,
        clock: Callable[[], datetime] = utcnow,
        lock_timeout: float = 10.0,
    ) -> None:
        self.store = store
        self.engine = engine
        self.clock = clock
        self.lock_timeout = lock_timeout
        self.desk: HandoffDesk | None = None

    def attach_handoff(self, desk: HandoffDesk) -> None:
        """From now on a request for a colleague opens a ticket and the bot waits for staff."""
        self.desk = desk
        desk.bind(self)

    async def handle(
        self,
        channel: str,
        user: str,
        text: str,
        kind: IncomingKind = "text",
        *,
        once: str | None = None,
    ) -> list[Reply]:
        """One message through the conversation. `once`: the channel's id of the message
        (WeChat's MsgId); a message already run under it gets the replies it had, instead of
        moving the conversation on twice (bot/once.py)."""
        # The scope keeps the user's id and words out of log lines, whoever writes them.
        with message_scope(channel, user, text):
            return await self._handle(UserKey(channel, user), text, kind, once)

    async def _handle(
        self, key: UserKey, text: str, kind: IncomingKind, once: str | None
    ) -> list[Reply]:
        try:
            try:
                return await self._turn(key, text, kind, once, exclusive=False)
            except TurnConflict:
                # Another worker changed the session while this turn ran (nothing of it was
                # written): again on the new state, this time holding the lock across workers.
                log.info("session of %s changed meanwhile: the turn runs again", _who(key))
                return await self._turn(key, text, kind, once, exclusive=True)
        except StoreError as exc:
            # Log what happened and to whom; tell the user to try again in a moment.
            metrics.error(metrics.STORE)
            log.error(
                "store failed for %s (%s): %s", _who(key), type(exc).__name__, exc, exc_info=exc
            )
            return [Reply(self.engine.texts("session.store_unavailable"))]
        except Exception:
            # A bug: the log gets the trace, the user a polite line and the way to a person.
            metrics.error(metrics.INTERNAL)
            log.exception("message from %s could not be handled", _who(key))
            return [Reply(self.engine.texts("session.error"))]

    async def _turn(
        self, key: UserKey, text: str, kind: IncomingKind, once: str | None, *, exclusive: bool
    ) -> list[Reply]:
        # Lock and load in one store step, save and transcript (and, when nothing follows,
        # unlock) in another: see Store.turn.
        async with self.store.turn(key, timeout=self.lock_timeout, exclusive=exclusive) as scope:
            if once is not None and (again := recorded(scope.loaded, once)) is not None:
                metrics.dedupe_hit(key.channel)
                log.info("message of %s was run before: same replies again", _who(key))
                return again
            if not exclusive:  # counted once a message, not again when a conflict reruns it
                metrics.message(key.channel)
            received = self.clock()
            # The state this process saved last, when the store kept it: not decoded again.
            memo = scope.memo
            state = memo if isinstance(memo, SessionState) else self._decode(key, scope.loaded)
            if self.desk is not None:
                state = await self.desk.before(key, state, received)
            turn = self.engine.handle(state, Incoming(text, kind), received)
            lines = _lines(received, text, turn, self.clock())
            last = self.desk is None and not turn.events
            saved = turn.state.to_dict()
            # What the handoff desk adds to the answer, known before the save so that a message
            # run again gets the whole of it.
            extras = [] if self.desk is None else await self.desk.extras(key, turn)
            if once is not None:  # recorded in the same write as the state it led to
                saved = remember(saved, scope.loaded, once, [*turn.replies, *extras])
            # turn.state is not changed after this: the engine copies the state it is given.
            await scope.save(saved, lines, last=last, memo=turn.state)
            for event in turn.events:
                await self._act(key, event, received)
            if self.desk is not None:
                return await self.desk.after(key, turn, received, extras)
            return turn.replies

    async def replies_of(self, channel: str, user: str, once: str) -> list[Reply] | None:
        """The replies of the message already run under `once`, or None when none was (or the
        store cannot say). Runs nothing: for a channel that must not run a message again
        unless it already ran, such as a pressed button whose keyboard is gone by now."""
        key = UserKey(channel, user)
        try:
            loaded = await self.store.load_session(key)
        except StoreError as exc:
            log.warning("could not look up an earlier run for %s: %s", _who(key), exc)
            return None
        again = recorded(loaded, once)
        if again is not None:
            metrics.dedupe_hit(channel)
        return again

    async def greet(self, channel: str, user: str) -> list[Reply]:
        """For interactive channels opening a conversation: greeting, or where we left off."""
        key = UserKey(channel, user)
        try:
            # Exclusive: a greeting is rare, and has no message to run again on a conflict.
            async with self.store.turn(key, timeout=self.lock_timeout, exclusive=True) as scope:
                now = self.clock()
                turn = self.engine.resume(self._decode(key, scope.loaded), now)
                # Saved, so that the first message answers this question, not a new greeting.
                saved, lines = turn.state.to_dict(), _lines(now, None, turn, now)
                await scope.save(saved, lines, last=True, memo=turn.state)
                return turn.replies
        except StoreError as exc:
            metrics.error(metrics.STORE)
            log.error("store failed for %s on greeting: %s", _who(key), exc, exc_info=exc)
            return [Reply(self.engine.texts("session.store_unavailable"))]

    async def forget(self, channel: str, user: str) -> None:
        await forget_user(self.store, UserKey(channel, user))

    def _decode(self, key: UserKey, raw: dict[str, Any] | None) -> SessionState | None:
        if raw is None:
            return None
        try:
            return SessionState.from_dict(raw)
        except StateError as exc:
            # Written by another version of the bot, or damaged: start the user afresh.
            log.warning("session of %s not readable, starting afresh: %s", _who(key), exc)
            return None

    async def _act(self, key: UserKey, event: Event, at: datetime) -> None:
        if event.kind == "finished":
            metrics.finished(key.channel)
        elif event.kind == "handoff_requested":
            metrics.handoff_opened(key.channel)
            record = {"at": at.isoformat(), "channel": key.channel, "user": key.user, **event.data}
            await self.store.kv_set(handoff_key(key), json.dumps(record, ensure_ascii=False))
            log.info("handoff requested by %s: %s", _who(key), event.data.get("reason"))
        elif event.kind == "handoff_message":
            log.info("message for staff from %s", _who(key))


def _who(key: UserKey) -> str:
    """The user as log lines show them (bot/logs.py): never the id itself."""
    return pseudonym(key.channel, key.user)


def _lines(
    received: datetime, text: str | None, turn: Turn, answered: datetime
) -> list[TranscriptLine]:
    lines = [] if text is None else [TranscriptLine(received, "user", text)]
    for reply in turn.replies:
        shown = reply.text
        if reply.choices:
            shown += "\n" + " / ".join(f"{n}. {c.label}" for n, c in enumerate(reply.choices, 1))
        lines.append(TranscriptLine(answered, "bot", shown))
    return lines


def build_engine(
    rules: RulesPort | None = None, matcher: MatcherPort | None = None
) -> DialogEngine:
    """The engine on the shipped rules and dialogs; JIFEN_SESSION_IDLE_MINUTES overrides the
    idle time of flow.yaml."""
    from bot.dialog.flow import load_flow
    from bot.rules.matcher import Matcher
    from bot.rules.ruleset import default_ruleset

    if rules is None:
        shipped = default_ruleset()
        rules, matcher = shipped, matcher or Matcher(shipped)
    flow = load_flow()
    idle = os.environ.get(IDLE_ENV)
    if idle:
        if not idle.isdigit() or int(idle) < 1:
            raise ConfigError(f"{IDLE_ENV}={idle!r}: expected a whole number of minutes")
        flow = replace(flow, session=replace(flow.session, idle_minutes=int(idle)))
    return DialogEngine(rules=rules, matcher=matcher or Matcher(rules), flow=flow)


def build_service(
    store: Store,
    *,
    rules: RulesPort | None = None,
    matcher: MatcherPort | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Service:
    """A Service on an (opened) store, with the shipped rules unless others are given."""
    return Service(store, build_engine(rules, matcher), clock=clock)


__all__ = [
    "IDLE_ENV",
    "HandoffDesk",
    "Service",
    "build_engine",
    "build_service",
    "forget_user",
    "handoff_key",
]
