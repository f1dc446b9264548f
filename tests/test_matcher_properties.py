"""Any string at all: the matcher returns a well-formed answer, quickly, and never raises."""

from __future__ import annotations

import time

from auxil.match_catalogue import fake_ruleset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.rules.matcher import MAX_CHOICES, Matcher
from bot.rules.normalise import clean, normalise

M = Matcher(fake_ruleset())
NAMES = [n for e in M.entries for n in e.names]

# Characters users really produce, plus the nasty ones: controls, surrogates are excluded by
# str, combining marks, full-width forms, emoji, bidi controls.
text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.text(
        alphabet="一级二三高中初工程师会计建造电焊技证书（）()ＣＰＡcpa 　\x00\u200b\u202e😀",
        max_size=60,
    ),
    st.builds(
        lambda a, n, b: a + n + b, st.text(max_size=8), st.sampled_from(NAMES), st.text(max_size=8)
    ),
)

relaxed = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@relaxed
@given(text)
def test_any_text_gives_a_well_formed_answer(q: str) -> None:
    r = M.match(q)
    assert r.outcome in ("match", "choose", "none")
    assert r.query == q
    assert len(r.candidates) <= MAX_CHOICES
    assert all(0 <= c.score <= 100 for c in r.candidates)
    if r.outcome == "match":
        assert r.entry is not None
        assert r.needs in ((), ("grade",), ("occupation",))
    else:
        assert r.entry is None
    if r.outcome == "choose":
        assert len(r.candidates) >= 2


@relaxed
@given(text)
def test_normalise_is_idempotent(q: str) -> None:
    once = normalise(q)
    assert normalise(once) == once
    assert clean(clean(q)) == clean(q)


@relaxed
@given(st.text(min_size=1, max_size=5), st.integers(min_value=1_000, max_value=100_000))
def test_very_long_text_is_cheap(chunk: str, repeat: int) -> None:
    q = (chunk * (repeat // len(chunk) + 1))[:repeat]
    start = time.perf_counter()
    r = M.match(q)
    assert time.perf_counter() - start < 0.05
    assert r.outcome in ("match", "choose", "none")


def test_control_characters_and_huge_input() -> None:
    for q in ["\x00" * 100_000, "电工\x00三级", "\u202e一建", "一" * 100_000, "a\ud7ff" * 50]:
        assert M.match(q).outcome in ("match", "choose", "none")
    assert M.match("电工\x00三级").outcome == "match"
