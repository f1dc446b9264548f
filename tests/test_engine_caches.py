"""What the engine no longer recomputes on every message (issue 5) gives the same answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from auxil.conversation import engine

from bot.dialog.context import Ctx
from bot.dialog.facts import _insurance_question, insurance_question
from bot.dialog.messages import Incoming
from bot.dialog.state import SessionState, StateError
from bot.rules.catalogue import name_key

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
WALKS = [
    ["一建", "1", "1", "1", "20", "2", "电工三级", "1", "1", "2"],
    ["电工", "3", "1", "是", "返回", "1", "1", "人工"],
    ["焊工", "4", "1", "1", "1", "不清楚", "1"],
    ["高级工程师", "是", "是", "是", "15000", "1", "重新开始"],
]


def test_copy_is_the_same_as_a_round_trip_through_the_store_format() -> None:
    eng = engine()
    for walk in WALKS:
        state = None
        for n, text in enumerate(walk):
            state = eng.handle(state, Incoming(text), T0 + timedelta(seconds=n)).state
            copied = state.copy()
            assert copied == SessionState.from_dict(state.to_dict())
            assert copied.to_dict() == state.to_dict()
            # A copy shares nothing the next turn changes.
            copied.cert.answers["appointment"] = "no"
            copied.cert.candidates.append("x")
            copied.history.append({})
            assert copied.to_dict() != state.to_dict()


def test_copy_refuses_a_state_of_another_schema_version() -> None:
    state = SessionState.new("certificate", T0)
    state.version = 0
    with pytest.raises(StateError):
        state.copy()


def test_an_int_insurance_base_is_copied_as_the_store_would_give_it_back() -> None:
    state = SessionState.new("certificate", T0)
    state.cert.insurance_base = 15000  # type: ignore[assignment]  # as a reader might set it
    assert isinstance(state.copy().cert.insurance_base, float)


def test_the_insurance_question_is_worked_out_once_a_day() -> None:
    eng = engine()
    ctx = Ctx(eng.cfg, SessionState.new("insurance", T0), T0)
    first = insurance_question(ctx)
    assert first == _insurance_question(ctx)
    assert insurance_question(ctx) is first  # the same day: remembered
    later = Ctx(eng.cfg, SessionState.new("insurance", T0), T0 + timedelta(days=400))
    assert insurance_question(later) == _insurance_question(later)  # another day: its own


def test_the_key_cache_folds_as_before() -> None:
    from bot.dialog.slots import key

    for text in ["ＡＢＣ 电工", "不清楚。", "第２个", "", "  是的！ "]:
        assert key(text) == name_key(text)
        assert key(text) == name_key(text)  # from the cache
