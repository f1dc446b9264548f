"""Steps that find the certificate: free text, a numbered choice, the occupation, the grade.

Each reader returns an outcome named in flow.yaml, or None when the reply could not be used
(the engine then counts it as unclear and asks again).
"""

from __future__ import annotations

from typing import Literal

from bot.dialog.context import Ctx
from bot.dialog.replies import Choice, Reply
from bot.dialog.slots import key, parse_answer, parse_choice
from bot.dialog.state import CertSlots
from bot.rules.model import SKILL_GRADES, Entry, Grade

# What is kept of the user's wording to quote it back ("“一级建筑师”可能是…").
QUERY_CHARS = 30
# The skill levels offered as choices, numbered so that "1" is 一级 and "5" is 五级.
_OFFERED_GRADES: tuple[Grade, ...] = ("level-1", "level-2", "level-3", "level-4", "level-5")


def match_certificate(ctx: Ctx, text: str) -> Literal["found", "choose"] | None:
    """Run the matcher on a certificate name; on success the current certificate is replaced."""
    result = ctx.cfg.matcher.match(text)
    query = text.strip()[:QUERY_CHARS]
    if result.outcome == "match" and result.entry is not None:
        ctx.state.cert = CertSlots(query=query)
        pick(ctx, result.entry, result.grade)
        return "found"
    ids = list(dict.fromkeys(c.entry.id for c in result.candidates))
    if result.outcome == "choose" and ids:
        ctx.state.cert = CertSlots(query=query, grade=result.grade)
        if len(ids) == 1:
            pick(ctx, ctx.entry(ids[0]), result.grade)
            return "found"
        ctx.state.cert.candidates = ids[: ctx.cfg.flow.session.max_candidates]
        return "choose"
    return None


def pick(ctx: Ctx, entry: Entry, grade: Grade | None = None) -> None:
    """Make `entry` the current certificate, keeping a grade the user already gave."""
    cert = ctx.state.cert
    cert.entry_id, cert.candidates = entry.id, []
    if entry.is_skill_level:
        cert.level_entry_id, cert.grade = entry.id, entry.grade
    elif entry.is_occupation:
        cert.grade = grade or cert.grade
    else:
        cert.grade = None


# certificate ------------------------------------------------------------------------------


def ask_certificate(ctx: Ctx) -> Reply:
    key = "ask.certificate_next" if ctx.state.done else "ask.certificate"
    return ctx.cfg.once(key, lambda: Reply(ctx.t(key)))


def read_certificate(ctx: Ctx, text: str) -> str | None:
    if key(text) in ctx.cfg.lexicon.greetings:
        ctx.say(ctx.t("greeting"))
        return "none"
    outcome = match_certificate(ctx, text)
    if outcome is None:
        ctx.say(ctx.t("certificate.not_found", query=text.strip()[:QUERY_CHARS]))
        return "none"
    return outcome


# choose -----------------------------------------------------------------------------------


def ask_choose(ctx: Ctx) -> Reply:
    entries = [ctx.entry(i) for i in ctx.state.cert.candidates]
    labels = [ctx.cert_name(e) for e in entries]
    choices = [
        # Two entries of one name the catalogue does not mark as shared: tell them apart.
        Choice(ctx.t("name.with_series", name=label, series=e.series), e.id)
        if labels.count(label) > 1 and e.series and e.name not in e.shared
        else Choice(label, e.id)
        for label, e in zip(labels, entries, strict=True)
    ]
    choices.append(Choice(ctx.t("choice.none_of_these"), "none"))
    return Reply(ctx.t("ask.choose", query=ctx.state.cert.query), tuple(choices))


def read_choose(ctx: Ctx, text: str) -> str | None:
    cert = ctx.state.cert
    value = parse_choice(text, ctx.state.offered, ctx.cfg.lexicon)
    if value == "none":
        ctx.state.cert = CertSlots()
        return "none_of_these"
    if value in cert.candidates:
        pick(ctx, ctx.entry(value))
        return "picked"
    typed = key(text)
    for entry in (ctx.entry(i) for i in cert.candidates):
        if typed in {key(n) for n in entry.names}:
            pick(ctx, entry)
            return "picked"
    # A fuller name typed instead of a number: take it if the matcher is sure.
    result = ctx.cfg.matcher.match(text)
    if result.outcome == "match" and result.entry is not None:
        pick(ctx, result.entry, result.grade)
        return "picked"
    return None


