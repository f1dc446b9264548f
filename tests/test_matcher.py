"""What a user sees from the matcher, on a small catalogue of our own (tests/auxil), so that
these cases do not move when policy staff edit rules/catalogue."""

from __future__ import annotations

from datetime import date

import pytest
from auxil.match_catalogue import ENTRIES, E, fake_ruleset

from bot.rules.matcher import Matcher, MatchResult

RS = fake_ruleset()
TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def m() -> Matcher:
    return Matcher(RS)


def points(r: MatchResult) -> int | None:
    assert r.entry is not None
    return RS.tier(r.entry, r.entry.grade or r.grade, TODAY)


def matched(m: Matcher, text: str) -> MatchResult:
    r = m.match(text)
    assert r.outcome == "match", (text, r)
    assert r.entry is not None
    assert r.query == text
    return r


def test_the_issue_example(m: Matcher) -> None:
    r = matched(m, "高级电工证（三级）")
    assert r.entry is not None
    assert (r.entry.name, r.grade, r.needs, points(r)) == ("电工", "level-3", (), 60)


@pytest.mark.parametrize(
    ("text", "name", "pts"),
    [
        ("一建", "建造师(一级)", 100),
        ("一级建造师", "建造师(一级)", 100),  # the qualifier moved to the front
        ("建造师一级", "建造师(一级)", 100),
        ("中级会计", "会计师", 100),
        ("會計師", "会计师", 100),
        ("ＣＰＡ", "注册会计师", 100),
        ("请问一级建造师能加多少分？", "建造师(一级)", 100),
        ("会计师中级", "会计师", 100),
        ("一级建造师（市政）", "建造师(一级)", 100),
        ("教师资格证书", "教师资格", 0),
        ("初级会计职称", "助理会计师", 0),
    ],
)
def test_names_aliases_and_fillers(m: Matcher, text: str, name: str, pts: int) -> None:
    r = matched(m, text)
    assert r.entry is not None
    assert (r.entry.name, points(r)) == (name, pts)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("一级建照师", "建造师(一级)"),  # 照 for 造 (rules/typos.yaml)
        ("主冶医师", "主治医师"),
        ("工乙美术师", "工艺美术师"),
        ("高级工程狮", "高级工程师"),  # a wrong last character
        ("会计帅", "会计师"),
        ("职业药师", "执业药师"),
    ],
)
def test_look_alike_typos_match(m: Matcher, text: str, name: str) -> None:
    r = matched(m, text)
    assert r.entry is not None
    assert r.entry.name == name
    assert r.how.startswith("typo")


@pytest.mark.parametrize("text", ["会记师", "经纪师"])
def test_exact_homophones_are_asked_back(m: Matcher, text: str) -> None:
    r = m.match(text)
    assert r.outcome == "choose"
    assert 2 <= len(r.candidates) <= 6
    assert r.candidates[0].entry.name in ("会计师", "经济师")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("yijian", "建造师(一级)"),
        ("kuaijishi", "会计师"),  # heteronym: 会 reads kuai in 会计
        ("gaoji gongchengshi", "高级工程师"),
        ("gaogong", "高级工程师"),
        ("yijianshi", "建造师(一级)"),
        ("yjjzs", "建造师(一级)"),
    ],
)
def test_pinyin_and_initials(m: Matcher, text: str, name: str) -> None:
    r = matched(m, text)
    assert r.entry is not None
    assert r.entry.name == name


@pytest.mark.parametrize(
    ("text", "grade", "pts"),
    [
        ("高级电工", "level-3", 60),
        ("电工高级", "level-3", 60),
        ("电工三级", "level-3", 60),
        ("三级电工", "level-3", 60),
        ("电工技师", "level-2", 100),
        ("维修电工高级", "level-3", 60),
        ("电工国家职业资格三级", "level-3", 60),
        ("电工（高级）", "level-3", 60),
        ("diangong sanji", "level-3", 60),
    ],
)
def test_a_level_anywhere_around_an_occupation(m: Matcher, text: str, grade: str, pts: int) -> None:
    r = matched(m, text)
    assert r.entry is not None
    assert (r.entry.name, r.grade, r.needs, points(r)) == ("电工", grade, (), pts)


