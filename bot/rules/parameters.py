"""Dated parameters: values keyed by the date they take effect (OpenFisca's model)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import cast

from bot.rules.model import CONFIDENCES, Confidence
from bot.rules.yamlfile import Fields, parse_date, read_yaml

_REMEMBERED = 4096  # days remembered by period_at: some years of months, whatever is asked


def add_months(day: date, months: int) -> date:
    """First day of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    value: int
    sources: tuple[str, ...]
    confidence: Confidence
    # The other figure a source gives where sources conflict (9580 for 2020-07, G6).
    alternative: int | None = None


@dataclass(frozen=True, slots=True)
class Stretch:
    """What a parameter says over some months."""

    # (first month, period in force or None if unknown), each time that changes, oldest first.
    runs: tuple[tuple[date, Period | None], ...]
    unknown: int  # months without a known value


class DatedParameter:
    """A value that changes on given dates and is trusted for `valid_for_months` at most."""

    def __init__(self, name: str, periods: list[Period], valid_for_months: int | None) -> None:
        self.name = name
        self.periods = sorted(periods, key=lambda p: p.start)
        self._starts = [p.start for p in self.periods]
        self.valid_for_months = valid_for_months
        # An assessment asks for each month of its 12-month window, several times a turn; the
        # answers never change once loaded, and the months asked are few.
        self._at: dict[date, Period | None] = {}
        self._over: dict[tuple[date, ...], Stretch] = {}

    def period_at(self, day: date) -> Period | None:
        """The period in force on `day`, or None before the first or after the last expired."""
        try:
            return self._at[day]
        except KeyError:
            pass
        found = self._find(day)
        if len(self._at) < _REMEMBERED:
            self._at[day] = found
        return found

    def _find(self, day: date) -> Period | None:
        i = bisect.bisect_right(self._starts, day) - 1
        if i < 0:
            return None
        period = self.periods[i]
        is_last = i == len(self.periods) - 1
        expired = (
            self.valid_for_months is not None
            and is_last
            and (day >= add_months(period.start, self.valid_for_months))
        )
        if expired:
            return None
        return period

    def over(self, months: tuple[date, ...]) -> Stretch:
        """The periods in force over these months. Remembered like `period_at`: assessments
        look at the same window, that of the day, again and again."""
        try:
            return self._over[months]
        except KeyError:
            pass
        runs: list[tuple[date, Period | None]] = []
        for month in months:
            period = self.period_at(month)
            if not runs or runs[-1][1] != period:
                runs.append((month, period))
        found = Stretch(tuple(runs), sum(1 for m in months if self.period_at(m) is None))
        if len(self._over) < _REMEMBERED:
            self._over[months] = found
        return found

    def value_at(self, day: date) -> int | None:
        period = self.period_at(day)
        return period.value if period else None


def load_dated(path: Path, source_ids: set[str]) -> DatedParameter:
    """Read a parameter file with `values: {DATE: {value, sources, confidence}}`."""
    file = str(path)
    f = Fields(read_yaml(path), file, "")
    f.text("description")
    f.text("unit", required=False)
    valid = f.number("valid_for_months", required=False)
    raw = f.req_mapping("values")
    periods: list[Period] = []
    for key, item in raw.items():
        start = parse_date(key, file, f"values.{key}")
        pf = Fields(item, file, f"values.{start}")
        value = pf.req_number("value")
        if value <= 0:
            raise pf.fail("value", "must be positive")
        sources = require_sources(pf, source_ids)
        confidence = cast(Confidence, pf.choice("confidence", CONFIDENCES))
        alternative = pf.number("alternative", required=False)
        if (alternative is not None) != (confidence == "CONFLICT"):
            raise pf.fail(
                "alternative", "give the other figure exactly when confidence is CONFLICT"
            )
        pf.done()
        periods.append(Period(start, value, sources, confidence, alternative))
    f.done()
    return DatedParameter(path.stem, periods, valid)


def require_sources(f: Fields, source_ids: set[str]) -> tuple[str, ...]:
    """The `sources` list of a mapping, every id known in rules/sources.yaml."""
    sources = f.str_list("sources", required=True)
    for src in sources:
        if src not in source_ids:
            raise f.fail("sources", f"unknown source id {src!r}")
    return sources
