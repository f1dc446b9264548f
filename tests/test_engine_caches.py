"""What the engine no longer recomputes on every message (issue 5) gives the same answers."""

from __future__ import annotations

import json
import sys
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from auxil.conversation import engine
from auxil.match_catalogue import ENTRIES, E, fake_ruleset

from bot.dialog.context import Ctx
from bot.dialog.facts import _insurance_question, insurance_question
from bot.dialog.messages import Incoming
from bot.dialog.state import SessionState, StateError
from bot.rules.catalogue import name_key
from bot.rules.matcher import Matcher

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


# Issue 6: the state codec and the turn, made faster ------------------------------------------


def _saved_after(walk: list[str]) -> dict[str, Any]:
    eng, saved = engine(), None
    for n, text in enumerate(walk):
        state = None if saved is None else SessionState.from_dict(saved)
        saved = eng.handle(state, Incoming(text), T0 + timedelta(seconds=n)).state.to_dict()
    assert saved is not None
    return json.loads(json.dumps(saved, ensure_ascii=False))


@pytest.mark.parametrize(
    "damage",
    [
        {"version": 7},
        {"step": 3},
        {"cert": "x"},
        {"cert": {"grade": "level-9"}},
        {"cert": {"answers": {"post_match": ["yes"]}}},
        {"offered": [["是", 1]]},
    ],
)
def test_back_over_a_damaged_snapshot_starts_afresh_like_a_damaged_state(
    damage: dict[str, Any],
) -> None:
    """Snapshots are read only when 返回 restores one: the state loads, and the user then gets
    what any state the engine cannot use gives, a fresh start."""
    eng = engine()
    saved = _saved_after(["一建", "1"])
    assert saved["history"], "the answer was kept for 返回"
    snapshot = saved["history"][-1]
    for part, value in damage.items():
        snapshot[part] = {**snapshot[part], **value} if isinstance(value, dict) else value
    state = SessionState.from_dict(saved)  # loads: the snapshot is not read yet
    turn = eng.handle(state, Incoming("返回"), T0 + timedelta(minutes=1))
    assert [r.text for r in turn.replies] == [
        eng.texts("command.restart"),
        eng.texts("ask.certificate"),
    ]
    assert [(e.kind, e.data) for e in turn.events] == [("restarted", {"reason": "damaged_state"})]
    assert (turn.state.step, turn.state.history) == ("certificate", [])


def test_back_over_a_sound_snapshot_still_goes_back() -> None:
    eng = engine()
    saved = _saved_after(["一建", "1"])
    turn = eng.handle(SessionState.from_dict(saved), Incoming("返回"), T0 + timedelta(minutes=1))
    assert turn.replies[0].text == eng.texts("command.undo")
    assert turn.state.cert.answers == {}
    assert len(turn.state.history) == len(saved["history"]) - 1


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-20T02:00:00.123456+00:00",
        "2026-11-20T10:00:00+08:00",
        "2026-11-20T02:00:00-05:30",
        # Read, but not what formatting gives: written back as formatting gives it, as before.
        "2026-11-20T02:00:00Z",
        "2026-11-20T02:00:00",
        "2026-11-20T02:00:00.000000+00:00",
        "2026-11-20T02:00:00-00:00",
        "2026-11-20 02:00:00+00:00",
        "2026-11-20T02:00:00.123+00:00",
        "20261120T020000+0000",
        "2026-W47-5T02:00:00+00:00",
    ],
)
def test_a_time_is_written_back_as_formatting_the_time_read_gives_it(text: str) -> None:
    data = SessionState.new("certificate", T0).to_dict()
    data["started_at"] = data["updated_at"] = text
    state = SessionState.from_dict(data)
    read = datetime.fromisoformat(text)
    expected = (read if read.tzinfo else read.replace(tzinfo=UTC)).isoformat()
    for written in (state.to_dict(), state.snapshot(), state.copy().to_dict()):
        assert (written["started_at"], written["updated_at"]) == (expected, expected)


def test_a_time_changed_after_reading_is_written_as_changed() -> None:
    state = SessionState.from_dict(SessionState.new("certificate", T0).to_dict())
    later = T0 + timedelta(hours=1)
    state.updated_at = later
    assert state.to_dict()["updated_at"] == later.isoformat()
    assert state.to_dict()["started_at"] == T0.isoformat()
    state.started_at = later.astimezone(timezone(timedelta(hours=8)))  # an equal time
    assert state.to_dict()["started_at"] == "2026-11-20T11:00:00+08:00"


def test_every_character_isalnum_accepts_is_a_letter_or_a_number() -> None:
    """What the quick path of bot.dialog.guard.problem relies on."""
    odd = [
        c
        for c in map(chr, range(sys.maxunicode + 1))
        if c.isalnum() and unicodedata.category(c)[0] not in "LN"
    ]
    assert odd == []


def test_remembered_matches_are_each_matchers_own() -> None:
    twin = E("editor-pub", "编辑", "title", "intermediate", shared=("编辑",))
    alone, shared = Matcher(fake_ruleset()), Matcher(fake_ruleset((*ENTRIES, twin)))
    first = alone.match("编辑")
    assert shared.match("编辑").outcome == "choose"
    assert alone.match("编辑") == first
    assert first.outcome == "match"
    assert alone.match(" 编辑 ").query == " 编辑 "  # each text keeps its own wording