def test_level_words_that_disagree_leave_the_grade_open(m: Matcher) -> None:
    r = matched(m, "高级电工四级")
    assert (r.grade, r.needs) == (None, ("grade",))


@pytest.mark.parametrize("text", ["焊工", "美发师", "电工证", "美发"])
def test_an_occupation_without_a_level_needs_the_grade(m: Matcher, text: str) -> None:
    r = matched(m, text)
    assert r.entry is not None
    assert r.entry.is_occupation
    assert (r.grade, r.needs, points(r)) == (None, ("grade",), None)


@pytest.mark.parametrize(
    ("text", "pts"), [("高级技师", 140), ("技师证", 100), ("高级工", 60), ("中级工", 30)]
)
def test_a_level_without_an_occupation_gives_the_tier_and_asks(
    m: Matcher, text: str, pts: int
) -> None:
    r = matched(m, text)
    assert r.entry is not None
    assert r.entry.is_skill_level
    assert (r.needs, points(r)) == (("occupation",), pts)


@pytest.mark.parametrize(
    ("text", "name", "pts"),
    [
        ("中级工", "中级工", 30),
        ("中级工程师", "工程师", 100),
        ("高级工", "高级工", 60),
        ("高工", "高级工程师", 140),
        ("高级工程", "高级工程师", 140),
        ("技师", "技师", 100),
        ("工程师", "工程师", 100),
        ("一级教师", "一级教师", 100),
        ("计算机二级", "计算机等级考试", 0),
        ("英语六级", "大学英语六级", 0),
        ("会计师", "会计师", 100),
        ("注册会计师", "注册会计师", 100),
        ("执业医师", "执业医师", 0),
        ("执业药师", "执业药师", 100),
        ("二建", "二级建造师", 0),
        ("正高级工程师", "正高级工程师", 140),
    ],
)
def test_traps_are_never_confused(m: Matcher, text: str, name: str, pts: int) -> None:
    r = matched(m, text)
    assert r.entry is not None
    assert (r.entry.name, points(r)) == (name, pts)


@pytest.mark.parametrize("text", ["造价", "消防", "注册", "安全工程"])
def test_a_fragment_is_never_a_confident_match(m: Matcher, text: str) -> None:
    assert m.match(text).outcome in ("choose", "none")


@pytest.mark.parametrize(
    "text", ["会计", "建造师", "律师", "正高", "一级", "二级", "高级", "一级还是二级建造师"]
)
def test_ambiguous_text_gives_a_short_list(m: Matcher, text: str) -> None:
    r = m.match(text)
    assert r.outcome == "choose", r
    assert 2 <= len(r.candidates) <= 6
    scores = [c.score for c in r.candidates]
    assert scores == sorted(scores, reverse=True)


def test_shared_names_give_a_short_list() -> None:
    twin = E("editor-pub", "编辑", "title", "intermediate", shared=("编辑",))
    m = Matcher(fake_ruleset((*ENTRIES, twin)))
    r = m.match("编辑")
    assert r.outcome == "choose"
    assert {c.entry.id for c in r.candidates} == {"editor-mid", "editor-pub"}


@pytest.mark.parametrize(
    "text",
    [
        "早上好",
        "你好",
        "积分落户需要什么条件",
        "人工",
        "转人工",
        "qwerty",
        "测试",
        "证书",
        "😀",
        "",
        "   ",
        "我在上海工作了五年，社保交了六十个月，本科学历，想问问现在能不能申请居住证积分",
    ],
)
def test_nothing_plausible_gives_none(m: Matcher, text: str) -> None:
    assert m.match(text).outcome == "none"


def test_a_review_entry_keeps_its_flag(m: Matcher) -> None:
    r = matched(m, "特级技师证书")
    assert r.entry is not None
    assert r.entry.review


def test_candidates_of_a_match_start_with_the_match(m: Matcher) -> None:
    r = matched(m, "一级建照师")
    assert r.candidates[0].entry == r.entry
    assert all(0 <= c.score <= 100 for c in r.candidates)
