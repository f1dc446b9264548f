"""Steps that ask the conditions: the route decision, yes/no questions, social insurance."""

from __future__ import annotations

from bot.dialog.context import Ctx
from bot.dialog.facts import grade_of, insurance_question, next_condition
from bot.dialog.flow import ConditionSpec
from bot.dialog.lexicon import Lexicon
from bot.dialog.replies import Choice, Reply
from bot.dialog.slots import parse_answer, parse_choice, parse_insurance
from bot.dialog.state import Answer, StateError
from bot.rules.model import ConditionCode

_ANSWERS: tuple[Answer, ...] = ("yes", "no", "unknown")


def decide_route(ctx: Ctx) -> str:
    """What the current certificate still needs, in the order the flow asks it."""
    cert = ctx.state.cert
    entry = ctx.entry()
    # 0-point certificates (初级职称, 学徒工, 'other') are answered at once: nothing to ask.
    if entry.kind == "other" or ctx.cfg.rules.tier(entry, grade_of(entry, cert), ctx.on) == 0:
        return "zero"
    if entry.is_skill_level and not cert.occupation_asked:
        return "needs_occupation"
    if cert.grade is None and entry.is_occupation:
        if not cert.grade_asked:
            _announce(ctx)
            return "needs_grade"
        return "done"  # grade 不清楚: nothing can be scored, asking conditions would waste time
    code = next_condition(ctx)
    if code is None:
        return "done"
    cert.pending = code
    _announce(ctx)
    return (
        "ask_insurance" if ctx.cfg.flow.condition(code).answer == "insurance" else "ask_condition"
    )


def _announce(ctx: Ctx) -> None:
    """Say once which certificate we settled on, so a wrong match is caught before questions."""
    cert = ctx.state.cert
    if not cert.announced:
        cert.announced = True
        ctx.say(ctx.t("found.entry", name=ctx.cert_name(ctx.entry(), cert.grade)))


def _pending(ctx: Ctx) -> ConditionCode:
    code = ctx.state.cert.pending
    if code is None:
        raise StateError("a condition step without a pending condition")
    return code


def ask_condition(ctx: Ctx) -> Reply:
    # The same words for every certificate: made once per engine.
    code = _pending(ctx)
    return ctx.cfg.once(("ask_condition", code), lambda: _condition_reply(ctx, code))


def _condition_reply(ctx: Ctx, code: ConditionCode) -> Reply:
    spec = ctx.cfg.flow.condition(code)
    choices = tuple(Choice(ctx.t(spec.options[a]), a) for a in _ANSWERS)
    return Reply(ctx.t(spec.ask), choices)


def read_condition(ctx: Ctx, text: str) -> str | None:
    code = _pending(ctx)
    spec = ctx.cfg.flow.condition(code)
    lex, offered = ctx.cfg.lexicon, ctx.state.offered
    # Exact choices first, then 是/否/不清楚 words, then a partial label ("国家职业资格").
    value = (
        parse_choice(text, offered, lex, partial=False)
        or _said(text, spec, lex)
        or parse_choice(text, offered, lex)
    )
    answer = next((a for a in _ANSWERS if a == value), None)
    if answer is None:
        if not spec.yes_no:
            ctx.unclear_note = ctx.t("unclear.choice")
        return None
    cert = ctx.state.cert
    cert.answers[code] = answer
    cert.pending = None
    return "answered"


def _said(text: str, spec: ConditionSpec, lex: Lexicon) -> str | None:
    said = parse_answer(text, lex)
    if spec.yes_no or said == "unknown":
        return said
    # "你的证书是哪一种？" answered 是: it names neither kind, and guessing one would give
    # points for a certificate the user may not have. Only 不清楚 still counts.
    return None


def ask_insurance(ctx: Ctx) -> Reply:
    # The same words for every certificate asked about on one day: made once that day.
    code = _pending(ctx)
    return ctx.cfg.once(("ask_insurance", code, ctx.on), lambda: _insurance_reply(ctx, code))


def _insurance_reply(ctx: Ctx, code: ConditionCode) -> Reply:
    spec = ctx.cfg.flow.condition(code)
    q = insurance_question(ctx)
    if q.unknown_from is None or not q.months:
        text = ctx.t(spec.ask, window=q.window, figures=q.figures)
    else:
        first, last, new = q.months[0], q.months[-1], q.unknown_from
        text = ctx.t(
            "ask.insurance_partial",
            start=ctx.t("insurance.month", year=first.year, month=first.month),
            end=ctx.t("insurance.month", year=last.year, month=last.month),
            months=len(q.months),
            figures=q.figures,
            unpublished=ctx.t("insurance.month", year=new.year, month=new.month),
        )
    return Reply(text, (Choice(ctx.t("choice.unknown"), "unknown"),))


def read_insurance(ctx: Ctx, text: str) -> str | None:
    code = _pending(ctx)
    lex = ctx.cfg.lexicon
    # Numbers are month counts here, never the number of the 不清楚 choice.
    q = insurance_question(ctx)
    parsed = parse_insurance(text, lex, q.window)
    if parsed is None and parse_choice(text, ctx.state.offered, lex) == "unknown":
        parsed = ("unknown", None)
    if parsed is None:
        return None
    cert = ctx.state.cert
    cert.insurance_months = cert.insurance_base = None
    cert.answers.pop(code, None)
    if parsed[0] == "months":
        # When unpublished months are left out of the question, "12" means all that were asked.
        cert.insurance_months = min(parsed[1], len(q.months)) if q.months else parsed[1]
    elif parsed[0] == "base":
        cert.insurance_base = parsed[1]
    else:
        cert.answers[code] = "unknown"
    cert.pending = None
    return "answered"


__all__ = [
    "ask_condition",
    "ask_insurance",
    "decide_route",
    "read_condition",
    "read_insurance",
]
