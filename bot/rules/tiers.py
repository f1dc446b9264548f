"""The point tiers of rules/points.yaml, by effective date."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.errors import RuleDataError
from bot.rules.model import SKILL_GRADES, TITLE_GRADES, Grade, Kind
from bot.rules.parameters import require_sources
from bot.rules.yamlfile import Fields, parse_date, read_yaml

_GRADES_BY_KIND: dict[Kind, tuple[Grade, ...]] = {
    "title": TITLE_GRADES,
    "qualification": ("intermediate", "junior"),
    "skill": SKILL_GRADES,
}
_TIER_VALUES = {0, 15, 30, 60, 100, 140}


@dataclass(frozen=True, slots=True)
class TierTable:
    start: date
    points: dict[tuple[Kind, Grade | None], int]
    sources: tuple[str, ...]


class Tiers:
    def __init__(self, tables: list[TierTable], cap: int) -> None:
        self.tables = sorted(tables, key=lambda t: t.start)
        self._starts = [t.start for t in self.tables]
        self.cap = cap

    def table_at(self, day: date) -> TierTable | None:
        i = bisect.bisect_right(self._starts, day) - 1
        return self.tables[i] if i >= 0 else None

    def zero_grades(self) -> set[tuple[str, str]]:
        """(kind, grade) pairs worth 0 in any period: their entries must explain why."""
        return {(k, g or "") for t in self.tables for (k, g), v in t.points.items() if v == 0}


def load_tiers(path: Path, source_ids: set[str]) -> Tiers:
    file = str(path)
    f = Fields(read_yaml(path), file, "")
    f.text("description")
    cap = f.req_number("cap")
    raw = f.req_mapping("values")
    f.done()
    tables: list[TierTable] = []
    for key, item in raw.items():
        start = parse_date(key, file, f"values.{key}")
        tf = Fields(item, file, f"values.{start}")
        sources = require_sources(tf, source_ids)
        tf.choice("confidence", ("C", "1S", "INF", "CONFLICT"))
        points: dict[tuple[Kind, Grade | None], int] = {}
        for kind, grades in _GRADES_BY_KIND.items():
            section = tf.req_mapping(kind)
            for grade in grades:
                value = section.get(grade)
                if not isinstance(value, int) or value not in _TIER_VALUES or value > cap:
                    raise RuleDataError(
                        file, f"values.{start}.{kind}.{grade}", f"{value!r} is not a tier"
                    )
                points[(kind, grade)] = value
            extra = set(section) - set(grades)
            if extra:
                raise RuleDataError(
                    file, f"values.{start}.{kind}.{sorted(extra)[0]}", "unknown grade"
                )
        other = tf.number("other")
        points[("other", None)] = other if other is not None else 0
        tf.done()
        tables.append(TierTable(start, points, sources))
    if not tables:
        raise RuleDataError(file, "values", "at least one period is required")
    return Tiers(tables, cap)
