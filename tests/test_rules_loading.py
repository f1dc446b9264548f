"""Broken rules/ folders are rejected, and the error names the FILE and the KEY.

Each test copies the real rules/ folder to tmp_path and damages one file (or adds one small
catalogue file), so the suite also proves that the real folder loads. The same errors reach
the shell through `jifen-bot check-rules --rules FOLDER` (non-zero exit, file and key printed).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import RuleDataError
from bot.rules.ruleset import Ruleset, load_ruleset

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "rules"


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """A private copy of the real rules/ folder, to be damaged by one test."""
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    return folder


@pytest.fixture(scope="module")
def real() -> Ruleset:
    return load_ruleset(RULES)


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} not found in {path}: the test needs updating"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def drop_block(path: Path, key: str) -> None:
    """Remove the top-level `key:` block (its line and the indented lines after it)."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{re.escape(key)}:.*\n(?:(?:[ \t].*)?\n)*", re.MULTILINE)
    assert pattern.search(text), f"no top-level {key!r} in {path}"
    path.write_text(pattern.sub("", text, count=1), encoding="utf-8")


def add_catalogue(folder: Path, name: str, text: str) -> Path:
    path = folder / "catalogue" / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(folder: Path) -> RuleDataError:
    with pytest.raises(RuleDataError) as info:
        load_ruleset(folder)
    return info.value


def assert_names(err: RuleDataError, file: str, *key_parts: str) -> None:
    """The error names the file (by its path ending) and every part of the key."""
    assert err.file.replace("\\", "/").endswith(file), f"file {err.file!r} is not {file!r}"
    message = str(err)
    assert file.split("/")[-1] in message
    for part in key_parts:
        assert part in message, f"{part!r} missing from {message!r}"


ENTRY = """  - id: {id}
    name: {name}
    kind: other
    reason: 测试用条目，不计分
    sources: [P2]
    confidence: INF
"""


def entries(*items: str, defaults: str = "") -> str:
    return (defaults + "entries:\n" + "".join(items)) if items else defaults


# ---- the real folder ---------------------------------------------------------------------


def test_real_rules_load(real: Ruleset) -> None:
    assert len(real.catalogue) > 0
    assert real.version.startswith(real.version.split("+")[0] + "+")


def test_an_untouched_copy_loads(rules: Path) -> None:
    assert len(load_ruleset(rules).catalogue) > 0


def test_a_small_valid_added_file_loads(rules: Path) -> None:
    add_catalogue(rules, "zz_test.yaml", entries(ENTRY.format(id="test.ok", name="测试证书甲")))
    rs = load_ruleset(rules)
    assert [e.id for e in rs.catalogue.lookup("测试证书甲")] == ["test.ok"]


def test_missing_folder(tmp_path: Path) -> None:
    err = load_error(tmp_path / "nowhere")
    assert "nowhere" in str(err)


# ---- duplicate keys ------------------------------------------------------------------------


def test_duplicate_key_in_a_catalogue_file(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(
            "  - id: test.dupkey\n    name: 测试证书甲\n    name: 测试证书乙\n    kind: other\n"
            "    reason: 测试\n    sources: [P2]\n    confidence: INF\n"
        ),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "duplicate key", "name", "line 4")


def test_duplicate_key_in_points_yaml(rules: Path) -> None:
    replace_once(
        rules / "points.yaml", "      level-4: 30\n", "      level-4: 30\n      level-4: 30\n"
    )
    err = load_error(rules)
    assert_names(err, "points.yaml", "duplicate key", "level-4")


def test_duplicate_date_in_average_wage(rules: Path) -> None:
    path = rules / "parameters" / "average_wage.yaml"
    line = "  2025-07-01: {value: 12434, sources: [G6, G7], confidence: C}\n"
    replace_once(path, line, line + line.replace("12434", "12500"))
    err = load_error(rules)
    assert_names(err, "parameters/average_wage.yaml", "duplicate key", "2025")


# ---- ids and names ---------------------------------------------------------------------------


def test_duplicate_id_across_two_files(rules: Path) -> None:
    add_catalogue(rules, "zz_a.yaml", entries(ENTRY.format(id="test.same", name="测试证书甲")))
    add_catalogue(rules, "zz_b.yaml", entries(ENTRY.format(id="test.same", name="测试证书乙")))
    err = load_error(rules)
    assert_names(err, "catalogue/zz_b.yaml", "test.same", "duplicate id", "zz_a.yaml")


