"""Reading an `assess` input object (CLI JSON line or HTTP body) into Facts, strictly."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, cast

from bot.errors import InputError
from bot.rules.model import Facts, Grade, MonthBase, Route

_BOOLS = (
    "obtained_in_shanghai",
    "verified",
    "post_match",
    "appointed",
    "registered",
    "national_qualification",
)
KNOWN_FIELDS = frozenset(
    (
        "certificate",
        "grade",
        "date",
        "route",
        "insurance",
        "insurance_months_at_average",
        "insurance_base",
        *_BOOLS,
    )
)


def _bool(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise InputError(f"{key}: expected true, false or null, got {value!r}")


def _month(value: Any, where: str) -> date:
    if isinstance(value, str):
        try:
            year, month = value.split("-")[:2]
            return date(int(year), int(month), 1)
        except ValueError:
            pass
    raise InputError(f"{where}: expected a month YYYY-MM, got {value!r}")


def read_date(data: Mapping[str, Any], today: date) -> date:
    value = data.get("date")
    if value is None:
        return today
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(f"date: expected YYYY-MM-DD, got {value!r}")


def read_facts(data: Mapping[str, Any], grade: Grade | None) -> Facts:
    """`grade` is already parsed by the caller (it needs the ruleset's grade words)."""
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise InputError(f"unknown field {unknown[0]!r}")
    route = data.get("route")
    if route not in (None, "exam", "review"):
        raise InputError(f"route: expected exam or review, got {route!r}")
    insurance = None
    if data.get("insurance") is not None:
        raw = data["insurance"]
        if not isinstance(raw, list):
            raise InputError("insurance: expected a list of {month, base}")
        months = []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping):
                raise InputError(f"insurance[{i}]: expected an object with month and base")
            base = item.get("base")
            if isinstance(base, bool) or not isinstance(base, int | float) or base < 0:
                raise InputError(
                    f"insurance[{i}].base: expected a non-negative number, got {base!r}"
                )
            months.append(
                MonthBase(_month(item.get("month"), f"insurance[{i}].month"), float(base))
            )
        insurance = tuple(months)
    count = data.get("insurance_months_at_average")
    if count is not None and (
        isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 12
    ):
        raise InputError(
            f"insurance_months_at_average: expected a whole number 0–12, got {count!r}"
        )
    base = data.get("insurance_base")
    if base is not None and (
        isinstance(base, bool) or not isinstance(base, int | float) or base < 0
    ):
        raise InputError(f"insurance_base: expected a non-negative number, got {base!r}")
    given = [
        k
        for k in ("insurance", "insurance_months_at_average", "insurance_base")
        if data.get(k) is not None
    ]
    if len(given) > 1:
        raise InputError(f"give only one of {', '.join(given)}")
    return Facts(
        grade=grade,
        obtained_in_shanghai=_bool(data, "obtained_in_shanghai"),
        route=cast(Route | None, route),
        verified=_bool(data, "verified"),
        post_match=_bool(data, "post_match"),
        appointed=_bool(data, "appointed"),
        registered=_bool(data, "registered"),
        insurance=insurance,
        insurance_months_at_average=count,
        insurance_base=float(base) if base is not None else None,
        national_qualification=_bool(data, "national_qualification"),
    )
