"""A small catalogue built from Entry objects, for matcher tests that must not depend on the
real rules/ data (which policy staff may change at any time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.rules.model import Entry, Grade, Kind

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"

SKILL_POINTS: dict[str, int] = {
    "apprentice": 0,
    "level-5": 15,
    "level-4": 30,
    "level-3": 60,
    "level-2": 100,
    "level-1": 140,
    "special": 140,
    "chief": 140,
}
TITLE_POINTS: dict[str, int] = {"senior": 140, "intermediate": 100, "junior": 0}


def E(
    id: str,
    name: str,
    kind: Kind,
    grade: Grade | None = None,
    *aliases: str,
    **extra: Any,
) -> Entry:
    return Entry(
        id=id,
        name=name,
        kind=kind,
        grade=grade,
        sources=("O2",),
        confidence="C",
        file="fixture.yaml",
        aliases=tuple(aliases),
        **extra,
    )


T, Q, S, OT = "title", "qualification", "skill", "other"
SEN, MID, JUN = "senior", "intermediate", "junior"

ENTRIES: tuple[Entry, ...] = (
    E("eng-full", "正高级工程师", T, SEN, "教授级高工", rank="正高"),
    E("eng-senior", "高级工程师", T, SEN, "高工", rank="副高"),
    E("eng-mid", "工程师", T, MID, "中级工程师"),
    E("eng-junior", "助理工程师", T, JUN, "助工"),
    E("acc-full", "正高级会计师", T, SEN),
    E("acc-senior", "高级会计师", T, SEN, "高会", "高级会计"),
    E("acc-mid", "会计师", T, MID, "中级会计", "中级会计师", "中会"),
    E("acc-junior", "助理会计师", T, JUN, "初级会计", "初会"),
    E("eco-senior", "高级经济师", T, SEN, "高经"),
    E("eco-mid", "经济师", T, MID, "中级经济师", "中经"),
    E("eco-junior", "助理经济师", T, JUN, "初级经济师"),
    E("nurse-mid", "主管护师", T, MID),
    E("pharm-mid", "主管药师", T, MID),
    E("tech-mid", "主管技师", T, MID),
    E("doc-mid", "主治医师", T, MID, "主治"),
    E("doc-senior", "副主任医师", T, SEN),
    E("pharm-senior", "副主任药师", T, SEN),
    E("prof-assoc", "副教授", T, SEN),
    E("teacher-1", "一级教师", T, MID),
    E("teacher-senior", "高级教师", T, SEN),
    E("teacher-2", "二级教师", T, JUN),
    E("editor-senior", "主任编辑", T, SEN),
    E("editor-mid", "编辑", T, MID),
    E("art-mid", "工艺美术师", T, MID),
    E("art-senior", "高级工艺美术师", T, SEN),
    E("lawyer-1", "一级律师", T, SEN),
    E("lawyer-2", "二级律师", T, SEN),
    E("lawyer-3", "三级律师", T, MID),
    E("lawyer-4", "四级律师", T, JUN),
    E("notary-3", "三级公证员", T, MID),
    E("builder-1", "建造师(一级)", Q, MID, "一建", "一级建造师证", registration=True),
    E("builder-2", "二级建造师", Q, JUN, "二建"),
    E("cost-1", "造价工程师(一级)", Q, MID, "一造", "一级造价师", registration=True),
    E("cost-2", "二级造价工程师", Q, JUN, "二造"),
    E("supervisor", "监理工程师", Q, MID, "注册监理工程师", "监理"),
    E("safety-mid", "注册安全工程师(中级)", Q, MID, "注安", "中级注安"),
    E("safety-junior", "注册安全工程师(初级)", Q, JUN, "初级注安"),
    E("fire-1", "注册消防工程师(一级)", Q, MID, "一消"),
    E("fire-2", "注册消防工程师(二级)", Q, JUN, "二消"),
    E("arch-1", "注册建筑师(一级)", Q, MID, "一注"),
    E("pharmacist", "执业药师", Q, MID),
    E("doctor", "执业医师", Q, JUN),
    E("valuer", "房地产估价师", Q, MID),
    E("cpa", "注册会计师", Q, MID, "cpa", "注会"),
    E("level-5", "初级工", S, "level-5", "五级"),
    E("level-4", "中级工", S, "level-4", "四级"),
    E("level-3", "高级工", S, "level-3", "三级"),
    E("level-2", "技师", S, "level-2"),
    E("level-1", "高级技师", S, "level-1"),
    E("special", "特级技师", S, "special", review=True, review_reason="企业自主评聘"),
    E("chief", "首席技师", S, "chief", review=True, review_reason="企业自主评聘"),
    E("electrician", "电工", S, None, "维修电工"),
    E("welder", "焊工", S, None),
    E("fitter", "钳工", S, None),
    E("babycare", "育婴员", S, None),
    E("hair", "美发师", S, None),
    E("programmer", "计算机程序设计员", S, None),
    E("lift", "电梯安装维修工", S, None),
    E("fire-op", "消防设施操作员", S, None),
    E("tea", "茶艺师", S, None),
    E(
        "hr",
        "企业人力资源管理师",
        S,
        None,
        "人力资源管理师",
        review=True,
        review_reason="已退出目录",
    ),
    E("teacher-cert", "教师资格", OT, None, "教师资格证", "教资", reason="准入类"),
    E("driving", "机动车驾驶证", OT, None, "驾驶证", "驾照", reason="不是职称"),
    E("cet4", "大学英语四级", OT, None, "英语四级", "cet4", reason="不是职称"),
    E("cet6", "大学英语六级", OT, None, "英语六级", "cet6", reason="不是职称"),
    E("ncre", "计算机等级考试", OT, None, "计算机二级", "计算机一级", reason="不是职称"),
    E("law", "法律职业资格", OT, None, "法考", "司法考试", review=True, review_reason="需人工"),
)

SKILL_WORDS: dict[str, str] = {
    "学徒工": "apprentice",
    "初级工": "level-5",
    "五级": "level-5",
    "初级": "level-5",
    "中级工": "level-4",
    "四级": "level-4",
    "中级": "level-4",
    "高级工": "level-3",
    "三级": "level-3",
    "高级": "level-3",
    "技师": "level-2",
    "二级": "level-2",
    "高级技师": "level-1",
    "一级": "level-1",
    "特级技师": "special",
    "首席技师": "chief",
    "国家职业资格二级": "level-2",
    "国家职业资格三级": "level-3",
}
TITLE_WORDS: dict[str, str] = {
    "正高级": "senior",
    "正高": "senior",
    "副高级": "senior",
    "副高": "senior",
    "高级": "senior",
    "中级": "intermediate",
    "初级": "junior",
}


class FakeCatalogue:
    def __init__(self, entries: tuple[Entry, ...]) -> None:
        self.entries = entries


class FakeGrades:
    def words(self, kind: str) -> dict[str, str]:
        return SKILL_WORDS if kind == "skill" else TITLE_WORDS


@dataclass
class FakeRuleset:
    catalogue: FakeCatalogue
    grades: FakeGrades
    folder: Path = RULES_DIR

    def tier(self, entry: Entry, grade: Grade | None, on: date) -> int | None:
        if entry.kind == "other":
            return 0
        grade = grade or entry.grade
        if grade is None:
            return None
        return (SKILL_POINTS if entry.kind == "skill" else TITLE_POINTS)[grade]


def fake_ruleset(entries: tuple[Entry, ...] = ENTRIES) -> FakeRuleset:
    return FakeRuleset(FakeCatalogue(entries), FakeGrades())