# occupation (a bare level such as 技师 was given) -------------------------------------------


def ask_occupation(ctx: Ctx) -> Reply:
    ctx.state.cert.occupation_asked = True
    level = ctx.grade_label(ctx.state.cert.grade)
    return Reply(
        ctx.t("ask.occupation", level=level), (Choice(ctx.t("choice.unknown"), "unknown"),)
    )


def read_occupation(ctx: Ctx, text: str) -> str | None:
    lex = ctx.cfg.lexicon
    unknown = parse_choice(text, ctx.state.offered, lex) or parse_answer(text, lex)
    if unknown == "unknown":
        return "unknown"
    result = ctx.cfg.matcher.match(text)
    if result.outcome == "match" and result.entry is not None and result.entry.is_occupation:
        pick(ctx, result.entry)
        return "found"
    # Candidates of a "none" are too weak to offer as the user's occupation.
    candidates = result.candidates if result.outcome in ("match", "choose") else ()
    occupations = list({c.entry.id: c.entry for c in candidates if c.entry.is_occupation})
    if len(occupations) == 1:
        pick(ctx, ctx.entry(occupations[0]))
        return "found"
    if occupations:
        ctx.state.cert.candidates = occupations[: ctx.cfg.flow.session.max_candidates]
        ctx.state.cert.query = text.strip()[:QUERY_CHARS]
        return "choose"
    ctx.unclear_note = ctx.t("unclear.occupation", query=text.strip()[:QUERY_CHARS])
    return None


# grade (an occupation such as 电工 was given without its level) ------------------------------


def ask_grade(ctx: Ctx) -> Reply:
    ctx.state.cert.grade_asked = True
    choices = [Choice(ctx.t(f"grade.{g}"), g) for g in _OFFERED_GRADES]
    choices.append(Choice(ctx.t("choice.unknown"), "unknown"))
    return Reply(ctx.t("ask.grade", name=ctx.entry().name), tuple(choices))


def read_grade(ctx: Ctx, text: str) -> str | None:
    lex = ctx.cfg.lexicon
    value = parse_choice(text, ctx.state.offered, lex)
    if value == "unknown" or (value is None and parse_answer(text, lex) == "unknown"):
        return "unknown"
    grade = next((g for g in SKILL_GRADES if g == value), None)
    grade = grade or ctx.cfg.rules.grades.parse(text, "skill")
    if grade is None or grade not in SKILL_GRADES:
        return None
    ctx.state.cert.grade = grade
    return "picked"


# another / closed -------------------------------------------------------------------------


def ask_another(ctx: Ctx) -> Reply:
    return ctx.cfg.once("ask.another", lambda: _another_reply(ctx))


def _another_reply(ctx: Ctx) -> Reply:
    choices = (
        Choice(ctx.t("choice.another_yes"), "yes"),
        Choice(ctx.t("choice.another_no"), "no"),
        Choice(ctx.t("choice.human"), "/human"),
    )
    return Reply(ctx.t("ask.another"), choices)


def read_another(ctx: Ctx, text: str) -> str | None:
    lex = ctx.cfg.lexicon
    value = parse_choice(text, ctx.state.offered, lex, partial=False) or parse_answer(text, lex)
    if value == "yes":
        ctx.state.cert = CertSlots()
        return "more"
    if value == "no":
        return "finish"
    if value is not None:  # 不清楚: not an answer to "another one?"
        return None
    # The next certificate's name typed straight away.
    return match_certificate(ctx, text)


def ask_closed(ctx: Ctx) -> Reply:
    return ctx.cfg.once("ask.closed", lambda: Reply(ctx.t("ask.closed")))


def read_closed(ctx: Ctx, text: str) -> str | None:
    if key(text) in ctx.cfg.lexicon.thanks:
        ctx.say(ctx.t("closing.thanks"))
        return "thanks"
    return read_certificate(ctx, text)


__all__ = [
    "ask_another",
    "ask_certificate",
    "ask_choose",
    "ask_closed",
    "ask_grade",
    "ask_occupation",
    "match_certificate",
    "pick",
    "read_another",
    "read_certificate",
    "read_choose",
    "read_closed",
    "read_grade",
    "read_occupation",
]
