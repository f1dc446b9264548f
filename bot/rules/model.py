"""Domain types of the rules layer: catalogue entries, facts, conditions and assessments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Kind = Literal["title", "qualification", "skill", "other"]
Grade = Literal[
    "senior",
    "intermediate",
    "junior",
    "apprentice",
    "level-5",
    "level-4",
    "level-3",
    "level-2",
    "level-1",
    "special",
    "chief",
]
Route = Literal["exam", "review"]
Confidence = Literal["C", "1S", "INF", "CONFLICT"]
Status = Literal["met", "missing", "unknown"]
ConditionCode = Literal[
    "post_match",
    "appointment",
    "registration",
    "obtained_in_shanghai",
    "shanghai_verification",
    "social_insurance_base",
    "skill_certificate_type",
]

KINDS: tuple[Kind, ...] = ("title", "qualification", "skill", "other")
TITLE_GRADES: tuple[Grade, ...] = ("senior", "intermediate", "junior")
SKILL_GRADES: tuple[Grade, ...] = (
    "apprentice",
    "level-5",
    "level-4",
    "level-3",
    "level-2",
    "level-1",
    "special",
    "chief",
)
CONFIDENCES: tuple[Confidence, ...] = ("C", "1S", "INF", "CONFLICT")


@dataclass(frozen=True, slots=True)
class Entry:
    """One certificate a user can hold, as catalogued in rules/catalogue/."""

    id: str
    name: str
    kind: Kind
    grade: Grade | None
    sources: tuple[str, ...]
    confidence: Confidence
    file: str
    rank: str | None = None
    series: str | None = None
    route: Route | None = None
    registration: bool = False
    aliases: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()
    review: bool = False
    review_reason: str | None = None
    reason: str | None = None
    note: str | None = None

    @property
    def is_occupation(self) -> bool:
        """A skill occupation (电工, 焊工): its level comes from the applicant."""
        return self.kind == "skill" and self.grade is None

    @property
    def is_skill_level(self) -> bool:
        """A bare skill level (高级技师, 技师): the occupation is still unknown."""
        return self.kind == "skill" and self.grade is not None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class MonthBase:
    """The social-insurance contribution base paid in one month."""

    month: date  # first day of the month
    base: float


# Not frozen: the dialog builds one on most turns, and a frozen dataclass takes much longer
# to build (each field is set through object.__setattr__). Nothing changes one once built.
@dataclass(slots=True)
class Facts:
    """What the applicant told us. None means unknown (never the same as False)."""

    grade: Grade | None = None
    obtained_in_shanghai: bool | None = None
    route: Route | None = None
    verified: bool | None = None
    post_match: bool | None = None
    appointed: bool | None = None
    registered: bool | None = None
    insurance: tuple[MonthBase, ...] | None = None
    insurance_months_at_average: int | None = None
    # One monthly base said to hold for the whole window ("我的基数是15000").
    insurance_base: float | None = None
    # For skills: True when the paper is a 国家职业资格证书, False for a 职业技能等级证书.
    national_qualification: bool | None = None


@dataclass(frozen=True, slots=True)
class ConditionResult:
    code: ConditionCode
    status: Status
    label: str  # Chinese, short: 专业/工种与所聘岗位相符
    explanation: str  # Chinese, actionable: what proves it or what to do


@dataclass(frozen=True, slots=True)
class Assessment:
    """The engine's answer for one certificate under the given facts and date."""

    entry: Entry
    grade: Grade | None
    on: date
    points: int | None
    full_points: int | None
    conditions: tuple[ConditionResult, ...]
    review: bool
    review_reasons: tuple[str, ...]
    explanation: tuple[str, ...]
    rules_version: str
    needs: tuple[str, ...] = field(default=())

    def _codes(self, status: Status) -> list[str]:
        return [c.code for c in self.conditions if c.status == status]

    @property
    def met(self) -> list[str]:
        return self._codes("met")

    @property
    def missing(self) -> list[str]:
        return self._codes("missing")

    @property
    def unknown(self) -> list[str]:
        return self._codes("unknown")
