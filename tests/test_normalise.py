"""Normalisation: what a query looks like once width, script, case, punctuation and the
filler words around a certificate name are gone."""

from __future__ import annotations

import pytest

from bot.rules.normalise import (
    MAX_INPUT_CHARS,
    NormaliseData,
    Normaliser,
    clean,
    default_normaliser,
    initials_variants,
    normalise,
    to_pinyin_variants,
)


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("ＣＰＡ 一級建造師！", "cpa一级建造师"),  # width, script, case, punctuation
        ("高級會計師", "高级会计师"),
        ("一 建", "一建"),
        ("一\u3000建\u200b", "一建"),  # ideographic space, zero-width space
        ("一级建造师😊", "一级建造师"),
        ("高级电工证（三级）", "高级电工证三级"),
        ("3级电工", "三级电工"),  # rules/normalise.yaml rewrites
        ("焊工（３级）", "焊工三级"),
        ("\x00\x1b[31m电工\x7f", "31m电工"),
        ("", ""),
    ],
)
def test_clean(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("请问高级工程师可以积多少分", "高级工程师"),
        ("我有一级建造师证书，想问问积分", "一级建造师"),
        ("您好，请问我有一个一级建造师的证书，在上海可以积多少分呢？谢谢", "一级建造师"),
        ("本人持有高级经济师证书", "高级经济师"),
        ("老师好，我考了二建，能加分吗", "二建"),
        ("中级会计职称", "中级会计"),
        ("执业药师资格证", "执业药师"),
        ("一建能加几分", "一建"),
    ],
)
def test_normalise_strips_fillers_at_both_ends(raw: str, name: str) -> None:
    assert normalise(raw) == name


@pytest.mark.parametrize("name", ["公证员", "三级公证员", "公证", "证书", "积分", "职称"])
def test_fillers_never_eat_a_name(name: str) -> None:
    # 证 is a filler, but 公证员 contains it and 公证 would shrink to one character.
    assert normalise(name) == name


def test_stages_keep_every_intermediate_form_longest_first() -> None:
    stages = default_normaliser().stages(clean("教师资格证书"))
    assert stages == ["教师资格证书", "教师资格", "教师"]


def test_stages_of_a_name_ending_in_a_filler_start_with_the_name() -> None:
    assert default_normaliser().stages("驾驶证")[0] == "驾驶证"


def test_fillers_only_at_the_ends() -> None:
    n = Normaliser(NormaliseData(prefixes=("我有",), suffixes=("证",)))
    assert n.normalise("我有公证员证") == "公证员"
    assert n.normalise("证我有") == "证我有"


def test_is_filler() -> None:
    n = default_normaliser()
    assert n.is_filler("证书")
    assert not n.is_filler("电工")


def test_input_is_capped() -> None:
    assert len(clean("电" * 100_000)) == MAX_INPUT_CHARS


def test_pinyin_variants_cover_heteronyms() -> None:
    # 会 alone reads hui; in 会计 it is kuai. A typo (会记师) loses the phrase context.
    assert set(to_pinyin_variants("会记师")) == {"huijishi", "kuaijishi"}
    assert "yjjzs" in initials_variants("一级建造师")


def test_pinyin_variants_are_capped() -> None:
    assert 1 <= len(to_pinyin_variants("长重行会行长重行会行" * 3, cap=8)) <= 8
    assert to_pinyin_variants("cpa") == ["cpa"]
