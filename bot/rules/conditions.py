"""Condition specifications from rules/conditions.yaml: where each applies and how it reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

from bot.errors import RuleDataError
from bot.rules.model import CONFIDENCES, KINDS, ConditionCode, Confidence, Kind
from bot.rules.parameters import require_sources
from bot.rules.yamlfile import Fields, placeholders, read_yaml

# Order matters: the dialog asks in this order, and results list conditions in it.
CONDITION_ORDER: tuple[ConditionCode, ...] = (
    "skill_certificate_type",
    "obtained_in_shanghai",
    "shanghai_verification",
    "post_match",
    "appointment",
    "registration",
    "social_insurance_base",
)
ONLY_IF = ("registration", "review_route", "exam_route", "elsewhere", "min_points")
# What the engine fills into condition texts (only the insurance texts use them).
CONDITION_PLACEHOLDERS = frozenset({"months", "required", "window", "figures"})
# Each condition must at least explain these three outcomes.
REQUIRED_TEXTS = ("met", "missing", "unknown")


@dataclass(frozen=True, slots=True)
class ConditionSpec:
    code: ConditionCode
    label: str
    applies_to: tuple[Kind, ...]
    only_if: str | None
    texts: dict[str, str]
    sources: tuple[str, ...]
    confidence: Confidence

    def text(self, key: str, **values: object) -> str:
        return self.texts[key].format(**values)


def load_conditions(path: Path, source_ids: set[str]) -> dict[ConditionCode, ConditionSpec]:
    file = str(path)
    data = read_yaml(path)
    top = Fields(data, file, "")
    specs: dict[ConditionCode, ConditionSpec] = {}
    for code in data:
        if code not in CONDITION_ORDER:
            raise RuleDataError(
                file, str(code), f"unknown condition (known: {', '.join(CONDITION_ORDER)})"
            )
        top.raw(code)
        f = Fields(data[code], file, str(code))
        applies = f.str_list("applies_to", required=True)
        for kind in applies:
            if kind not in KINDS:
                raise f.fail("applies_to", f"unknown kind {kind!r}")
        texts_raw = f.req_mapping("texts")
        texts: dict[str, str] = {}
        for key, value in texts_raw.items():
            if not isinstance(value, str) or not value.strip():
                raise f.fail(f"texts.{key}", "expected a non-empty line")
            try:
                unknown = placeholders(value) - CONDITION_PLACEHOLDERS
            except ValueError as exc:  # an unbalanced brace
                raise f.fail(f"texts.{key}", f"bad template: {exc}") from None
            if unknown:
                raise f.fail(f"texts.{key}", f"unknown placeholder {{{sorted(unknown)[0]}}}")
            texts[str(key)] = value.strip()
        for key in REQUIRED_TEXTS:
            if key not in texts:
                raise f.fail(f"texts.{key}", "is required")
        spec = ConditionSpec(
            code=cast(ConditionCode, code),
            label=f.req_text("label"),
            applies_to=cast(tuple[Kind, ...], applies),
            only_if=f.choice("only_if", ONLY_IF, required=False),
            texts=texts,
            sources=require_sources(f, source_ids),
            confidence=cast(Confidence, f.choice("confidence", CONFIDENCES)),
        )
        f.done()
        specs[spec.code] = spec
    missing = [c for c in CONDITION_ORDER if c not in specs]
    if missing:
        raise RuleDataError(file, missing[0], "condition is not defined")
    top.done()
    return specs
