"""Engine details that the YAML cases cannot express well: best_of, dated parameters, months,
grade words and the insurance window. Expected values come from facts.md (sections 1.2, 1.3,
2.5, 3) and the parameter files, not from the engine's output."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.rules.engine import best_of
from bot.rules.grades import Grades, load_grades
from bot.rules.insurance import InsuranceRule, evaluate, figure_periods, window_of
from bot.rules.model import Assessment, Entry, Facts, MonthBase
from bot.rules.parameters import DatedParameter, Period, add_months, load_dated
from bot.rules.ruleset import _sources

RULES = Path(__file__).resolve().parent.parent / "rules"
RULE = InsuranceRule(window_months=12, required_months=6, applies_from_points=100)


@pytest.fixture(scope="module")
def grades() -> Grades:
    return load_grades(RULES / "grades.yaml")


@pytest.fixture(scope="module")
def wage() -> DatedParameter:
    ids = set(_sources(RULES / "sources.yaml"))
    return load_dated(RULES / "parameters" / "average_wage.yaml", ids)


# ---- best_of: several certificates do not add up (facts.md 1.3) -------------------------


def _entry(entry_id: str) -> Entry:
    return Entry(
        id=entry_id,
        name=entry_id,
        kind="title",
        grade="intermediate",
        sources=("P2",),
        confidence="C",
        file="test",
        route="review",
    )


def _assessment(entry_id: str, points: int | None, full: int | None) -> Assessment:
    return Assessment(
        entry=_entry(entry_id),
        grade="intermediate",
        on=date(2026, 7, 15),
        points=points,
        full_points=full,
        conditions=(),
        review=False,
        review_reasons=(),
        explanation=(),
        rules_version="test",
    )


def test_best_of_empty_is_none() -> None:
    assert best_of([]) is None


def test_best_of_picks_the_best_not_the_sum() -> None:
    a, b = _assessment("a", 60, 60), _assessment("b", 100, 100)
    best = best_of([a, b])
    assert best is b
    assert best.points == 100  # two certificates: 100, never 160


def test_best_of_two_intermediate_give_100_not_200() -> None:
    a, b = _assessment("a", 100, 100), _assessment("b", 100, 100)
    best = best_of([a, b])
    assert best is a  # among equals the first given wins
    assert best.points == 100


def test_best_of_order_does_not_matter_for_the_value() -> None:
    items = [_assessment("a", 15, 15), _assessment("b", 140, 140), _assessment("c", 60, 60)]
    for order in (items, items[::-1], [items[1], items[0], items[2]]):
        best = best_of(order)
        assert best is not None
        assert best.entry.id == "b"


def test_best_of_a_failed_item_falls_back_to_the_other() -> None:
    # 中级职称 failing the 1x test (0, full 100) + skill 三级 (60) -> 60 (facts.md section 8).
    failed, skill = _assessment("title", 0, 100), _assessment("skill", 60, 60)
    assert best_of([failed, skill]) is skill


def test_best_of_known_140_beats_unknown() -> None:
    known, unsure = _assessment("known", 140, 140), _assessment("unsure", None, 140)
    assert best_of([unsure, known]) is known


def test_best_of_unknown_140_is_not_beaten_by_a_known_15() -> None:
    # "Known points beat unknown ones only when higher than every possible unknown outcome"
    # (best_of's own contract). Unknown is never "no": an item that may still give 140 must
    # not be dropped for a certain 15.
    known, unsure = _assessment("known", 15, 15), _assessment("unsure", None, 140)
    assert best_of([known, unsure]) is unsure


# ---- add_months --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 11, 15), -1, date(2025, 10, 1)),
        (date(2025, 11, 15), -12, date(2024, 11, 1)),
        (date(2025, 11, 15), 0, date(2025, 11, 1)),
        (date(2025, 1, 31), -1, date(2024, 12, 1)),
        (date(2024, 12, 1), 1, date(2025, 1, 1)),
        (date(2025, 3, 10), -14, date(2024, 1, 1)),
        (date(2025, 7, 1), 12, date(2026, 7, 1)),
        (date(2024, 2, 29), 12, date(2025, 2, 1)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# ---- dated parameters and their expiry --------------------------------------------------


def _param(valid_for_months: int | None) -> DatedParameter:
    return DatedParameter(
        "wage",
        [
            Period(date(2025, 7, 1), 12434, ("G6",), "C"),
            Period(date(2024, 7, 1), 12307, ("G6",), "C"),
        ],
        valid_for_months,
    )


def test_dated_parameter_changes_on_its_date() -> None:
    p = _param(12)
    assert p.value_at(date(2024, 6, 30)) is None  # before the first period
    assert p.value_at(date(2024, 7, 1)) == 12307
    assert p.value_at(date(2025, 6, 30)) == 12307
    assert p.value_at(date(2025, 7, 1)) == 12434


def test_last_value_expires_after_valid_for_months() -> None:
    p = _param(12)
    assert p.value_at(date(2026, 6, 30)) == 12434
    assert p.value_at(date(2026, 7, 1)) is None  # next July's figure is not known yet
    assert p.period_at(date(2027, 3, 1)) is None


def test_without_valid_for_months_the_last_value_holds() -> None:
    p = _param(None)
    assert p.value_at(date(2030, 1, 1)) == 12434


def test_expiry_only_concerns_the_last_period() -> None:
    # An older period ends when the next one starts, whatever its age.
    p = _param(1)
    assert p.value_at(date(2025, 6, 30)) == 12307
    assert p.value_at(date(2025, 7, 31)) == 12434
    assert p.value_at(date(2025, 8, 1)) is None


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # facts.md section 3, one line per period in force.
        (date(2017, 3, 31), None),
        (date(2017, 4, 1), 6504),
        (date(2018, 3, 31), 6504),
        (date(2018, 4, 1), 7132),
        (date(2019, 11, 1), 8211),
        (date(2020, 6, 30), 8211),
        (date(2020, 7, 1), 9339),
        (date(2021, 6, 30), 9339),
        (date(2021, 7, 1), 10338),
        (date(2022, 7, 1), 11396),
        (date(2023, 7, 1), 12183),
        (date(2024, 6, 30), 12183),
        (date(2024, 7, 1), 12307),
        (date(2025, 6, 30), 12307),
        (date(2025, 7, 1), 12434),
        (date(2026, 6, 30), 12434),
        (date(2026, 7, 1), None),  # the 2025年度 figure was not found (facts.md 3)
    ],
)
def test_average_wage_by_month(wage: DatedParameter, day: date, expected: int | None) -> None:
    assert wage.value_at(day) == expected


def test_the_2020_figure_is_marked_conflict(wage: DatedParameter) -> None:
    period = wage.period_at(date(2020, 12, 1))
    assert period is not None
    assert period.value == 9339
    assert period.confidence == "CONFLICT"  # G6 gives 9580 (facts.md 3)


# ---- grade words -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("高级工（三级）", "level-3"),
        ("高级工", "level-3"),
        ("三级", "level-3"),
        ("技师", "level-2"),
        ("技师（二级）", "level-2"),
        ("二级", "level-2"),
        ("高级技师", "level-1"),
        ("电工高级技师", "level-1"),
        ("一级", "level-1"),
        ("中级工", "level-4"),
        ("四级", "level-4"),
        ("焊工四级", "level-4"),
        ("初级工", "level-5"),
        ("五级", "level-5"),
        ("学徒工", "apprentice"),
        ("特级技师", "special"),
        ("首席技师", "chief"),
        ("level-3", "level-3"),
        ("  三级 ", "level-3"),
        ("３级", "level-3"),  # full-width digit, folded by NFKC
    ],
)
def test_skill_grade_words(grades: Grades, text: str, expected: str) -> None:
    assert grades.parse(text, "skill") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("中级", "intermediate"),
        ("中级职称", "intermediate"),
        ("副高", "senior"),
        ("正高", "senior"),
        ("高级", "senior"),
        ("初级", "junior"),
        ("助理级", "junior"),
        ("senior", "senior"),
    ],
)
def test_title_grade_words(grades: Grades, text: str, expected: str) -> None:
    assert grades.parse(text, "title") == expected


@pytest.mark.parametrize("text", ["", "电工", "高级技师二级", "三级四级", "blue"])
def test_no_grade_or_two_grades_give_none(grades: Grades, text: str) -> None:
    assert grades.parse(text, "skill") is None


def test_longest_word_wins(grades: Grades) -> None:
    # 高级技师 is one grade word, not 高级 (三级) followed by 技师 (二级).
    assert [g for g, _, _ in grades.find_all("高级技师")] == ["level-1"]


# ---- the insurance window: 12 full months before the month of the date -------------------


def test_window_is_the_twelve_full_months_before_the_month() -> None:
    window = window_of(RULE, date(2025, 11, 15))
    assert len(window) == 12
    assert window[0] == date(2024, 11, 1)
    assert window[-1] == date(2025, 10, 1)  # the month of the date itself is not in it


def test_window_on_the_first_day_of_a_month() -> None:
    window = window_of(RULE, date(2026, 1, 1))
    assert (window[0], window[-1]) == (date(2025, 1, 1), date(2025, 12, 1))


def test_window_figures_across_july(wage: DatedParameter) -> None:
    periods = figure_periods(wage, window_of(RULE, date(2025, 11, 15)))
    assert [(m, p.value if p else None) for m, p in periods] == [
        (date(2024, 11, 1), 12307),
        (date(2025, 7, 1), 12434),
    ]


def test_window_figures_unknown_after_june_2026(wage: DatedParameter) -> None:
    periods = figure_periods(wage, window_of(RULE, date(2026, 11, 22)))
    assert [(m, p.value if p else None) for m, p in periods] == [
        (date(2025, 11, 1), 12434),
        (date(2026, 7, 1), None),
    ]


def _bases(values: dict[str, float]) -> tuple[MonthBase, ...]:
    return tuple(MonthBase(date(int(k[:4]), int(k[5:7]), 1), v) for k, v in sorted(values.items()))


def _year(first: date, base: float) -> dict[str, float]:
    return {add_months(first, k).strftime("%Y-%m"): base for k in range(12)}


def test_the_month_of_the_date_does_not_count(wage: DatedParameter) -> None:
    # Date 2025-11-15: window 2024-11 … 2025-10, all known bases; 5 qualifying months in the
    # window (2025-06 … 2025-10 at 20000) and a qualifying 2025-11 outside it -> 5 < 6.
    bases = _year(date(2024, 11, 1), 5000)
    for month in ("2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11"):
        bases[month] = 20000
    outcome = evaluate(RULE, wage, Facts(insurance=_bases(bases)), date(2025, 11, 15))
    assert outcome.months == 5
    assert outcome.status == "missing"


def test_months_before_the_window_do_not_count(wage: DatedParameter) -> None:
    # 2024-05 … 2024-10 qualify but lie before the window 2024-11 … 2025-10.
    bases = _year(date(2024, 11, 1), 5000)
    bases.update(dict.fromkeys(("2024-05", "2024-06", "2024-07", "2024-08", "2024-09"), 20000))
    bases["2024-10"] = 20000
    outcome = evaluate(RULE, wage, Facts(insurance=_bases(bases)), date(2025, 11, 15))
    assert (outcome.months, outcome.status) == (0, "missing")


def test_each_month_is_compared_with_the_figure_of_that_month(wage: DatedParameter) -> None:
    # Base 12400 every month; 12307 <= 12400 < 12434: only the 8 months before 2025-07 pass.
    outcome = evaluate(
        RULE, wage, Facts(insurance=_bases(_year(date(2024, 11, 1), 12400))), date(2025, 11, 15)
    )
    assert outcome.months == 8
    assert outcome.status == "met"
    assert "straddle" in outcome.review  # under the newest figure 0 months pass


def test_base_equal_to_the_figure_counts(wage: DatedParameter) -> None:
    # 不低于 = at least: a base equal to the average wage qualifies.
    outcome = evaluate(
        RULE, wage, Facts(insurance=_bases(_year(date(2025, 7, 1), 12434))), date(2026, 7, 15)
    )
    assert (outcome.months, outcome.status) == (12, "met")


def test_cumulative_not_consecutive(wage: DatedParameter) -> None:
    # Every other month at the average: 6 qualifying months, none consecutive (P10).
    bases = _year(date(2025, 7, 1), 5000)
    for k in range(0, 12, 2):
        bases[add_months(date(2025, 7, 1), k).strftime("%Y-%m")] = 12434
    outcome = evaluate(RULE, wage, Facts(insurance=_bases(bases)), date(2026, 7, 15))
    assert (outcome.months, outcome.status) == (6, "met")


# ---- the YAML case plugin itself (tests/engine/conftest.py) -------------------------------------


def _plugin() -> object:
    import importlib.util

    path = Path(__file__).resolve().parent / "engine" / "conftest.py"
    spec = importlib.util.spec_from_file_location("engine_case_plugin", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_case_plugin_rejects_names_that_are_not_exactly_one_entry() -> None:
    from bot.rules.ruleset import default_ruleset

    plugin: Any = _plugin()
    rs = default_ruleset()
    with pytest.raises(plugin.CaseError, match="exactly one"):
        plugin.resolve_entry(rs, "讲师")  # shared by three series
    with pytest.raises(plugin.CaseError, match="no entry"):
        plugin.resolve_entry(rs, "完全不存在的证书名")
    assert plugin.resolve_entry(rs, "一建").id == "qual.constructor-1"


def test_case_plugin_compares_sets_and_types() -> None:
    from bot.rules.ruleset import default_ruleset

    plugin: Any = _plugin()
    rs = default_ruleset()
    case = {
        "input": {
            "certificate": "一级建造师",
            "post_match": True,
            "appointed": True,
            "registered": True,
            "insurance_months_at_average": 6,
        },
    }
    outcome = plugin.run_case(rs, case)
    a = outcome.assessment
    assert outcome.entry.id == "qual.constructor-1"
    assert a.on == plugin.DEFAULT_DATE
    good = {
        "met": ["social_insurance_base", "registration", "appointment", "post_match"],
        "points": 100,
        "review": False,
        "missing": [],
    }
    assert plugin.compare(good, a) == []
    assert plugin.compare({"points": 100.0}, a)  # 100.0 is not the integer 100
    assert plugin.compare({"review": 0}, a)  # 0 is not False
    assert plugin.compare({"met": ["post_match"]}, a)
    assert plugin.compare({"explanation_contains": ["不存在的句子"]}, a)
