"""The dialog engine: (session state, message, now) -> (new state, replies, events).

Pure: no I/O, no clock, no channel. The caller passes `now` and stores the returned state.
Order of business for a message: session expiry, handoff mode, over-long input, global
commands (重新开始, 返回, 帮助, 人工), unreadable input (empty, emoji, stickers), then the
current state's reader. A reply the reader cannot use counts as unclear; after
`unclear_before_offer` of them in a row, a colleague is offered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.dialog.context import Config, Ctx
from bot.dialog.facts import facts_of
from bot.dialog.flow import Command, Flow, load_flow
from bot.dialog.guard import problem
from bot.dialog.lexicon import Lexicon, load_lexicon
from bot.dialog.messages import Incoming, Turn
from bot.dialog.ports import MatcherPort, RulesPort
from bot.dialog.replies import Choice, Reply
from bot.dialog.slots import key, parse_answer, parse_choice, parse_ordinal
from bot.dialog.state import SessionState, StateError
from bot.dialog.steps import STEPS, check_flow
from bot.dialog.texts import Texts, load_texts
from bot.errors import DialogDataError

HUMAN = "/human"  # the value of the "转人工" choice; also a command word in flow.yaml


class DialogEngine:
    """Parameters: the flow, texts and lexicon (default: the shipped dialogs/), and the rules
    and matcher the conversation consults. Checks that all of them agree before first use."""

    def __init__(
        self,
        rules: RulesPort,
        matcher: MatcherPort,
        flow: Flow | None = None,
        texts: Texts | None = None,
        lexicon: Lexicon | None = None,
    ) -> None:
        flow = flow or load_flow()
        texts = texts or load_texts()
        check_flow(flow)
        flow.check_texts(texts)
        if flow.command(HUMAN) != "human":
            raise DialogDataError(flow.file, "commands.human", f"must include {HUMAN}")
        self.cfg = Config(flow, texts, lexicon or load_lexicon(), rules, matcher)
        self._idle = timedelta(minutes=flow.session.idle_minutes)

    @property
    def flow(self) -> Flow:
        return self.cfg.flow

    @property
    def texts(self) -> Texts:
        return self.cfg.texts

    # Entry points ---------------------------------------------------------------------------

    def handle(self, state: SessionState | None, msg: Incoming, now: datetime) -> Turn:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        try:
            ctx = self._turn(state, msg, now)
        except StateError:
            # A damaged or outdated state (an entry the catalogue no longer has): start again
            # rather than fail the user on every message.
            ctx = Ctx(self.cfg, self._new(now), now)
            ctx.emit("restarted", reason="damaged_state")
            ctx.say(ctx.t("command.restart"))
            self._ask(ctx)
        ctx.state.updated_at = now
        return Turn(ctx.state, ctx.replies, ctx.events)

    def resume(self, state: SessionState | None, now: datetime) -> Turn:
        """What an interactive channel shows on opening: a greeting, or where we left off."""
        if state is None or self._expired(state, now):
            ctx = Ctx(self.cfg, self._new(now), now)
            ctx.say(ctx.t("greeting"))
        else:
            ctx = Ctx(self.cfg, state.copy(), now)
            if ctx.state.mode == "handoff":
                ctx.say(ctx.t("command.human_paused"))
                return Turn(ctx.state, ctx.replies, ctx.events)
            ctx.say(ctx.t("session.welcome_back"))
        self._ask(ctx)
        return Turn(ctx.state, ctx.replies, ctx.events)

    # One turn -------------------------------------------------------------------------------

    def _new(self, now: datetime) -> SessionState:
        return SessionState.new(self.flow.start, now)

    def _expired(self, state: SessionState, now: datetime) -> bool:
        # Nobody is timed out while waiting for a colleague.
        return state.mode == "bot" and now - state.updated_at > self._idle

    def _turn(self, state: SessionState | None, msg: Incoming, now: datetime) -> Ctx:
        if state is None:
            ctx = Ctx(self.cfg, self._new(now), now)
            ctx.say(ctx.t("greeting"))
            self._opening(ctx, msg)
        elif self._expired(state, now):
            ctx = Ctx(self.cfg, self._new(now), now)
            ctx.emit("expired", step=state.step)
            ctx.say(ctx.t("session.expired", minutes=self.flow.session.idle_minutes))
            self._opening(ctx, msg)
        else:
            ctx = Ctx(self.cfg, state.copy(), now)
            self._message(ctx, msg)
        return ctx

    def _opening(self, ctx: Ctx, msg: Incoming) -> None:
        """The first message of a session: read it as a certificate unless it plainly is not
        (a greeting, a stray 是 left from an expired conversation, a sticker)."""
        lex, text = self.cfg.lexicon, msg.text
        issue = self._problem(msg)
        command = None if issue else self.flow.command(text)
        if command in ("help", "human"):
            self._command(ctx, command)
            return
        k = key(text)
        not_a_name = (
            issue is not None
            or command is not None
            or k in lex.greetings
            or k in lex.thanks
            or parse_answer(text, lex) is not None
            or parse_ordinal(text, lex) is not None
        )
        if not_a_name:
            self._ask(ctx)
        else:
            self._read(ctx, text)

    def _message(self, ctx: Ctx, msg: Incoming) -> None:
        state, flow = ctx.state, self.cfg.flow
        if state.mode == "handoff":
            self._handoff_message(ctx, msg)
            return
        spec = flow.states.get(state.step)
        if spec is None or spec.kind != "ask":
            raise StateError(f"step {state.step!r} is not a question of this flow")
        issue = self._problem(msg)
        if issue != "too_long":
            command = flow.command(msg.text)
            if command is None and spec.slot != "insurance":  # there numbers are months
                # A choice whose value is a command word ("转人工" is /human), picked by number.
                value = parse_choice(msg.text, state.offered, self.cfg.lexicon, partial=False)
                command = flow.command(value) if value and value.startswith("/") else None
            if command is not None:
                self._command(ctx, command)
                return
        if issue is not None:
            text = ctx.t(f"input.{issue}", limit=flow.session.max_input_chars)
            self._unclear(ctx, text)
            return
        self._read(ctx, msg.text)

    def _problem(self, msg: Incoming) -> str | None:
        if msg.kind != "text":
            return msg.kind
        return problem(msg.text, self.cfg.flow.session.max_input_chars)

    def _read(self, ctx: Ctx, text: str) -> None:
        before = ctx.state.snapshot()
        read = STEPS[ctx.state.step].read
        assert read is not None  # check_flow: every ask state has a reader
        outcome = read(ctx, text)
        if outcome is None:
            self._unclear(ctx, ctx.unclear_note)
            return
        ctx.state.unclear = 0
        self._advance(ctx, ctx.state.step, outcome)
        self._remember(ctx, before)

    def _advance(self, ctx: Ctx, origin: str, outcome: str) -> None:
        states = self.cfg.flow.states
        target = states[origin].on[outcome]
        # check_flow guarantees that decide/say states reach an ask state without looping.
        while states[target].kind != "ask":
            run = STEPS[target].run
            assert run is not None
            target = states[target].on[run(ctx)]
        ctx.state.step = target
        self._ask(ctx)

    def _remember(self, ctx: Ctx, before: dict[str, object]) -> None:
        """Keep the state before this answer for 返回, unless the answer changed nothing."""
        state = ctx.state  # compared part by part, cheapest first: no second full snapshot
        if (
            before["step"] == state.step
            and before["cert"] == state.cert.to_dict()
            and before["done"] == [c.to_dict() for c in state.done]
        ):
            return
        depth = self.cfg.flow.session.undo_depth
        ctx.state.history = [*ctx.state.history, before][-depth:]

    def _ask(self, ctx: Ctx, offer_human: bool = False) -> None:
        ask = STEPS[ctx.state.step].ask
        assert ask is not None
        reply = ask(ctx)
        if offer_human and all(c.value != HUMAN for c in reply.choices):
            reply = Reply(reply.text, (*reply.choices, Choice(ctx.t("choice.human"), HUMAN)))
        ctx.replies.append(reply)
        ctx.state.offered = list(reply.choices)

    def _unclear(self, ctx: Ctx, note: str | None) -> None:
        state = ctx.state
        state.unclear += 1
        slot = self.flow.states[state.step].slot or "text"
        lines = [note or ctx.t(f"unclear.{slot}")]
        offer = state.unclear >= self.flow.session.unclear_before_offer
        if offer:
            lines.append(ctx.t("unclear.offer_human"))
        ctx.say("\n".join(lines))
        self._ask(ctx, offer_human=offer)

    # Global commands ------------------------------------------------------------------------

    def _command(self, ctx: Ctx, command: Command) -> None:
        state = ctx.state
        if command == "restart":
            ctx.state = self._new(ctx.now)
            ctx.emit("restarted", reason="asked")
            ctx.say(ctx.t("command.restart"))
        elif command == "undo":
            if state.history:
                previous = SessionState.from_dict(state.history[-1])
                previous.history = state.history[:-1]
                ctx.state = previous
                ctx.say(ctx.t("command.undo"))
            else:
                ctx.say(ctx.t("command.undo_none"))
        elif command == "help":
            spec = self.flow.states[state.step]
            extra = [ctx.t(spec.help)] if spec.help else []
            ctx.say("\n".join([ctx.t("help.general"), *extra]))
        elif command == "human":
            self._handoff(ctx)
            if state.mode == "handoff":
                return
        elif command == "resume_bot" and state.mode == "handoff":
            state.mode = "bot"
            ctx.emit("handoff_cancelled")
            ctx.say(ctx.t("command.resume_bot"))
        ctx.state.unclear = 0
        self._ask(ctx)

    def _handoff(self, ctx: Ctx) -> None:
        state = ctx.state
        if state.unclear >= self.flow.session.unclear_before_offer:
            reason = "unclear"
        elif state.step == "another" and state.done:
            last = state.done[-1]
            entry = ctx.entry(last.entry_id)
            review = self.cfg.rules.assess(entry, facts_of(last, ctx.on), ctx.on).review
            reason = "review" if review else "after_result"
        else:
            reason = "asked"
        ctx.emit(
            "handoff_requested",
            reason=reason,
            step=state.step,
            certificate=state.cert.to_dict(),
            done=[c.to_dict() for c in state.done],
        )
        if self.flow.session.handoff_pauses_bot:
            state.mode = "handoff"
            state.offered = []
            ctx.say("\n".join([ctx.t("command.human"), ctx.t("command.human_paused")]))
        else:
            ctx.say("\n".join([ctx.t("command.human"), ctx.t("command.human_continue")]))

    def _handoff_message(self, ctx: Ctx, msg: Incoming) -> None:
        """While staff have the conversation the bot is silent, except for 取消人工."""
        if self.flow.command(msg.text) == "resume_bot":
            self._command(ctx, "resume_bot")
        else:
            ctx.emit("handoff_message", text=msg.text, message_kind=msg.kind)


__all__ = ["HUMAN", "DialogEngine"]
