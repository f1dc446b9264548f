"""Scoring the matcher against a labelled TSV (shared/eval/match-dev.tsv format).

Columns: type, query, expected name(s) (`|` between acceptable spellings, `*` any), points
(`-` any, `null` = grade still needed). Types M S G P C Z R N are defined in the file header.
A *confident wrong* answer is a `match` that the label contradicts: the wrong entry or points,
any match on a C or N row, a match without the review flag on an R row. It is the number that
must stay at zero; accuracy and the share of `choose` say how useful the matcher is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bot.rules.model import Entry

__all__ = ["EvalReport", "LabelledQuery", "RowResult", "evaluate_file", "format_report", "read_tsv"]

TYPES = "MSGPCZRN"


@dataclass(frozen=True, slots=True)
class LabelledQuery:
    line: int
    type: str
    query: str
    names: tuple[str, ...]  # empty = any
    points: int | str | None  # "-" = any, None = grade still needed


@dataclass(frozen=True, slots=True)
class RowResult:
    row: LabelledQuery
    outcome: str
    entry: str | None
    points: int | None
    first: str | None  # the best candidate's name, whatever the outcome
    correct: bool
    confident_wrong: bool


@dataclass
class EvalReport:
    path: str
    rows: list[RowResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def correct(self) -> int:
        return sum(r.correct for r in self.rows)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def choose_share(self) -> float:
        return sum(r.outcome == "choose" for r in self.rows) / self.total if self.total else 0.0

    @property
    def confident_wrong(self) -> int:
        return sum(r.confident_wrong for r in self.rows)

    @property
    def top1_candidate(self) -> float:
        """Among rows naming one certificate (M, S), how often the best candidate is it."""
        named = [r for r in self.rows if r.row.type in "MS" and r.row.names]
        if not named:
            return 0.0
        return sum(_name_ok(r.row, r.first) for r in named) / len(named)

    def by_type(self) -> dict[str, tuple[int, int, int]]:
        """type → (rows, correct, confident wrong)."""
        out: dict[str, tuple[int, int, int]] = {}
        for t in TYPES:
            rows = [r for r in self.rows if r.row.type == t]
            if rows:
                out[t] = (
                    len(rows),
                    sum(r.correct for r in rows),
                    sum(r.confident_wrong for r in rows),
                )
        return out


def read_tsv(path: Path) -> list[LabelledQuery]:
    out: list[LabelledQuery] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 4 or cols[0] not in TYPES:
            raise ValueError(f"{path}:{number}: expected 4 tab-separated columns, type in {TYPES}")
        names = () if cols[2].strip() == "*" else tuple(n.strip() for n in cols[2].split("|"))
        raw = cols[3].strip()
        points: int | str | None = "-" if raw == "-" else None if raw == "null" else int(raw)
        out.append(LabelledQuery(number, cols[0], cols[1], names, points))
    return out


def _name_ok(row: LabelledQuery, name: str | None, entry: Entry | None = None) -> bool:
    if not row.names:
        return True
    if name is None:
        return False
    if row.type == "S":
        return any(n in name for n in row.names)
    spellings = set(entry.names) if entry is not None else {name}
    return any(n in spellings for n in row.names)


def _points_ok(row: LabelledQuery, points: int | None) -> bool:
    return row.points == "-" or row.points == points


def judge(
    row: LabelledQuery, outcome: str, entry: Entry | None, points: int | None
) -> tuple[bool, bool]:
    """(correct, confident wrong) for one answer."""
    matched = outcome == "match" and entry is not None
    name = entry.name if entry is not None else None
    right = matched and _name_ok(row, name, entry)
    if row.type in "MS":
        ok = right and _points_ok(row, points)
        return ok, matched and not ok
    if row.type == "G":
        ok = right and points is None
        return ok or outcome == "choose", matched and not ok
    if row.type == "P":
        ok = matched and _points_ok(row, points)
        return ok or outcome == "choose", matched and not ok
    if row.type == "Z":
        ok = right and points == 0
        return ok or outcome == "none", matched and not ok
    if row.type == "R":
        ok = right and entry is not None and entry.review
        return ok or outcome in ("choose", "none"), matched and not ok
    # C and N: a match is always wrong; C may also be none.
    if row.type == "C":
        return outcome in ("choose", "none"), matched
    return outcome == "none", matched


def evaluate_rows(
    rows: list[LabelledQuery], matcher: Any, ruleset: Any, on: date | None = None
) -> list[RowResult]:
    today = on or date.today()
    out: list[RowResult] = []
    for row in rows:
        result = matcher.match(row.query)
        entry: Entry | None = result.entry if result.outcome == "match" else None
        points = None
        if entry is not None:
            grade = entry.grade if entry.grade is not None else result.grade
            points = ruleset.tier(entry, grade, today)
        first = result.candidates[0].entry.name if result.candidates else None
        correct, wrong = judge(row, result.outcome, entry, points)
        out.append(
            RowResult(
                row, result.outcome, entry.name if entry else None, points, first, correct, wrong
            )
        )
    return out


def evaluate_file(path: Path, matcher: Any, ruleset: Any, on: date | None = None) -> EvalReport:
    return EvalReport(str(path), evaluate_rows(read_tsv(Path(path)), matcher, ruleset, on))


def _describe(r: RowResult) -> str:
    expected = "|".join(r.row.names) or "*"
    points = "null" if r.row.points is None else str(r.row.points)
    got = f"{r.outcome} {r.entry or ''} {'' if r.entry is None else r.points}".strip()
    first = f" (first candidate: {r.first})" if r.outcome != "match" and r.first else ""
    where = f"  line {r.row.line:4d} {r.row.type} {r.row.query!r}"
    return f"{where}: expected {expected} {points}; got {got}{first}"


def format_report(report: EvalReport, failures: bool = False) -> str:
    outcomes = Counter(r.outcome for r in report.rows)
    counts = ", ".join(f"{o} {outcomes[o]}" for o in ("match", "choose", "none"))
    lines = [
        f"{report.path}: {report.total} queries",
        "  accuracy (outcome and entry as labelled): "
        f"{report.accuracy:.1%} ({report.correct}/{report.total})",
        f"  best candidate right (M, S rows):         {report.top1_candidate:.1%}",
        f"  answered with choose:                     {report.choose_share:.1%}",
        f"  outcomes: {counts}",
        f"  CONFIDENT WRONG: {report.confident_wrong}",
        "  by type (rows / correct / confident wrong):",
    ]
    for t, (n, ok, wrong) in report.by_type().items():
        lines.append(f"    {t}: {n:4d} {ok:4d} {wrong:3d}")
    wrong_rows = [r for r in report.rows if r.confident_wrong]
    if wrong_rows:
        lines.append("confident wrong answers:")
        lines += [_describe(r) for r in wrong_rows]
    if failures:
        other = [r for r in report.rows if not r.correct and not r.confident_wrong]
        if other:
            lines.append("other failures:")
            lines += [_describe(r) for r in other]
    return "\n".join(lines)
