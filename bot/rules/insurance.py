"""The 1× social-insurance-base test (facts.md 2.5): 6 of the last 12 months at or above the
average wage in force in each month."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.rules.model import Facts, Status
from bot.rules.parameters import DatedParameter, Period, add_months, require_sources
from bot.rules.yamlfile import Fields, read_yaml


@dataclass(frozen=True, slots=True)
class InsuranceRule:
    window_months: int
    required_months: int
    applies_from_points: int


@dataclass(slots=True)
class InsuranceOutcome:
    status: Status
    months: int  # months known to qualify
    window: tuple[date, ...]  # first day of each month of the window, oldest first
    periods: list[tuple[date, Period | None]]  # first month of each figure in the window
    review: list[str] = field(default_factory=list)  # text keys: straddle, unknown_figure …


def load_insurance_rule(path: Path, source_ids: set[str]) -> InsuranceRule:
    f = Fields(read_yaml(path), str(path), "")
    f.text("description")
    require_sources(f, source_ids)
    f.choice("confidence", ("C", "1S", "INF", "CONFLICT"))
    window, required = f.req_number("window_months"), f.req_number("required_months")
    applies = f.req_number("applies_from_points")
    f.done()
    if not 0 < required <= window:
        raise f.fail("required_months", "must be between 1 and window_months")
    return InsuranceRule(window, required, applies)


@functools.lru_cache(maxsize=64)  # a few days are asked about, many times each
def window_of(rule: InsuranceRule, on: date) -> tuple[date, ...]:
    """The `window_months` full months before the month of `on` (最近1年内, INF)."""
    return tuple(add_months(on, -k) for k in range(rule.window_months, 0, -1))


def figure_periods(
    wage: DatedParameter, window: tuple[date, ...]
) -> list[tuple[date, Period | None]]:
    """Where the figure changes inside the window: (first month, period or None if unknown)."""
    return list(wage.over(window).runs)


def evaluate(rule: InsuranceRule, wage: DatedParameter, facts: Facts, on: date) -> InsuranceOutcome:
    window = window_of(rule, on)
    stretch = wage.over(window)
    periods = list(stretch.runs)
    outcome = InsuranceOutcome("unknown", 0, window, periods)
    unknown_figure = stretch.unknown
    need = rule.required_months

    if facts.insurance is not None or facts.insurance_base is not None:
        if facts.insurance is not None:
            bases = {mb.month.replace(day=1): mb.base for mb in facts.insurance}
        else:
            bases = dict.fromkeys(window, facts.insurance_base or 0.0)
        qualifying: list[date] = []
        unsure = 0
        for month in window:
            figure = wage.value_at(month)
            base = bases.get(month)
            if base is None or figure is None:
                unsure += 1
            elif base >= figure:
                qualifying.append(month)
        outcome.months = len(qualifying)
        outcome.status = _status(len(qualifying), unsure, need)
        if unknown_figure and outcome.status == "unknown":
            outcome.review.append("unknown_figure")
        # The per-month reading is ours (INF). Under the other natural reading every month is
        # compared with the newest figure; when the two disagree, staff decide.
        newest = max((p.value for _, p in periods if p is not None), default=None)
        if newest is not None and outcome.status != "unknown":
            alt = sum(1 for m in window if bases.get(m) is not None and bases[m] >= newest)
            if _status(alt, unsure, need) != outcome.status:
                outcome.review.append("straddle")
        # Where sources give two figures, a month qualifies for sure only above both.
        doubtful = [
            m
            for m in qualifying
            if (p := wage.period_at(m)) is not None
            and p.alternative is not None
            and bases[m] < p.alternative
        ]
        if doubtful and _status(len(qualifying) - len(doubtful), unsure, need) != outcome.status:
            outcome.review.append("conflict_figure")
    elif facts.insurance_months_at_average is not None:
        months = facts.insurance_months_at_average
        outcome.months = months
        outcome.status = _status(months, unknown_figure, need)
        if outcome.status == "unknown":
            outcome.review.append("unknown_figure")
    return outcome


def _status(qualifying: int, unsure: int, need: int) -> Status:
    if qualifying >= need:
        return "met"
    if qualifying + unsure >= need:
        return "unknown"
    return "missing"
