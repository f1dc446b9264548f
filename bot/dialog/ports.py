"""What the dialog needs from the rules layer, as protocols.

The real `Ruleset` and `Matcher` satisfy these; tests may pass small fakes. Read-only
attributes are properties so that frozen dataclasses match them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal, Protocol

from bot.rules.model import Assessment, ConditionCode, Entry, Facts, Grade


class CataloguePort(Protocol):
    def get(self, entry_id: str) -> Entry: ...


class GradesPort(Protocol):
    def parse(self, text: str, family: Literal["skill", "title"] = ...) -> Grade | None: ...

    def label(self, grade: Grade) -> str: ...


class RulesPort(Protocol):
    @property
    def catalogue(self) -> CataloguePort: ...

    @property
    def grades(self) -> GradesPort: ...

    def tier(self, entry: Entry, grade: Grade | None, on: date) -> int | None: ...

    def assess(self, entry: Entry, facts: Facts, on: date) -> Assessment: ...

    def applicable_conditions(
        self, entry: Entry, facts: Facts, on: date
    ) -> list[ConditionCode]: ...

    def average_wage(self, month: date) -> int | None: ...

    def insurance_window(self, on: date) -> tuple[date, ...]: ...


class CandidatePort(Protocol):
    @property
    def entry(self) -> Entry: ...


class MatchPort(Protocol):
    @property
    def outcome(self) -> str: ...  # "match" | "choose" | "none"

    @property
    def entry(self) -> Entry | None: ...

    @property
    def grade(self) -> Grade | None: ...

    @property
    def needs(self) -> Sequence[str]: ...

    @property
    def candidates(self) -> Sequence[CandidatePort]: ...


class MatcherPort(Protocol):
    def match(self, text: str) -> MatchPort: ...


__all__ = [
    "CandidatePort",
    "CataloguePort",
    "GradesPort",
    "MatchPort",
    "MatcherPort",
    "RulesPort",
]
