"""The real conversation (dialog engine + service + SQLite store) behind WeChat's protocol."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from auxil.wechat_double import WeChatDouble
from auxil.wechat_wire import SafeModeWire, event_xml, plain_params, reply_fields, text_xml

from bot.rules.ruleset import Ruleset
from bot.service import build_service
from bot.store.base import UserKey
from bot.store.sqlite import SqliteStore

from .conftest import Running


@pytest.fixture
def real(tmp_path: Path, rules: Ruleset, matcher: Any) -> Callable[[], tuple[Any, SqliteStore]]:
    """A fresh (service, store) pair on one SQLite file; call again for a second "worker"."""
    path = tmp_path / "bot.sqlite3"

    def make() -> tuple[Any, SqliteStore]:
        store = SqliteStore(path)
        return build_service(store, rules=rules, matcher=matcher), store

    return make


def _content(r: httpx.Response, wire: SafeModeWire | None = None) -> str:
    assert r.status_code == 200, r.text
    xml = wire.open_reply(r.content) if wire else r.content
    return str(reply_fields(xml)["Content"])


async def _user_lines(store: SqliteStore, user: str) -> list[str]:
    lines = await store.transcript(UserKey("wechat", user))
    return [line.text for line in lines if line.sender == "user"]


def test_plain_conversation_from_follow_to_first_question(
    start: Callable[..., Running], env: dict[str, str], real: Callable[[], Any]
) -> None:
    service, store = real()
    app = start(env, service=service, store=store)
    greeting = _content(app.post(plain_params(), event_xml("oReal1", "subscribe")))
    assert greeting.startswith("你好！我是上海居住证积分小助手。")
    answer = _content(app.post(plain_params(), text_xml("oReal1", "一建", 1)))
    assert "一级建造师" in answer
    assert "\n1. 是\n2. 否\n3. 不清楚" in answer
    nxt = _content(app.post(plain_params(), text_xml("oReal1", "1", 2)))
    assert nxt != answer
    assert "\n1. 是" in nxt
    helped = _content(
        app.post(plain_params(), event_xml("oReal1", "CLICK", "help", create_time=1_700_000_001))
    )
    assert "重新开始" in helped


def test_safe_mode_conversation_with_the_real_dialog(
    start: Callable[..., Running],
    env: dict[str, str],
    wire: SafeModeWire,
    real: Callable[[], Any],
) -> None:
    service, store = real()
    app = start(env, service=service, store=store)
    params, body = wire.request(text_xml("oReal2", "一级建造师", 10))
    answer = _content(app.post(params, body), wire)
    assert "一级建造师" in answer
    assert "1. 是" in answer
    params, body = wire.request(text_xml("oReal2", "重新开始", 11))
    assert "重新开始" in _content(app.post(params, body), wire)


async def _three_at_once(urls: list[str], params: dict[str, str], body: bytes) -> list[bytes]:
    async with httpx.AsyncClient(timeout=10) as client:
        sends = [client.post(u + "/wechat", params=params, content=body) for u in urls]
        responses = await asyncio.gather(*sends)
    assert all(r.status_code == 200 for r in responses)
    return [r.content for r in responses]


async def test_three_deliveries_at_once_advance_the_real_conversation_once(
    start: Callable[..., Running],
    env: dict[str, str],
    wire: SafeModeWire,
    real: Callable[[], Any],
) -> None:
    service, store = real()
    app = start(env, service=service, store=store)
    params, body = wire.request(text_xml("oReal3", "一建", 20))
    bodies = await _three_at_once([app.url] * 3, params, body)
    answers = {reply_fields(wire.open_reply(b))["Content"] for b in bodies}
    assert len(answers) == 1
    assert "一级建造师" in answers.pop()
    assert await _user_lines(store, "oReal3") == ["一建"]


async def test_a_retry_at_another_worker_gets_the_first_answer(
    start: Callable[..., Running],
    env: dict[str, str],
    real: Callable[[], Any],
) -> None:
    service_a, store_a = real()
    service_b, store_b = real()  # a second worker: own process state, same database
    a = start(env, service=service_a, store=store_a)
    b = start(env, service=service_b, store=store_b)
    a.service.hold()
    b.service.hold()
    xml = text_xml("oReal4", "一建", 30)
    task = asyncio.create_task(_three_at_once([a.url, b.url, b.url], plain_params(), xml.encode()))
    await asyncio.sleep(0.5)
    a.service.release()
    b.service.release()
    bodies = await task
    assert len({reply_fields(x)["Content"] for x in bodies}) == 1
    # On SQLite each worker's first delivery reaches the service; whichever gets the user's
    # lock second finds the turn recorded with the message id and replays its replies, so the
    # conversation moved on once (a second turn would have written a second user line).
    assert len(a.service.calls) == len(b.service.calls) == 1
    assert await _user_lines(store_a, "oReal4") == ["一建"]
    state = await store_a.load_session(UserKey("wechat", "oReal4"))
    assert state is not None
    assert [entry[0] for entry in state["_once"]] == ["30"]


async def test_a_retry_is_answered_by_another_worker_while_the_first_is_stuck(
    start: Callable[..., Running],
    env: dict[str, str],
    real: Callable[[], Any],
) -> None:
    """The first worker hangs mid-answer (as one about to be killed does): on SQLite nothing it
    holds (no claim row, no lock row) keeps the retry on the other worker from answering."""
    service_a, store_a = real()
    service_b, store_b = real()
    a = start(env, service=service_a, store=store_a)
    b = start(env, service=service_b, store=store_b)
    a.service.hold()
    xml = text_xml("oReal5", "一建", 40).encode()
    async with httpx.AsyncClient(timeout=10) as client:
        first = asyncio.create_task(
            client.post(a.url + "/wechat", params=plain_params(), content=xml)
        )
        await asyncio.sleep(0.3)
        retry = await client.post(b.url + "/wechat", params=plain_params(), content=xml)
        assert "一级建造师" in reply_fields(retry.content)["Content"]
        a.service.release()  # the first worker comes back after all: it replays, no second turn
        late = await first
    assert reply_fields(late.content)["Content"] == reply_fields(retry.content)["Content"]
    assert await _user_lines(store_a, "oReal5") == ["一建"]


def test_late_real_answer_reaches_the_customer_service_api(
    start: Callable[..., Running],
    env: dict[str, str],
    double: WeChatDouble,
    real: Callable[[], Any],
) -> None:
    service, store = real()
    app = start(env | {"JIFEN_WECHAT_BUDGET": "0.3"}, service=service, store=store)
    app.service.hold()
    assert app.post(plain_params(), text_xml("oReal5", "一建", 40)).text == "success"
    app.service.release()
    sent = double.wait_for_sent(1)
    assert sent[0].touser == "oReal5"
    assert "一级建造师" in sent[0].content
    assert sent[0].token == double.current_token


async def test_unsubscribe_erases_the_user(
    start: Callable[..., Running],
    env: dict[str, str],
    real: Callable[[], Any],
) -> None:
    service, store = real()
    app = start(env, service=service, store=store)
    app.post(plain_params(), text_xml("oReal6", "一建", 50))
    assert await _user_lines(store, "oReal6") == ["一建"]
    assert app.post(plain_params(), event_xml("oReal6", "unsubscribe")).text == "success"
    assert await _user_lines(store, "oReal6") == []
    assert await store.load_session(UserKey("wechat", "oReal6")) is None
