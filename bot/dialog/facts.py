"""From what the user answered to the rules' `Facts`, and what to ask next.

不清楚 is stored as "unknown" and becomes None here: the rules then report the condition as
unknown, never as missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.dialog.context import Ctx
from bot.dialog.state import CertSlots
from bot.rules.model import ConditionCode, Entry, Facts, Grade


def grade_of(entry: Entry, cert: CertSlots) -> Grade | None:
    return cert.grade if entry.is_occupation else entry.grade


# What each stored answer tells the rules; "unknown" (and no answer) is None.
_SAID: dict[str | None, bool | None] = {"yes": True, "no": False}


def facts_of(cert: CertSlots, on: date) -> Facts:
    said = cert.answers.get
    return Facts(
        grade=cert.grade,
        obtained_in_shanghai=_SAID.get(said("obtained_in_shanghai")),
        verified=_SAID.get(said("shanghai_verification")),
        post_match=_SAID.get(said("post_match")),
        appointed=_SAID.get(said("appointment")),
        registered=_SAID.get(said("registration")),
        insurance_months_at_average=cert.insurance_months,
        insurance_base=cert.insurance_base,
        national_qualification=_SAID.get(said("skill_certificate_type")),
    )


def answered(cert: CertSlots, code: ConditionCode) -> bool:
    if code in cert.answers:
        return True
    given = cert.insurance_months is not None or cert.insurance_base is not None
    return code == "social_insurance_base" and given


def next_condition(ctx: Ctx) -> ConditionCode | None:
    """The first condition (in flow order) the rules still need for this certificate."""
    cert = ctx.state.cert
    applicable = set(
        ctx.cfg.rules.applicable_conditions(ctx.entry(), facts_of(cert, ctx.on), ctx.on)
    )
    for spec in ctx.cfg.flow.conditions:
        if spec.code in applicable and not answered(cert, spec.code):
            return spec.code
    return None


@dataclass(frozen=True, slots=True)
class InsuranceQuestion:
    """What the social-insurance question covers: the months whose threshold is known."""

    months: tuple[date, ...]  # the window months with a published figure, oldest first
    window: int  # all months of the window
    figures: str  # '12307 元（2025年7月起 12434 元）'
    unknown_from: date | None  # first month whose figure is not published yet


def insurance_question(ctx: Ctx) -> InsuranceQuestion:
    """The thresholds in force over the window. Months whose figure is not published are left
    out of the question, so a count the user gives is a count the rules can trust.

    The same for every turn of a day (it depends on the rules, the texts and the date only),
    so it is worked out once a day, not on each of the turns that ask or read it."""
    return ctx.cfg.once(("insurance_question", ctx.on), lambda: _insurance_question(ctx))


def _insurance_question(ctx: Ctx) -> InsuranceQuestion:
    rules = ctx.cfg.rules
    window = rules.insurance_window(ctx.on)
    known = tuple(m for m in window if rules.average_wage(m) is not None)
    unknown_from = next((m for m in window if rules.average_wage(m) is None), None)
    runs: list[tuple[date, int]] = []
    for month in known:
        value = rules.average_wage(month)
        if value is not None and (not runs or runs[-1][1] != value):
            runs.append((month, value))
    if not runs:
        figures = ctx.t("insurance.figure_unknown")
    else:
        figures = ctx.t("insurance.figure", value=runs[0][1])
        changes = [
            ctx.t("insurance.change", year=m.year, month=m.month, value=v) for m, v in runs[1:]
        ]
        if changes:
            joined = ctx.t("insurance.separator").join(changes)
            figures += ctx.t("insurance.changes", changes=joined)
    return InsuranceQuestion(known, len(window), figures, unknown_from)


__all__ = [
    "InsuranceQuestion",
    "answered",
    "facts_of",
    "grade_of",
    "insurance_question",
    "next_condition",
]
