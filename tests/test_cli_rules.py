"""The rules commands from the shell, exactly as issue 2 specifies them: `check-rules`,
`catalogue --json` and `assess --json` (run as `python -m bot.cli`, as a user would)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "rules"

KINDS = {"title", "qualification", "skill", "other"}
TITLE_GRADES = {"senior", "intermediate", "junior"}
SKILL_GRADES = {
    "apprentice",
    "level-5",
    "level-4",
    "level-3",
    "level-2",
    "level-1",
    "special",
    "chief",
}
# facts.md 1.1 and 1.2: the tier of each grade.
TITLE_POINTS = {"senior": 140, "intermediate": 100, "junior": 0}
SKILL_POINTS = {
    "apprentice": 0,
    "level-5": 15,
    "level-4": 30,
    "level-3": 60,
    "level-2": 100,
    "level-1": 140,
    "special": 140,
    "chief": 140,
}
CATALOGUE_FIELDS = {
    "id",
    "name",
    "kind",
    "grade",
    "points",
    "series",
    "aliases",
    "registration",
    "review",
    "sources",
}
ASSESS_FIELDS = {
    "certificate",
    "points",
    "full_points",
    "met",
    "missing",
    "unknown",
    "review",
    "explanation",
    "rules_version",
}
CONDITION_CODES = {
    "post_match",
    "appointment",
    "registration",
    "obtained_in_shanghai",
    "shanghai_verification",
    "social_insurance_base",
    "skill_certificate_type",
}


def jifen(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def catalogue() -> list[dict[str, Any]]:
    done = jifen("catalogue", "--json", "--date", "2026-07-15")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert isinstance(data, list)
    return data


@pytest.fixture(scope="module")
def source_ids() -> set[str]:
    import yaml

    return set(yaml.safe_load((RULES / "sources.yaml").read_text(encoding="utf-8")))


# ---- check-rules -------------------------------------------------------------------------


def test_check_rules_exits_0_and_prints_counts_per_kind(catalogue: list[dict[str, Any]]) -> None:
    done = jifen("check-rules")
    assert done.returncode == 0, done.stderr
    counts = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^\s+([a-z-]+)\s+(\d+)\s*$", done.stdout, re.MULTILINE)
    }
    expected: dict[str, int] = {}
    for e in catalogue:
        kind = "skill-occupation" if e["kind"] == "skill" and e["grade"] is None else e["kind"]
        expected[kind] = expected.get(kind, 0) + 1
    for kind in ("title", "qualification", "skill", "skill-occupation", "other"):
        assert kind in expected, f"the catalogue has no {kind} entry"
        assert counts.get(kind) == expected[kind], done.stdout


def test_check_rules_with_explicit_folder() -> None:
    done = jifen("check-rules", "--rules", str(RULES))
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout


# ---- catalogue --json --------------------------------------------------------------------


def test_catalogue_without_date_is_json() -> None:
    done = jifen("catalogue", "--json")
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)


def test_catalogue_objects_have_the_issue_fields(catalogue: list[dict[str, Any]]) -> None:
    assert catalogue
    for obj in catalogue:
        missing = CATALOGUE_FIELDS - set(obj)
        assert not missing, f"{obj.get('id')}: missing {sorted(missing)}"


def test_catalogue_ids_are_unique(catalogue: list[dict[str, Any]]) -> None:
    ids = [e["id"] for e in catalogue]
    assert len(ids) == len(set(ids))
    for entry_id in ids:
        assert re.fullmatch(r"[a-z0-9][a-z0-9.-]*", entry_id), entry_id
        assert len(entry_id) <= 40, entry_id


def test_catalogue_value_domains(catalogue: list[dict[str, Any]], source_ids: set[str]) -> None:
    for e in catalogue:
        where = f"{e['id']} ({e['name']})"
        assert isinstance(e["name"], str), where
        assert e["name"].strip(), where
        assert e["kind"] in KINDS, where
        assert isinstance(e["aliases"], list), where
        assert all(isinstance(a, str) and a.strip() for a in e["aliases"]), where
        assert isinstance(e["registration"], bool), where
        assert isinstance(e["review"], bool), where
        assert e["series"] is None or isinstance(e["series"], str), where
        assert e["sources"], where
        assert set(e["sources"]) <= source_ids, where
        if e["kind"] in ("title", "qualification"):
            assert e["grade"] in TITLE_GRADES, where
        elif e["kind"] == "skill":
            assert e["grade"] is None or e["grade"] in SKILL_GRADES, where
        else:
            assert e["grade"] is None, where


def test_catalogue_points(catalogue: list[dict[str, Any]]) -> None:
    for e in catalogue:
        where = f"{e['id']} ({e['name']})"
        if e["kind"] == "other":
            assert e["points"] == 0, where
        elif e["kind"] == "skill" and e["grade"] is None:
            assert e["points"] is None, where  # an occupation: the level comes from the applicant
        elif e["kind"] == "skill":
            assert e["points"] == SKILL_POINTS[e["grade"]], where
        else:
            assert e["points"] == TITLE_POINTS[e["grade"]], where
        if e["points"] is None:
            assert e["kind"] == "skill", where
            assert e["grade"] is None, where


def test_no_qualification_reaches_140(catalogue: list[dict[str, Any]]) -> None:
    # facts.md 1.1: a 专业技术类职业资格 is at most 相当于中级;
    # only a 评审 title or skill 一级 is 140.
    for e in catalogue:
        if e["kind"] == "qualification":
            assert e["points"] in (0, 100), e["id"]


def test_registration_only_on_qualifications(catalogue: list[dict[str, Any]]) -> None:
    for e in catalogue:
        if e["registration"]:
            assert e["kind"] == "qualification", e["id"]


# ---- assess --json -----------------------------------------------------------------------

VALID_1 = {
    "certificate": "高级工程师",
    "date": "2026-07-15",
    "obtained_in_shanghai": True,
    "post_match": True,
    "appointed": True,
    "insurance_months_at_average": 6,
}
VALID_2 = {
    "certificate": "电工",
    "grade": "三级",
    "date": "2026-07-15",
    "obtained_in_shanghai": True,
    "post_match": True,
    "national_qualification": True,
}


def assess(lines: list[str]) -> tuple[int, list[dict[str, Any]], str]:
    done = jifen("assess", "--json", stdin="".join(line + "\n" for line in lines))
    out = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done.returncode, out, done.stderr


def test_assess_valid_lines_exit_0() -> None:
    status, out, err = assess([json.dumps(VALID_1, ensure_ascii=False)])
    assert status == 0, err
    assert len(out) == 1
    (result,) = out
    assert set(result) >= ASSESS_FIELDS
    assert result["certificate"]["name"] == "高级工程师"
    assert result["points"] == 140
    assert result["full_points"] == 140
    assert set(result["met"]) == {
        "obtained_in_shanghai",
        "post_match",
        "appointment",
        "social_insurance_base",
    }
    assert result["missing"] == []
    assert result["unknown"] == []
    assert result["review"] is False


def test_assess_several_lines_with_failures() -> None:
    lines = [
        json.dumps(VALID_1, ensure_ascii=False),
        "{not json",
        json.dumps(
            {"certificate": "完全不存在的某某证书XYZ", "date": "2026-07-15"}, ensure_ascii=False
        ),
        "",
        json.dumps(VALID_2, ensure_ascii=False),
        "[1, 2]",
        json.dumps({"certificate": "高级工程师", "post_match": "yes"}, ensure_ascii=False),
        json.dumps({"certificate": "高级工程师", "date": "2026-13-01"}, ensure_ascii=False),
        json.dumps({"certificate": "高级工程师", "colour": "red"}, ensure_ascii=False),
        json.dumps(VALID_1, ensure_ascii=False),
    ]
    status, out, _err = assess(lines)
    assert status == 1
    assert len(out) == 9, out  # one answer per non-empty line, in order
    ok = [o for o in out if "error" not in o]
    bad = [o for o in out if "error" in o]
    assert [o["certificate"]["name"] for o in ok] == ["高级工程师", "电工", "高级工程师"]
    assert ["error" in o for o in out] == [False, True, True, False, True, True, True, True, False]
    for o in bad:
        assert isinstance(o["error"], str)
        assert o["error"]
    for o in ok:
        assert set(o) >= ASSESS_FIELDS
    # 电工 三级 (60): no social-insurance condition below 100 (facts.md 2.5).
    assert ok[1]["points"] == 60
    assert "social_insurance_base" not in ok[1]["met"] + ok[1]["missing"] + ok[1]["unknown"]


def test_assess_ambiguous_certificate_lists_candidates() -> None:
    # 讲师 is the 中级 of three series (高校, 技校, 中专): the caller must choose.
    status, out, _ = assess([json.dumps({"certificate": "讲师"}, ensure_ascii=False)])
    assert status == 1
    (result,) = out
    assert "error" in result
    ids = {c["id"] for c in result.get("candidates", [])}
    assert len(ids) >= 2


def test_assess_output_field_types() -> None:
    status, out, err = assess(
        [json.dumps(VALID_1, ensure_ascii=False), json.dumps(VALID_2, ensure_ascii=False)]
    )
    assert status == 0, err
    version = jifen("check-rules").stdout.split()[1]
    for o in out:
        assert isinstance(o["certificate"], dict)
        assert set(o["certificate"]) >= CATALOGUE_FIELDS
        assert o["points"] is None or isinstance(o["points"], int)
        assert o["full_points"] is None or isinstance(o["full_points"], int)
        for key in ("met", "missing", "unknown"):
            assert isinstance(o[key], list)
            assert set(o[key]) <= CONDITION_CODES
        assert isinstance(o["review"], bool)
        assert isinstance(o["explanation"], list)
        assert o["explanation"]
        assert all(isinstance(line, str) for line in o["explanation"])
        assert o["rules_version"] == version


def test_assess_unknown_facts_give_null_points_not_zero() -> None:
    status, out, err = assess(
        [json.dumps({"certificate": "高级工程师", "date": "2026-07-15"}, ensure_ascii=False)]
    )
    assert status == 0, err
    (o,) = out
    assert o["points"] is None
    assert o["full_points"] == 140
    assert o["missing"] == []
    assert set(o["unknown"]) == {
        "obtained_in_shanghai",
        "post_match",
        "appointment",
        "social_insurance_base",
    }


def test_assess_monthly_insurance_list() -> None:
    # Date 2025-11-15: window 2024-11 … 2025-10; 12400 passes 12307 (8 months) but not 12434.
    months = [f"2024-{m:02d}" for m in (11, 12)] + [f"2025-{m:02d}" for m in range(1, 11)]
    line = {
        "certificate": "高级工程师",
        "date": "2025-11-15",
        "obtained_in_shanghai": True,
        "post_match": True,
        "appointed": True,
        "insurance": [{"month": m, "base": 12400} for m in months],
    }
    status, out, err = assess([json.dumps(line, ensure_ascii=False)])
    assert status == 0, err
    (o,) = out
    assert o["points"] == 140
    assert o["review"] is True  # under the newest figure (12434) no month would pass
