"""Turning an `assess` request (free-text certificate, grade words, facts) into an Assessment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from bot.errors import InputError
from bot.rules.facts_input import read_date, read_facts
from bot.rules.model import Assessment, Entry, Grade
from bot.rules.ruleset import Ruleset


class MatchLike(Protocol):
    outcome: str
    entry: Entry | None
    grade: Grade | None

    @property
    def candidates(self) -> Any: ...


class MatcherLike(Protocol):
    def match(self, text: str) -> Any: ...


@dataclass
class Unresolved(Exception):
    """The certificate text does not name exactly one entry."""

    message: str
    candidates: list[dict[str, Any]] = field(default_factory=list)


def resolve_certificate(matcher: MatcherLike, text: str) -> tuple[Entry, Grade | None]:
    result = matcher.match(text)
    if result.outcome == "match" and result.entry is not None:
        return result.entry, result.grade
    candidates = [
        {"id": c.entry.id, "name": c.entry.name, "score": round(float(c.score), 1)}
        for c in result.candidates
    ]
    if result.outcome == "choose":
        raise Unresolved("certificate is ambiguous: choose one of the candidates", candidates)
    raise Unresolved("certificate not found in the catalogue", candidates)


def assess_request(
    rs: Ruleset, matcher: MatcherLike, data: Mapping[str, Any], today: date
) -> Assessment:
    """Raises InputError for malformed input and Unresolved for an unknown certificate."""
    text = data.get("certificate")
    if not isinstance(text, str) or not text.strip():
        raise InputError("certificate: a non-empty string is required")
    on = read_date(data, today)
    entry, found_grade = resolve_certificate(matcher, text)
    grade: Grade | None = found_grade
    raw_grade = data.get("grade")
    if raw_grade is not None:
        if not isinstance(raw_grade, str):
            raise InputError(f"grade: expected text such as 三级 or 高级工, got {raw_grade!r}")
        grade = rs.grades.parse(raw_grade, "skill" if entry.kind == "skill" else "title")
        if grade is None:
            raise InputError(f"grade: {raw_grade!r} is not a grade I know")
    facts = read_facts(data, grade)
    return rs.assess(entry, facts, on)
