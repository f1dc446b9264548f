"""Everything under rules/, loaded and validated once: the object the other layers use."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from bot.errors import RuleDataError
from bot.paths import rules_dir
from bot.rules import insurance
from bot.rules.catalogue import Catalogue, load_catalogue
from bot.rules.conditions import load_conditions
from bot.rules.engine import Engine
from bot.rules.grades import Grades, load_grades
from bot.rules.insurance import load_insurance_rule
from bot.rules.matcher import load_typos
from bot.rules.model import Assessment, ConditionCode, Entry, Facts, Grade
from bot.rules.normalise import Normaliser
from bot.rules.parameters import load_dated
from bot.rules.tiers import load_tiers
from bot.rules.yamlfile import Fields, placeholders, read_yaml

# Each explanation line and the placeholders the engine fills in it.
_EXPLANATION_KEYS: dict[str, frozenset[str]] = {
    "tier": frozenset({"name", "grade", "points"}),
    "tier_no_grade": frozenset({"name"}),
    "zero": frozenset({"name", "reason"}),
    "all_met": frozenset({"points"}),
    "some_missing": frozenset({"points"}),
    "some_unknown": frozenset({"points"}),
    "review": frozenset({"reason"}),
    "not_best_alone": frozenset({"cap"}),
    "education_either": frozenset(),
    "before_2018": frozenset({"date"}),
    "senior_exam_only": frozenset({"name"}),
    "figure": frozenset({"year", "month", "value"}),
    "figure_unknown": frozenset({"year", "month"}),
    "figure_join": frozenset(),
}


@dataclass(frozen=True)
class Ruleset:
    folder: Path
    version: str
    sources: dict[str, dict[str, str | None]]
    catalogue: Catalogue
    grades: Grades
    engine: Engine
    # The matcher's data (rules/normalise.yaml, rules/typos.yaml), read once with the rest.
    normaliser: Normaliser
    typos: dict[str, tuple[str, ...]]

    def tier(self, entry: Entry, grade: Grade | None, on: date) -> int | None:
        return self.engine.tier(entry, grade, on)

    def assess(self, entry: Entry, facts: Facts, on: date) -> Assessment:
        return self.engine.assess(entry, facts, on)

    def applicable_conditions(self, entry: Entry, facts: Facts, on: date) -> list[ConditionCode]:
        return self.engine.applicable(entry, facts, on)

    def average_wage(self, month: date) -> int | None:
        return self.engine.wage.value_at(month)

    def insurance_window(self, on: date) -> tuple[date, ...]:
        """The months the 1× insurance-base test looks at for an application on `on`."""
        return insurance.window_of(self.engine.insurance_rule, on)

    def text(self, key: str, **values: object) -> str:
        """An explanation line of rules/explanations.yaml, filled in."""
        return self.engine.texts[key].format(**values)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for entry in self.catalogue.entries:
            kind = "skill-occupation" if entry.is_occupation else entry.kind
            out[kind] = out.get(kind, 0) + 1
        out["aliases"] = sum(len(e.aliases) for e in self.catalogue.entries)
        out["review"] = sum(1 for e in self.catalogue.entries if e.review)
        out["average-wage-periods"] = len(self.engine.wage.periods)
        out["sources"] = len(self.sources)
        return out


def _sources(path: Path) -> dict[str, dict[str, str | None]]:
    data = read_yaml(path)
    if not isinstance(data, dict) or not data:
        raise RuleDataError(str(path), "", "expected a mapping of source ids")
    out: dict[str, dict[str, str | None]] = {}
    for key, value in data.items():
        f = Fields(value, str(path), str(key))
        out[str(key)] = {"title": f.req_text("title"), "url": f.text("url", required=False)}
        f.done()
    return out


def _texts(path: Path) -> dict[str, str]:
    data = read_yaml(path)
    f = Fields(data, str(path), "")
    texts = {key: f.req_text(key) for key in _EXPLANATION_KEYS}
    f.done()
    for key, text in texts.items():
        try:
            unknown = placeholders(text) - _EXPLANATION_KEYS[key]
        except ValueError as exc:  # an unbalanced brace
            raise f.fail(key, f"bad template: {exc}") from None
        if unknown:
            allowed = ", ".join(sorted(_EXPLANATION_KEYS[key])) or "none"
            raise f.fail(key, f"unknown placeholder {{{sorted(unknown)[0]}}} (allowed: {allowed})")
    return texts


def _version(folder: Path) -> str:
    f = Fields(read_yaml(folder / "ruleset.yaml"), str(folder / "ruleset.yaml"), "")
    version = f.req_text("version")
    f.text("indicator", required=False)
    f.text("measure", required=False)
    f.done()
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.yaml")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return f"{version}+{digest.hexdigest()[:8]}"


def load_ruleset(folder: Path | None = None) -> Ruleset:
    """Load and validate rules/ (the shipped one by default). Raises RuleDataError."""
    folder = folder or rules_dir()
    if not folder.is_dir():
        raise RuleDataError(str(folder), "", "rules folder not found")
    sources = _sources(folder / "sources.yaml")
    ids = set(sources)
    tiers = load_tiers(folder / "points.yaml", ids)
    engine = Engine(
        tiers=tiers,
        conditions=load_conditions(folder / "conditions.yaml", ids),
        wage=load_dated(folder / "parameters" / "average_wage.yaml", ids),
        insurance_rule=load_insurance_rule(folder / "parameters" / "social_insurance.yaml", ids),
        grades=load_grades(folder / "grades.yaml"),
        texts=_texts(folder / "explanations.yaml"),
        version=_version(folder),
    )
    catalogue = load_catalogue(folder / "catalogue", ids, tiers.zero_grades())
    # The matcher's own data: read here too, so that check-rules names any error in it.
    normaliser = Normaliser.from_rules_dir(folder)
    typos = load_typos(folder / "typos.yaml", normaliser.clean)
    return Ruleset(
        folder, engine.version, sources, catalogue, engine.grades, engine, normaliser, typos
    )


@cache
def default_ruleset() -> Ruleset:
    """The shipped rules, loaded once per process."""
    return load_ruleset()
