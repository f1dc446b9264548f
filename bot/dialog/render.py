"""The answers: one certificate's result, and the summary when several were asked about."""

from __future__ import annotations

from bot.dialog.context import Ctx
from bot.dialog.facts import facts_of, grade_of
from bot.dialog.state import CertSlots
from bot.rules.engine import best_of
from bot.rules.model import Assessment


def say_result(ctx: Ctx) -> str:
    """Assess the current certificate, say the result, and file it with the finished ones."""
    cert = ctx.state.cert
    entry = ctx.entry()
    grade = grade_of(entry, cert)
    assessment = _assess(ctx, cert)
    if entry.kind == "other" or ctx.cfg.rules.tier(entry, grade, ctx.on) == 0:
        lines = _zero_lines(ctx, assessment)
    else:
        lines = _result_lines(ctx, assessment)
    ctx.say("\n".join(lines))
    ctx.emit(
        "finished",
        entry_id=entry.id,
        grade=grade,
        points=assessment.points,
        full_points=assessment.full_points,
        review=assessment.review,
        rules_version=assessment.rules_version,
    )
    ctx.state.done = [*ctx.state.done, cert][-ctx.cfg.flow.session.max_certificates :]
    ctx.state.cert = CertSlots()
    return "next"


def _assess(ctx: Ctx, cert: CertSlots) -> Assessment:
    entry = ctx.entry(cert.entry_id)
    return ctx.cfg.rules.assess(entry, facts_of(cert, ctx.on), ctx.on)


def _zero_lines(ctx: Ctx, a: Assessment) -> list[str]:
    name = a.entry.name
    first = (
        ctx.t("result.zero", name=name, reason=a.entry.reason)
        if a.entry.reason
        else ctx.t("result.zero_plain", name=name)
    )
    lines = [first, *(ctx.t("result.review", reason=r) for r in a.review_reasons)]
    if a.review:
        lines.append(ctx.t("result.offer_human"))
    return lines


def _result_lines(ctx: Ctx, a: Assessment) -> list[str]:
    lines = [ctx.t("result.title", name=ctx.cert_name(a.entry, a.grade))]
    if "grade" in a.needs or (a.entry.is_occupation and a.grade is None):
        return [*lines, ctx.t("result.need_grade"), ctx.t("result.offer_human")]
    if a.points is not None:
        lines.append(ctx.t("result.points_now", points=a.points))
    else:
        lines.append(ctx.t("result.points_pending"))
    if a.full_points is not None and a.full_points != a.points:
        lines.append(ctx.t("result.points_full", points=a.full_points))
    for c in a.conditions:
        if c.status == "met":
            lines.append(ctx.t("result.met", label=c.label))
        else:
            lines.append(ctx.t(f"result.{c.status}", label=c.label, explanation=c.explanation))
    lines.extend(ctx.t("result.review", reason=r) for r in a.review_reasons)
    lines += [ctx.t("result.education"), ctx.t("result.disclaimer"), ctx.t("result.offer_human")]
    return lines


def say_summary(ctx: Ctx) -> str:
    """With several certificates: which one counts (the best, never the sum). Then goodbye."""
    done = ctx.state.done
    if len(done) >= 2:
        ctx.say("\n".join(_summary_lines(ctx, [_assess(ctx, c) for c in done])))
    ctx.say(ctx.t("summary.bye"))
    return "next"


def _summary_lines(ctx: Ctx, assessments: list[Assessment]) -> list[str]:
    lines = [ctx.t("summary.header", count=len(assessments))]
    for a in assessments:
        if a.points is not None:
            points = ctx.t("summary.points", points=a.points)
        elif a.full_points:
            points = ctx.t("summary.pending", points=a.full_points)
        else:
            points = ctx.t("summary.unknown")
        name = ctx.cert_name(a.entry, a.grade)
        lines.append(ctx.t("summary.line", name=name, points=points))
    best = best_of(assessments)
    best_points = best.points if best is not None and best.points else 0
    if best is not None and best_points > 0:
        name = ctx.cert_name(best.entry, best.grade)
        lines.append(ctx.t("summary.best", name=name, points=best_points))
    pending = [a for a in assessments if a.points is None and (a.full_points or 0) > best_points]
    if pending:
        top = max(pending, key=lambda a: a.full_points or 0)
        name = ctx.cert_name(top.entry, top.grade)
        lines.append(ctx.t("summary.best_pending", name=name, points=top.full_points))
    if best_points == 0 and not pending:
        lines.append(ctx.t("summary.none"))
    return lines


__all__ = ["say_result", "say_summary"]
