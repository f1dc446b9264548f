"""JSON shapes shared by the CLI (`catalogue`, `match`, `assess --json`) and the HTTP API."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from bot.rules.model import Assessment, Entry, Grade

if TYPE_CHECKING:
    from bot.rules.ruleset import Ruleset


def entry_json(rs: Ruleset, entry: Entry, on: date, grade: Grade | None = None) -> dict[str, Any]:
    """An entry as `catalogue --json` prints it; `grade` fills an occupation's level."""
    effective = entry.grade if entry.grade is not None else grade
    return {
        "id": entry.id,
        "name": entry.name,
        "kind": entry.kind,
        "grade": effective,
        "points": rs.tier(entry, effective, on),
        "series": entry.series,
        "aliases": list(entry.aliases),
        "registration": entry.registration,
        "review": entry.review,
        "sources": list(entry.sources),
        "rank": entry.rank,
        "route": entry.route,
        "grade_label": rs.grades.label(effective) if effective else None,
        "reason": entry.reason,
        "review_reason": entry.review_reason,
        "note": entry.note,
        "confidence": entry.confidence,
    }


def assessment_json(rs: Ruleset, a: Assessment) -> dict[str, Any]:
    return {
        "certificate": entry_json(rs, a.entry, a.on, a.grade),
        "date": a.on.isoformat(),
        "points": a.points,
        "full_points": a.full_points,
        "met": a.met,
        "missing": a.missing,
        "unknown": a.unknown,
        "review": a.review,
        "review_reasons": list(a.review_reasons),
        "needs": list(a.needs),
        "conditions": [
            {"code": c.code, "status": c.status, "label": c.label, "explanation": c.explanation}
            for c in a.conditions
        ],
        "explanation": list(a.explanation),
        "rules_version": a.rules_version,
    }


def match_json(rs: Ruleset, result: Any, on: date) -> dict[str, Any]:
    """A MatchResult as `match --json` prints it (and POST /api/match returns it)."""
    certificate = None
    if result.outcome == "match" and result.entry is not None:
        certificate = entry_json(rs, result.entry, on, result.grade)
        certificate["needs"] = list(result.needs)
    return {
        "query": result.query,
        "outcome": result.outcome,
        "certificate": certificate,
        # `series` tells apart names that stand in several series (讲师, 馆员).
        "candidates": [
            {
                "id": c.entry.id,
                "name": c.entry.name,
                "score": round(float(c.score), 1),
                "series": c.entry.series,
            }
            for c in result.candidates
        ],
    }
