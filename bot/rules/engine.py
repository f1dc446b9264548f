"""The points engine: certificate entry + facts + date → points, conditions and reasons.

Encodes facts.md sections 1, 2 and 8 (the 2017 办法 and its 实施细则 as read by the sources):
tiers by grade; 0 for 初级 and 学徒工; each condition met / missing / unknown (unknown is never
"no"); any missing condition gives 0, not a lower tier (P39); unknown gives no number yet;
whatever the sources leave open is flagged for staff (review) rather than guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from bot.rules import insurance
from bot.rules.conditions import CONDITION_ORDER, ConditionSpec
from bot.rules.grades import Grades
from bot.rules.model import (
    KINDS,
    Assessment,
    ConditionCode,
    ConditionResult,
    Entry,
    Facts,
    Grade,
    Kind,
    Status,
)
from bot.rules.parameters import DatedParameter
from bot.rules.tiers import Tiers

_SKILL_VERIFIABLE: tuple[Grade, ...] = ("level-3", "level-2", "level-1", "special", "chief")


@dataclass(frozen=True)
class Engine:
    tiers: Tiers
    conditions: Mapping[ConditionCode, ConditionSpec]
    wage: DatedParameter
    insurance_rule: insurance.InsuranceRule
    grades: Grades
    texts: Mapping[str, str]
    version: str
    # For each kind of entry, the conditions that apply to it (with their only_if), in
    # CONDITION_ORDER: worked out once, as `applicable` runs on most turns of a conversation.
    _by_kind: Mapping[Kind, tuple[tuple[ConditionCode, str | None], ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        by_kind = {
            kind: tuple(
                (code, self.conditions[code].only_if)
                for code in CONDITION_ORDER
                if kind in self.conditions[code].applies_to
            )
            for kind in KINDS
        }
        object.__setattr__(self, "_by_kind", by_kind)

    def grade_of(self, entry: Entry, facts: Facts) -> Grade | None:
        # Only an occupation takes its grade from the applicant; elsewhere the entry decides.
        return facts.grade if entry.is_occupation else entry.grade

    def tier(self, entry: Entry, grade: Grade | None, on: date) -> int | None:
        table = self.tiers.table_at(on)
        if table is None:
            return None
        if entry.kind == "other":
            return table.points[("other", None)]
        if grade is None:
            return None
        return table.points.get((entry.kind, grade))

    def applicable(self, entry: Entry, facts: Facts, on: date) -> list[ConditionCode]:
        """The conditions to check for this entry, given what is known so far."""
        tier = self.tier(entry, self.grade_of(entry, facts), on)
        if tier == 0 or (tier is None and not entry.is_occupation):
            return []
        route = facts.route or entry.route
        codes: list[ConditionCode] = []
        for code, only in self._by_kind[entry.kind]:
            if only == "registration" and not entry.registration:
                continue
            if only == "review_route" and route != "review":
                continue
            if only == "exam_route" and route != "exam":
                continue
            if only == "elsewhere" and facts.obtained_in_shanghai is not False:
                continue
            if (
                code == "obtained_in_shanghai"
                and entry.kind == "skill"
                and facts.obtained_in_shanghai is False
            ):
                continue  # from another province: shanghai_verification takes its place
            if only == "min_points" and (
                tier is None or tier < self.insurance_rule.applies_from_points
            ):
                continue
            codes.append(code)
        return codes

    def assess(self, entry: Entry, facts: Facts, on: date) -> Assessment:
        grade = self.grade_of(entry, facts)
        tier = self.tier(entry, grade, on)
        review: list[str] = [entry.review_reason] if entry.review and entry.review_reason else []
        lines: list[str] = []
        name = entry.name
        if self.tiers.table_at(on) is None:
            review.append(self.texts["before_2018"].format(date=on.isoformat()))
        if entry.kind == "title" and grade == "senior" and facts.route == "exam":
            # Only a 评审 result is a 高级 title (facts.md 1.1); an exam pass alone scores 0.
            reason = self.texts["senior_exam_only"].format(name=name)
            lines.append(self.texts["zero"].format(name=name, reason=reason))
            lines.extend(self.texts["review"].format(reason=r) for r in review)
            return self._result(entry, grade, on, 0, 0, (), review, lines, ())
        if tier == 0:
            reason = entry.reason or self.texts["tier"].format(
                name=name, grade=self._label(grade), points=0
            )
            lines.append(self.texts["zero"].format(name=name, reason=reason))
            lines.extend(self.texts["review"].format(reason=r) for r in review)
            return self._result(entry, grade, on, 0, 0, (), review, lines, ())
        if tier is None and entry.is_occupation:
            lines.append(self.texts["tier_no_grade"].format(name=name))
        elif tier is not None:
            lines.append(
                self.texts["tier"].format(name=name, grade=self._label(grade), points=tier)
            )

        results = tuple(
            self._condition(code, entry, grade, facts, on, review)
            for code in self.applicable(entry, facts, on)
        )
        statuses = {r.status for r in results}
        points: int | None
        if tier is None:
            points = None
        elif "missing" in statuses:
            points = 0
            lines.append(self.texts["some_missing"].format(points=tier))
        elif "unknown" in statuses:
            points = None
            lines.append(self.texts["some_unknown"].format(points=tier))
        else:
            points = tier
            lines.append(self.texts["all_met"].format(points=tier))
        lines.extend(f"{r.label}：{r.explanation}" for r in results)
        lines.extend(self.texts["review"].format(reason=r) for r in review)
        lines.append(self.texts["education_either"])
        needs = ("grade",) if tier is None and entry.is_occupation else ()
        return self._result(entry, grade, on, points, tier, results, review, lines, needs)

    def _label(self, grade: Grade | None) -> str:
        return self.grades.label(grade) if grade else ""

    def _result(
        self,
        entry: Entry,
        grade: Grade | None,
        on: date,
        points: int | None,
        full: int | None,
        results: tuple[ConditionResult, ...],
        review: list[str],
        lines: list[str],
        needs: tuple[str, ...],
    ) -> Assessment:
        return Assessment(
            entry=entry,
            grade=grade,
            on=on,
            points=points,
            full_points=full,
            conditions=results,
            review=bool(review),
            review_reasons=tuple(dict.fromkeys(review)),
            explanation=tuple(dict.fromkeys(lines)),
            rules_version=self.version,
            needs=needs,
        )

    def _condition(
        self,
        code: ConditionCode,
        entry: Entry,
        grade: Grade | None,
        facts: Facts,
        on: date,
        review: list[str],
    ) -> ConditionResult:
        spec = self.conditions[code]
        status: Status
        key: str
        if code == "social_insurance_base":
            return self._insurance(spec, facts, on, review)
        if code == "obtained_in_shanghai":
            status, key = _tri(facts.obtained_in_shanghai)
            if status == "missing":
                route = facts.route or entry.route
                if route == "exam":
                    # Reading A (P5) accepts exam titles from anywhere; reading B (P6, P10) wants
                    # 复评. The sources conflict (facts.md 2.3): no number until staff decide.
                    status, key = "unknown", "missing_exam"
                    review.append(spec.text("missing_exam"))
                else:
                    review.append(spec.text("missing"))
        elif code == "shanghai_verification":
            status, key = _tri(facts.verified)
            if grade not in _SKILL_VERIFIABLE:
                status, key = "missing", "below_threshold"
            elif grade == "level-3" and status != "missing":
                review.append(spec.text("threshold_conflict"))
        elif code == "skill_certificate_type":
            status, key = _tri(facts.national_qualification)
            if status == "missing":
                # Acceptance of 职业技能等级证书 is not confirmed (facts.md 2.9): not a "no".
                status = "unknown"
                review.append(spec.text("missing"))
        elif code == "post_match":
            status, key = _tri(facts.post_match)
        elif code == "appointment":
            status, key = _tri(facts.appointed)
        else:  # registration
            status, key = _tri(facts.registered)
        return ConditionResult(code, status, spec.label, spec.text(key))

    def _insurance(
        self, spec: ConditionSpec, facts: Facts, on: date, review: list[str]
    ) -> ConditionResult:
        rule = self.insurance_rule
        outcome = insurance.evaluate(rule, self.wage, facts, on)
        figures = self.texts["figure_join"].join(
            self.texts["figure"].format(year=m.year, month=m.month, value=p.value)
            if p is not None
            else self.texts["figure_unknown"].format(year=m.year, month=m.month)
            for m, p in outcome.periods
        )
        values = {
            "months": outcome.months,
            "required": rule.required_months,
            "window": rule.window_months,
            "figures": figures,
        }
        text = spec.text(outcome.status, **values)
        for key in outcome.review:
            review.append(spec.text(key, **values))
        return ConditionResult("social_insurance_base", outcome.status, spec.label, text)


def _tri(value: bool | None) -> tuple[Status, str]:
    if value is None:
        return "unknown", "unknown"
    return ("met", "met") if value else ("missing", "missing")


def best_of(assessments: list[Assessment]) -> Assessment | None:
    """The one certificate that counts: several never add up (facts.md 1.3).

    Ranked by what each can give: its points when settled, else the points it would give once
    its open conditions are confirmed (unknown is never "no"). Among equals a settled one wins,
    then the first given. The caller shows whether the winner is settled.
    """
    if not assessments:
        return None

    def key(a: Assessment) -> tuple[int, int]:
        possible = a.points if a.points is not None else (a.full_points or 0)
        return (possible, 1 if a.points is not None else 0)

    return max(assessments, key=key)