def test_duplicate_of_a_real_id(rules: Path, real: Ruleset) -> None:
    taken = real.catalogue.entries[0].id
    add_catalogue(rules, "zz_test.yaml", entries(ENTRY.format(id=taken, name="测试证书甲")))
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", taken, "duplicate id")


def test_alias_shared_by_accident(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(
            ENTRY.format(id="test.a", name="测试证书甲"),
            ENTRY.format(id="test.b", name="测试证书乙") + "    aliases: [测试证书甲]\n",
        ),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.a", "test.b", "shared")


def test_alias_equal_to_a_real_name(rules: Path, real: Ruleset) -> None:
    # Any real name that stands for one entry only.
    target = next(e for e in real.catalogue.entries if len(real.catalogue.lookup(e.name)) == 1)
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(ENTRY.format(id="test.b", name="测试证书乙") + f"    aliases: [{target.name}]\n"),
    )
    err = load_error(rules)
    assert "test.b" in str(err)
    assert target.id in str(err)
    assert err.file.endswith((Path(target.file).name, "zz_test.yaml"))


def test_alias_differing_only_in_width_and_spacing(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(
            ENTRY.format(id="test.a", name="ABC 测试证书"),
            ENTRY.format(id="test.b", name="测试证书乙") + "    aliases: [ａｂｃ测试证书]\n",
        ),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.a", "test.b")


def test_declared_shared_name_is_accepted(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(
            ENTRY.format(id="test.a", name="测试证书甲") + "    aliases: [测试共名]\n"
            "    shared: [测试共名]\n",
            ENTRY.format(id="test.b", name="测试证书乙") + "    aliases: [测试共名]\n"
            "    shared: [测试共名]\n",
        ),
    )
    rs = load_ruleset(rules)
    assert sorted(e.id for e in rs.catalogue.lookup("测试共名")) == ["test.a", "test.b"]


def test_shared_declared_by_one_side_only(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(
            ENTRY.format(id="test.a", name="测试证书甲") + "    aliases: [测试共名]\n"
            "    shared: [测试共名]\n",
            ENTRY.format(id="test.b", name="测试证书乙") + "    aliases: [测试共名]\n",
        ),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.b", "shared")


def test_shared_name_that_is_not_a_name_of_the_entry(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(ENTRY.format(id="test.a", name="测试证书甲") + "    shared: [别的名字]\n"),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.a.shared", "别的名字")


def test_bad_id(rules: Path) -> None:
    add_catalogue(rules, "zz_test.yaml", entries(ENTRY.format(id="Test_Bad", name="测试证书甲")))
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "entries[0]", ".id")


# ---- unknown fields ----------------------------------------------------------------------------


def test_unknown_field_in_an_entry(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(ENTRY.format(id="test.a", name="测试证书甲") + "    registation: true\n"),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.a", "registation", "unknown field")


def test_unknown_field_in_defaults(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(
            ENTRY.format(id="test.a", name="测试证书甲"),
            defaults="defaults:\n  confidance: C\n",
        ),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "defaults.confidance", "unknown field")


def test_unknown_top_level_field_in_a_catalogue_file(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(ENTRY.format(id="test.a", name="测试证书甲")) + "entires: []\n",
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "entires", "unknown field")


def test_unknown_field_in_a_wage_period(rules: Path) -> None:
    replace_once(
        rules / "parameters" / "average_wage.yaml",
        "{value: 12434, sources: [G6, G7], confidence: C}",
        "{value: 12434, sources: [G6, G7], confidence: C, valeu: 1}",
    )
    err = load_error(rules)
    assert_names(err, "parameters/average_wage.yaml", "2025-07-01", "valeu")


def test_unknown_field_in_points_yaml(rules: Path) -> None:
    replace_once(rules / "points.yaml", "cap: 140", "cap: 140\ncaps: 140")
    err = load_error(rules)
    assert_names(err, "points.yaml", "caps", "unknown field")


# ---- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["2025/07/01", "2025-7-1x", "July 2025"])
def test_bad_date_key_in_average_wage(rules: Path, bad: str) -> None:
    replace_once(rules / "parameters" / "average_wage.yaml", "  2025-07-01:", f"  {bad}:")
    err = load_error(rules)
    assert_names(err, "parameters/average_wage.yaml", "values", bad)


@pytest.mark.parametrize("bad", ["2025-13-01", "2025-02-30"])
def test_impossible_date_in_average_wage(rules: Path, bad: str) -> None:
    # Looks like a date to YAML but is none: must still name the file (not a bare ValueError).
    replace_once(rules / "parameters" / "average_wage.yaml", "  2025-07-01:", f"  {bad}:")
    err = load_error(rules)
    assert_names(err, "parameters/average_wage.yaml")


def test_bad_date_key_in_points_yaml(rules: Path) -> None:
    replace_once(rules / "points.yaml", "  2018-01-01:", "  2018-01:")
    err = load_error(rules)
    assert_names(err, "points.yaml", "values", "2018-01")


def test_impossible_date_in_points_yaml(rules: Path) -> None:
    replace_once(rules / "points.yaml", "  2018-01-01:", "  2018-02-30:")
    err = load_error(rules)
    assert_names(err, "points.yaml")


def test_wage_value_must_be_a_positive_number(rules: Path) -> None:
    replace_once(rules / "parameters" / "average_wage.yaml", "value: 12434", "value: 12434.5")
    err = load_error(rules)
    assert_names(err, "parameters/average_wage.yaml", "2025-07-01", "value")


# ---- sources -----------------------------------------------------------------------------------


def test_entry_without_sources(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(
            "  - id: test.a\n    name: 测试证书甲\n    kind: other\n    reason: 测试\n"
            "    confidence: INF\n"
        ),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.a", "sources", "required")


def test_entry_with_empty_sources(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(ENTRY.format(id="test.a", name="测试证书甲").replace("[P2]", "[]")),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.a", "sources")


def test_entry_with_unknown_source_id(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(ENTRY.format(id="test.a", name="测试证书甲").replace("[P2]", "[P2, Q99]")),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.a", "sources", "Q99")


def test_wage_period_without_sources(rules: Path) -> None:
    replace_once(
        rules / "parameters" / "average_wage.yaml",
        "{value: 12434, sources: [G6, G7], confidence: C}",
        "{value: 12434, confidence: C}",
    )
    err = load_error(rules)
    assert_names(err, "parameters/average_wage.yaml", "2025-07-01", "sources")


def test_wage_period_with_unknown_source_id(rules: Path) -> None:
    replace_once(
        rules / "parameters" / "average_wage.yaml", "sources: [G6, G7]", "sources: [G6, G77]"
    )
    err = load_error(rules)
    assert_names(err, "parameters/average_wage.yaml", "2025-07-01", "G77")


def test_points_without_sources(rules: Path) -> None:
    replace_once(rules / "points.yaml", "    sources: [O1, O2, P3, P4, G1, G3, P39]\n", "")
    err = load_error(rules)
    assert_names(err, "points.yaml", "2018-01-01", "sources")


def test_condition_with_unknown_source_id(rules: Path) -> None:
    replace_once(
        rules / "conditions.yaml",
        "  sources: [O2, P3, P4, P1, P17, P18]",
        "  sources: [O2, P3, P4, P1, P17, P18, X1]",
    )
    err = load_error(rules)
    assert_names(err, "conditions.yaml", "post_match", "X1")


def test_insurance_rule_without_sources(rules: Path) -> None:
    replace_once(
        rules / "parameters" / "social_insurance.yaml", "sources: [O2, P3, P4, G1, P10, P39]\n", ""
    )
    err = load_error(rules)
    assert_names(err, "parameters/social_insurance.yaml", "sources")


# ---- review, reason, grades, tiers -------------------------------------------------------------


def test_review_without_review_reason(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(ENTRY.format(id="test.a", name="测试证书甲") + "    review: true\n"),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.a", "review_reason")


def test_other_entry_without_reason(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(
            ENTRY.format(id="test.a", name="测试证书甲").replace(
                "    reason: 测试用条目，不计分\n", ""
            )
        ),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.a", "reason")


@pytest.mark.parametrize(
    ("kind", "grade"),
    [("title", "junior"), ("qualification", "junior"), ("skill", "apprentice")],
)
def test_zero_point_grade_without_reason(rules: Path, kind: str, grade: str) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(
            f"  - id: test.a\n    name: 测试证书甲\n    kind: {kind}\n    grade: {grade}\n"
            "    route: exam\n    sources: [P2]\n    confidence: INF\n"
        ),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.a", "reason")


@pytest.mark.parametrize(
    ("kind", "grade"),
    [
        ("title", "level-3"),
        ("title", "expert"),
        ("qualification", "senior"),  # no 职业资格 is 相当于高级 (facts.md 1.1)
        ("skill", "intermediate"),
        ("skill", "level-6"),
        ("other", "intermediate"),
    ],
)
def test_invalid_grade_for_its_kind(rules: Path, kind: str, grade: str) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(
            f"  - id: test.a\n    name: 测试证书甲\n    kind: {kind}\n    grade: {grade}\n"
            "    route: exam\n    reason: 测试\n    sources: [P2]\n    confidence: INF\n"
        ),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.a", "grade")


def test_title_without_grade(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(
            "  - id: test.a\n    name: 测试证书甲\n    kind: title\n    route: review\n"
            "    sources: [P2]\n    confidence: INF\n"
        ),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.a", "grade")


def test_unknown_kind(rules: Path) -> None:
    add_catalogue(
        rules,
        "zz_test.yaml",
        entries(
            ENTRY.format(id="test.a", name="测试证书甲").replace("kind: other", "kind: licence")
        ),
    )
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "test.a", "kind", "licence")


@pytest.mark.parametrize(
    ("old", "new"), [("level-4: 30", "level-4: 35"), ("level-1: 140", "level-1: 150")]
)
def test_tier_value_that_is_not_a_tier(rules: Path, old: str, new: str) -> None:
    replace_once(rules / "points.yaml", old, new)
    err = load_error(rules)
    grade = old.split(":")[0]
    assert_names(err, "points.yaml", f"skill.{grade}", "not a tier")


def test_tier_missing_for_a_grade(rules: Path) -> None:
    replace_once(rules / "points.yaml", "      level-3: 60\n", "")
    err = load_error(rules)
    assert_names(err, "points.yaml", "skill.level-3")


def test_tier_for_an_unknown_grade(rules: Path) -> None:
    replace_once(
        rules / "points.yaml", "      level-3: 60\n", "      level-3: 60\n      level-6: 0\n"
    )
    err = load_error(rules)
    assert_names(err, "points.yaml", "level-6", "unknown grade")


def test_tier_above_the_cap(rules: Path) -> None:
    replace_once(rules / "points.yaml", "cap: 140", "cap: 100")
    err = load_error(rules)
    assert_names(err, "points.yaml", "not a tier")


# ---- conditions and texts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["registration", "social_insurance_base", "skill_certificate_type"]
)
def test_missing_condition(rules: Path, code: str) -> None:
    drop_block(rules / "conditions.yaml", code)
    err = load_error(rules)
    assert_names(err, "conditions.yaml", code, "not defined")


def test_unknown_condition(rules: Path) -> None:
    path = rules / "conditions.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "household:\n  label: 户籍\n  applies_to: [title]\n  sources: [P2]\n  confidence: INF\n"
        "  texts: {met: a, missing: b, unknown: c}\n",
        encoding="utf-8",
    )
    err = load_error(rules)
    assert_names(err, "conditions.yaml", "household", "unknown condition")


def test_condition_applying_to_an_unknown_kind(rules: Path) -> None:
    replace_once(
        rules / "conditions.yaml",
        "applies_to: [title, qualification, skill]",
        "applies_to: [title, qualification, skil]",
    )
    err = load_error(rules)
    assert_names(err, "conditions.yaml", "post_match", "applies_to", "skil")


@pytest.mark.parametrize("text", ["met", "missing", "unknown"])
def test_required_condition_text_missing(rules: Path, text: str) -> None:
    path = rules / "conditions.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    # Drop the `text:` line inside the post_match block (the first block of the file).
    start = next(i for i, line in enumerate(lines) if line.startswith("post_match:"))
    index = next(i for i in range(start, len(lines)) if lines[i].startswith(f"    {text}: "))
    del lines[index]
    path.write_text("".join(lines), encoding="utf-8")
    err = load_error(rules)
    assert_names(err, "conditions.yaml", f"post_match.texts.{text}", "required")


def test_empty_condition_text(rules: Path) -> None:
    replace_once(
        rules / "conditions.yaml",
        "    met: 单位已聘任（凭《专业技术职务聘任表》或聘书）。",
        "    met: ''",
    )
    err = load_error(rules)
    assert_names(err, "conditions.yaml", "appointment.texts.met")


@pytest.mark.parametrize("key", ["all_met", "zero", "education_either", "before_2018"])
def test_required_explanation_text_missing(rules: Path, key: str) -> None:
    drop_block(rules / "explanations.yaml", key)
    err = load_error(rules)
    assert_names(err, "explanations.yaml", key)


def test_unknown_placeholder_in_an_explanation_text(rules: Path) -> None:
    # A misspelt placeholder would crash the engine at the first assessment (KeyError);
    # loading must reject it instead, naming file and key.
    replace_once(rules / "explanations.yaml", "可以计 {points} 分", "可以计 {pionts} 分")
    err = load_error(rules)
    assert_names(err, "explanations.yaml", "all_met")


def test_unknown_placeholder_in_a_condition_text(rules: Path) -> None:
    replace_once(
        rules / "conditions.yaml", "中有{months}个月社保缴费基数", "中有{month}个月社保缴费基数"
    )
    err = load_error(rules)
    assert_names(err, "conditions.yaml", "social_insurance_base.texts.met")


def test_insurance_required_months_above_window(rules: Path) -> None:
    replace_once(
        rules / "parameters" / "social_insurance.yaml", "required_months: 6", "required_months: 13"
    )
    err = load_error(rules)
    assert_names(err, "parameters/social_insurance.yaml", "required_months")


def test_grade_word_used_twice(rules: Path) -> None:
    replace_once(rules / "grades.yaml", "  level-4: [四级,", "  level-4: [三级, 四级,")
    err = load_error(rules)
    assert_names(err, "grades.yaml", "skill.level-", "三级", "twice")


def test_grade_label_missing(rules: Path) -> None:
    replace_once(rules / "grades.yaml", "  chief: 首席技师\n", "")
    err = load_error(rules)
    assert_names(err, "grades.yaml", "labels.chief")


def test_source_without_title(rules: Path) -> None:
    path = rules / "sources.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "Z9:\n  url: https://example.org\n", encoding="utf-8"
    )
    err = load_error(rules)
    assert_names(err, "sources.yaml", "Z9", "title")


def test_ruleset_without_version(rules: Path) -> None:
    replace_once(rules / "ruleset.yaml", "version: 1.0.0\n", "")
    err = load_error(rules)
    assert_names(err, "ruleset.yaml", "version")


def test_not_yaml_at_all(rules: Path) -> None:
    add_catalogue(rules, "zz_test.yaml", "entries: [\n  - {id: test.a\n")
    err = load_error(rules)
    assert_names(err, "catalogue/zz_test.yaml", "line")


# ---- the same from the shell -------------------------------------------------------------------


def check_rules(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "check-rules", "--rules", str(folder)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        timeout=60,
        check=False,
    )


def test_check_rules_on_a_copy_exits_0(rules: Path) -> None:
    done = check_rules(rules)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("damage", "file", "key"),
    [
        ("dup_key_points", "points.yaml", "level-4"),
        ("alias", "zz_test.yaml", "test.b"),
        ("unknown_field", "zz_test.yaml", "registation"),
        ("bad_date", "average_wage.yaml", "2025/07/01"),
        ("no_condition", "conditions.yaml", "registration"),
    ],
)
def test_check_rules_on_a_broken_folder(rules: Path, damage: str, file: str, key: str) -> None:
    if damage == "dup_key_points":
        replace_once(
            rules / "points.yaml", "      level-4: 30\n", "      level-4: 30\n      level-4: 30\n"
        )
    elif damage == "alias":
        add_catalogue(
            rules,
            "zz_test.yaml",
            entries(
                ENTRY.format(id="test.a", name="测试证书甲"),
                ENTRY.format(id="test.b", name="测试证书乙") + "    aliases: [测试证书甲]\n",
            ),
        )
    elif damage == "unknown_field":
        add_catalogue(
            rules,
            "zz_test.yaml",
            entries(ENTRY.format(id="test.a", name="测试证书甲") + "    registation: true\n"),
        )
    elif damage == "bad_date":
        replace_once(rules / "parameters" / "average_wage.yaml", "  2025-07-01:", "  2025/07/01:")
    else:
        drop_block(rules / "conditions.yaml", "registration")
    done = check_rules(rules)
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert file in out, out
    assert key in out, out
    assert "Traceback" not in out, out
