"""Reading answers: 是/否/不清楚, choices, figures, month counts; and unreadable input."""

from __future__ import annotations

import pytest

from bot.dialog.guard import problem
from bot.dialog.lexicon import load_lexicon
from bot.dialog.replies import Choice
from bot.dialog.slots import (
    chinese_number,
    parse_answer,
    parse_choice,
    parse_figure,
    parse_insurance,
    parse_ordinal,
)

LEX = load_lexicon()
YES_NO = [Choice("是", "yes"), Choice("否", "no"), Choice("不清楚", "unknown")]


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("是", "yes"), ("是的", "yes"), ("对", "yes"), ("有", "yes"), ("嗯嗯", "yes"),
        ("是的，已经注册了", "yes"), ("应该是吧", "yes"), ("已经注册了", "yes"), ("Yes", "yes"),
        ("ｙｅｓ", "yes"), ("没问题", "yes"),
        ("否", "no"), ("不是", "no"), ("没有", "no"), ("没", "no"), ("还没有", "no"),
        ("不对", "no"), ("对不上", "no"), ("no", "no"), ("不在上海", "no"),
        ("不清楚", "unknown"), ("不知道", "unknown"), ("不确定", "unknown"),
        ("我也不知道", "unknown"), ("不清楚啊", "unknown"), ("不太清楚，要问人事", "unknown"),
        ("随便", None), ("", None), ("一级建造师", None), ("2019年", None),
    ],
)  # fmt: skip
def test_answers(text: str, answer: str | None) -> None:
    assert parse_answer(text, LEX) == answer


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", "yes"), ("２", "no"), ("三", "unknown"), ("第2个", "no"), ("3.", "unknown"),
        ("不清楚", "unknown"), ("是", "yes"), ("unknown", "unknown"), ("4", None), ("0", None),
    ],
)  # fmt: skip
def test_choices_by_number_label_or_value(text: str, value: str | None) -> None:
    assert parse_choice(text, YES_NO, LEX) == value


def test_partial_labels_never_read_no_as_yes() -> None:
    kinds = [Choice("国家职业资格证书", "yes"), Choice("职业技能等级证书", "no")]
    assert parse_choice("国家职业资格", kinds, LEX) == "yes"
    assert parse_choice("技能等级", kinds, LEX) == "no"
    assert parse_choice("证书", kinds, LEX) is None  # both contain it
    assert parse_choice("不是", YES_NO, LEX) is None
    assert parse_choice("不清楚的", YES_NO, LEX, partial=False) is None


def test_ordinals() -> None:
    assert parse_ordinal("12", LEX) == 12
    assert parse_ordinal("第三项", LEX) == 3
    assert parse_ordinal("123", LEX) is None
    assert parse_ordinal("是", LEX) is None


@pytest.mark.parametrize(
    ("text", "number"),
    [("十二", 12), ("一万二", 12000), ("一万二千", 12000), ("一百零五", 105), ("两百五", 250),
     ("三千五百", 3500), ("十", 10), ("一万五", 15000), ("六", 6), ("二十", 20)],
)  # fmt: skip
def test_chinese_numerals(text: str, number: int) -> None:
    assert chinese_number(text, LEX) == number


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("12434元", 12434, "money"), ("1.2万", 12000, "money"), ("1万2", 12000, "money"),
        ("15k", 15000, "money"), ("15,000", 15000, None), ("我的基数是15000", 15000, None),
        ("６个月", 6, "months"), ("六个月", 6, "months"), ("八", 8, None),
        ("一万三千元", 13000, "money"),
    ],
)  # fmt: skip
def test_figures(text: str, value: float, unit: str | None) -> None:
    figure = parse_figure(text, LEX)
    assert figure is not None
    assert figure.value == value
    assert figure.unit == unit


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("8", ("months", 8)), ("0", ("months", 0)), ("12个月", ("months", 12)),
        ("全部", ("months", 12)), ("半年", ("months", 6)), ("一个月都没有", ("months", 0)),
        ("15000", ("base", 15000)), ("基数1.5万", ("base", 15000)), ("12434元", ("base", 12434)),
        ("不清楚", ("unknown", None)), ("30", None), ("13个月", None), ("是", None), ("", None),
    ],
)  # fmt: skip
def test_insurance(text: str, parsed: tuple[str, float | None] | None) -> None:
    assert parse_insurance(text, LEX) == parsed


@pytest.mark.parametrize(
    ("text", "issue"),
    [
        ("", "empty"), ("  \n ", "empty"), ("。。。", "empty"), ("👍", "emoji"),
        ("😂😂 ", "emoji"), ("👨‍👩‍👧", "emoji"), ("[表情]", "sticker"), ("[动画表情]", "sticker"),
        ("[微笑][微笑]", "sticker"), ("[Sticker]", "sticker"), ("x" * 501, "too_long"),
        ("x" * 500, None), ("是", None), ("[表情]一建", None), ("一建👍", None), ("3", None),
    ],
)  # fmt: skip
def test_unreadable_input(text: str, issue: str | None) -> None:
    assert problem(text, 500) == issue
