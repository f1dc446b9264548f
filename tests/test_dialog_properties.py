"""Whatever users send, in whatever state, the engine answers and never raises."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.dialog.engine import DialogEngine
from bot.dialog.flow import load_flow
from bot.dialog.messages import Incoming
from bot.dialog.state import SessionState
from bot.rules.matcher import Matcher
from bot.rules.ruleset import default_ruleset

RULES = default_ruleset()
MATCHER = Matcher(RULES)
ENGINE = DialogEngine(rules=RULES, matcher=MATCHER)
PAUSING = DialogEngine(
    rules=RULES,
    matcher=MATCHER,
    flow=replace(load_flow(), session=replace(load_flow().session, handoff_pauses_bot=True)),
)
START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

# Words that move the conversation, so that random walks reach every state.
MEANINGFUL = [
    "一建", "电工", "技师", "讲师", "建造师", "高级工程师", "二建", "育婴员", "驾驶证", "会计",
    "焊工二级", "学徒工", "是", "否", "不清楚", "对的", "没有", "1", "2", "3", "4", "6", "9",
    "12", "15000", "1.2万", "八个月", "重新开始", "返回", "上一步", "帮助", "人工", "转人工",
    "取消人工", "/human", "都不是", "再查一个", "不用了", "谢谢", "你好", "[表情]", "👍", "",
    "   ", "x" * 600,
]  # fmt: skip
message = st.one_of(
    st.sampled_from(MEANINGFUL),
    st.text(max_size=30),
    st.text(alphabet="是否不清楚一二三级工师电焊建造人工返回0123456789元万个月", max_size=8),
)
gap = st.sampled_from([0.1, 1, 5, 29, 31, 120])  # minutes, sometimes past the idle time
kind = st.sampled_from(["text", "text", "text", "text", "sticker", "media"])
conversation = st.lists(st.tuples(message, gap, kind), min_size=1, max_size=25)


def _walk(engine: DialogEngine, steps: list[tuple[str, float, str]]) -> None:
    state: SessionState | None = None
    now = START
    for text, minutes, sort in steps:
        now += timedelta(minutes=minutes)
        turn = engine.handle(state, Incoming(text, sort), now)  # type: ignore[arg-type]
        state = turn.state
        silent_ok = state.mode == "handoff"
        assert turn.replies or silent_ok, f"no reply to {text!r} in {state.step}"
        assert all(r.text.strip() for r in turn.replies)
        # The state survives the store: JSON and back, unchanged.
        data = json.loads(json.dumps(state.to_dict(), ensure_ascii=False))
        assert SessionState.from_dict(data) == state
        assert engine.flow.states[state.step].kind == "ask"
        if turn.replies and state.mode == "bot":
            assert state.offered == list(turn.replies[-1].choices)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversation)
def test_any_conversation_gets_answers(steps: list[tuple[str, float, str]]) -> None:
    _walk(ENGINE, steps)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversation)
def test_any_conversation_with_staff_handoff(steps: list[tuple[str, float, str]]) -> None:
    _walk(PAUSING, steps)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.sampled_from(sorted(ENGINE.flow.states)))
def test_any_message_in_any_question(text: str, step: str) -> None:
    """Drop the user into each question with a plausible certificate, then say anything."""
    if ENGINE.flow.states[step].kind != "ask":
        return
    state = SessionState.new(step, START)
    state.cert.entry_id = "skill.welder" if step == "grade" else "qual.constructor-1"
    if step == "occupation":
        state.cert.entry_id, state.cert.grade = "skill.level.2", "level-2"
    if step == "choose":
        state.cert.candidates = ["qual.constructor-1", "qual.constructor-2"]
    if step in ("condition", "insurance"):
        state.cert.pending = "social_insurance_base" if step == "insurance" else "appointment"
    turn = ENGINE.handle(state, Incoming(text), START + timedelta(minutes=1))
    assert turn.replies
