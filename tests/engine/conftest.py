"""Engine behaviour cases as YAML, collected by pytest (OpenFisca's YAML tests are the model).

Every file `tests/engine/cases/*.yaml` holds a list of cases; each case is one test item,
named by its `name`::

    - name: 一级建造师 全部满足
      date: 2026-11-22                 # optional; default DEFAULT_DATE below, never today
      input:                           # the fields of `jifen-bot assess --json`, except that
        certificate: 一级建造师         # the certificate is an EXACT catalogue name or alias
        post_match: true               # (rs.catalogue.lookup must give exactly one entry), so
        appointed: true                # these cases do not depend on the fuzzy matcher
        registered: true
        insurance_months_at_average: 6
      output:                          # only the keys given are compared
        points: 100                    # null = no number yet (a needed fact is unknown)
        full_points: 100
        met: [post_match, appointment, registration, social_insurance_base]  # sets
        missing: []
        unknown: []
        review: false
        explanation_contains: [注册]    # substrings of the joined explanation lines

Input keys are read exactly as the CLI reads them (`bot.rules.facts_input.read_facts` and
`read_date`; `grade` is free text parsed with `rs.grades.parse`, skill words for skill entries,
title words otherwise). `insurance` is a list of `{month: YYYY-MM, base: number}`.

Output keys: `points`, `full_points`, `met`, `missing`, `unknown` (compared as sets), `review`,
`certificate` (the entry id), `grade` (the grade code the engine used), `needs` (list),
`explanation_contains` and `review_contains` (substrings of the joined explanation lines or of
the joined review reasons). Any other key is an error, so a typo cannot pass silently.

A failure shows the case file, the case name, each key expected vs actual, and the engine's
explanation lines. The expected values are computed by hand from shared/policy/facts.md and the
parameters under rules/, never copied from the engine's output.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.errors import DataError, InputError
from bot.rules.facts_input import read_date, read_facts
from bot.rules.model import Assessment, Entry, Grade
from bot.rules.ruleset import Ruleset, default_ruleset
from bot.rules.yamlfile import read_yaml

CASES_DIR = Path(__file__).parent / "cases"

# The date used when a case gives none. Fixed, so that results never drift with the clock.
# Its 12-month window (2025-07 … 2026-06) lies under one known average wage (12434), so cases
# without a date are not disturbed by a July change or by a figure not yet published.
DEFAULT_DATE = date(2026, 7, 15)

CASE_KEYS = frozenset(("name", "date", "input", "output", "note"))
SET_KEYS = ("met", "missing", "unknown")
SCALAR_KEYS = ("points", "full_points", "review", "certificate", "grade")
OUTPUT_KEYS = frozenset(
    (*SET_KEYS, *SCALAR_KEYS, "needs", "explanation_contains", "review_contains")
)


class CaseError(Exception):
    """A case file or case is malformed (not an engine failure)."""


class CaseMismatch(Exception):
    """The engine's answer differs from the case's expected output."""


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    assessment: Assessment


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".yaml" and file_path.parent == CASES_DIR:
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    def collect(self) -> Iterator[CaseItem]:
        try:
            cases = read_yaml(self.path, DataError)
        except DataError as exc:
            raise CaseError(str(exc)) from None
        if not isinstance(cases, list):
            raise CaseError(f"{self.path}: expected a list of cases")
        seen: set[str] = set()
        for index, case in enumerate(cases):
            where = f"{self.path.name}[{index}]"
            if not isinstance(case, Mapping):
                raise CaseError(f"{where}: a case must be a mapping")
            unknown = set(case) - CASE_KEYS
            if unknown:
                raise CaseError(f"{where}: unknown key {sorted(unknown)[0]!r}")
            name = case.get("name")
            if not isinstance(name, str) or not name.strip():
                raise CaseError(f"{where}: `name` is required")
            if name in seen:
                raise CaseError(f"{where}: duplicate case name {name!r}")
            seen.add(name)
            for key in ("input", "output"):
                if not isinstance(case.get(key), Mapping):
                    raise CaseError(f"{where} ({name}): `{key}` must be a mapping")
            bad = set(case["output"]) - OUTPUT_KEYS
            if bad:
                raise CaseError(f"{where} ({name}): unknown output key {sorted(bad)[0]!r}")
            yield CaseItem.from_parent(self, name=name, case=dict(case))


class CaseItem(pytest.Item):
    def __init__(self, *, case: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.outcome: Outcome | None = None

    def runtest(self) -> None:
        rs = default_ruleset()
        self.outcome = run_case(rs, self.case)
        problems = compare(self.case["output"], self.outcome.assessment)
        if problems:
            raise CaseMismatch("\n".join(problems))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if not isinstance(excinfo.value, CaseMismatch | CaseError | InputError):
            return str(super().repr_failure(excinfo))
        lines = [f"case file: {self.path}", f"case:      {self.name}"]
        if isinstance(excinfo.value, CaseMismatch):
            lines.append("mismatches (expected vs actual):")
            lines.extend(f"  {p}" for p in str(excinfo.value).splitlines())
        else:
            lines.append(f"case error: {excinfo.value}")
        if self.outcome is not None:
            a = self.outcome.assessment
            lines.append(f"entry:     {a.entry.id} ({a.entry.name}, {a.entry.file})")
            lines.append(f"date:      {a.on.isoformat()}  grade: {a.grade}")
            lines.append("explanation:")
            lines.extend(f"  {line}" for line in a.explanation)
            if a.review_reasons:
                lines.append("review reasons:")
                lines.extend(f"  {r}" for r in a.review_reasons)
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"engine case: {self.name}"


def resolve_entry(rs: Ruleset, text: Any) -> Entry:
    """The one entry whose name or alias is exactly `text` (normalised)."""
    if not isinstance(text, str) or not text.strip():
        raise CaseError("input.certificate: an exact catalogue name or alias is required")
    found = rs.catalogue.lookup(text)
    if len(found) != 1:
        which = ", ".join(f"{e.id} ({e.name})" for e in found) or "no entry"
        raise CaseError(
            f"input.certificate {text!r} must name exactly one catalogue entry; found {which}"
        )
    return found[0]


def run_case(rs: Ruleset, case: Mapping[str, Any]) -> Outcome:
    """Read the case's input the way `assess --json` does, and assess it."""
    data = dict(case["input"])
    entry = resolve_entry(rs, data.get("certificate"))
    when = case.get("date")
    if "date" in data:
        raise CaseError("give the date as the case's `date`, not inside `input`")
    if isinstance(when, date):
        when = when.isoformat()
    on = read_date({"date": when}, DEFAULT_DATE)
    grade: Grade | None = None
    raw_grade = data.get("grade")
    if raw_grade is not None:
        family = "skill" if entry.kind == "skill" else "title"
        grade = rs.grades.parse(str(raw_grade), family)
        if grade is None:
            raise CaseError(f"input.grade {raw_grade!r} is not a {family} grade word")
    facts = read_facts(data, grade)
    return Outcome(entry, rs.assess(entry, facts, on))


def compare(expected: Mapping[str, Any], a: Assessment) -> list[str]:
    """One line per key whose value differs, `key: expected X, actual Y`."""
    actual: dict[str, Any] = {
        "points": a.points,
        "full_points": a.full_points,
        "review": a.review,
        "certificate": a.entry.id,
        "grade": a.grade,
        "met": a.met,
        "missing": a.missing,
        "unknown": a.unknown,
        "needs": list(a.needs),
    }
    problems: list[str] = []
    for key, want in expected.items():
        if key in SET_KEYS:
            want_set, got_set = set(want or ()), set(actual[key])
            if want_set != got_set:
                problems.append(f"{key}: expected {sorted(want_set)}, actual {sorted(got_set)}")
        elif key == "needs":
            if list(want or ()) != actual[key]:
                problems.append(f"needs: expected {want}, actual {actual[key]}")
        elif key in SCALAR_KEYS:
            if want != actual[key] or type(want) is not type(actual[key]):
                problems.append(f"{key}: expected {want!r}, actual {actual[key]!r}")
        else:
            haystack = "\n".join(
                a.explanation if key == "explanation_contains" else a.review_reasons
            )
            for part in want if isinstance(want, list) else [want]:
                if str(part) not in haystack:
                    problems.append(f"{key}: expected a line containing {part!r}, none does")
    return problems
