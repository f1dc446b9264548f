"""Retries, the 4-second budget, the customer-service API and long replies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from auxil.wechat_double import WeChatDouble
from auxil.wechat_wire import SafeModeWire, plain_params, reply_fields, text_xml

from .conftest import Running


async def test_three_identical_deliveries_at_once_run_once_and_get_one_answer(
    start: Callable[..., Running], env: dict[str, str], wire: SafeModeWire
) -> None:
    app = start(env)
    app.service.hold()  # keep the first delivery busy so the others arrive meanwhile
    params, body = wire.request(text_xml("oUser-dup", "一建", 7001))
    async with httpx.AsyncClient(base_url=app.url, timeout=10) as client:
        sends = [
            asyncio.create_task(client.post("/wechat", params=params, content=body))
            for _ in range(3)
        ]
        await asyncio.sleep(0.3)
        app.service.release()
        responses = await asyncio.gather(*sends)
    assert [r.status_code for r in responses] == [200, 200, 200]
    contents = {reply_fields(wire.open_reply(r.content))["Content"] for r in responses}
    assert contents == {"你说：一建（第1轮）\n1. 是\n2. 否"}
    assert len(app.service.calls) == 1


def test_a_later_retry_gets_the_first_answer_without_running_again(
    start: Callable[..., Running], env: dict[str, str]
) -> None:
    app = start(env)
    xml = text_xml("oUser-retry", "你好", 7002)
    first = app.post(plain_params(), xml)
    again = app.post(plain_params(), xml)  # a retry is signed afresh by WeChat
    assert reply_fields(first.content)["Content"] == reply_fields(again.content)["Content"]
    assert len(app.service.calls) == 1
    nxt = app.post(plain_params(), text_xml("oUser-retry", "你好", 7003))
    assert "第2轮" in reply_fields(nxt.content)["Content"]


def test_slow_answer_replies_success_then_arrives_by_customer_service_api(
    start: Callable[..., Running], env: dict[str, str], double: WeChatDouble
) -> None:
    app = start(env | {"JIFEN_WECHAT_BUDGET": "0.3"})
    app.service.hold()
    began = time.monotonic()
    r = app.post(plain_params(), text_xml("oUser-slow", "一建", 7101))
    took = time.monotonic() - began
    assert r.status_code == 200
    assert r.text == "success"
    assert 0.25 < took < 3.5  # the configured 0.3 s, not the default 4 s
    assert double.sent == []
    # A retry while the answer is still pending: success again, and no second run.
    assert app.post(plain_params(), text_xml("oUser-slow", "一建", 7101)).text == "success"
    app.service.release()
    sent = double.wait_for_sent(1)
    assert [(s.touser, s.content) for s in sent] == [
        ("oUser-slow", "你说：一建（第1轮）\n1. 是\n2. 否")
    ]
    assert sent[0].token == double.current_token == "TOKEN-1"
    assert "你说".encode() in sent[0].raw  # raw UTF-8 JSON, not \\u escapes
    assert len(app.service.calls) == 1
    # After the late answer a retry still answers success (the answer went out already).
    assert app.post(plain_params(), text_xml("oUser-slow", "一建", 7101)).text == "success"


def test_access_token_is_cached_and_refreshed_once_when_rejected(
    start: Callable[..., Running], env: dict[str, str], double: WeChatDouble
) -> None:
    app = start(env | {"JIFEN_WECHAT_BUDGET": "0.2"})
    for n, msg_id in enumerate((7201, 7202, 7203), start=1):
        app.service.hold()
        assert app.post(plain_params(), text_xml("oUser-tok", "是", msg_id)).text == "success"
        app.service.release()
        double.wait_for_sent(n)
    assert double.tokens_issued == 1
    assert {s.token for s in double.sent} == {"TOKEN-1"}
    double.expire_token()
    app.service.hold()
    assert app.post(plain_params(), text_xml("oUser-tok", "是", 7204)).text == "success"
    app.service.release()
    sent = double.wait_for_sent(4)
    assert double.tokens_issued == 2
    assert sent[-1].token == "TOKEN-2"
    assert [r["errcode"] for r in double.refused] == [40001]


def test_long_reply_is_split_first_part_passive_rest_by_api(
    start: Callable[..., Running], env: dict[str, str], double: WeChatDouble
) -> None:
    app = start(env)
    paragraphs = [f"第{i}段：" + "积分政策说明。" * 40 for i in range(1, 6)]  # ~850 bytes each
    text = "\n\n".join(paragraphs)
    r = app.post(plain_params(), text_xml("oUser-long", "long:" + text, 7301))
    first = reply_fields(r.content)["Content"]
    assert len(first.encode("utf-8")) <= 2048
    sent = double.wait_for_sent(2)
    time.sleep(0.2)  # nothing more should come
    parts = [first] + [s.content for s in double.sent]
    assert all(len(p.encode("utf-8")) <= 2048 for p in parts)
    assert "\n\n".join(parts) == text  # cut at paragraph boundaries, nothing lost
    assert len(parts) == 3
    assert {s.touser for s in sent} == {"oUser-long"}
    assert first == "\n\n".join(paragraphs[:2])  # two whole paragraphs fit in 2048 bytes


def test_failed_customer_service_send_is_logged_not_raised(
    start: Callable[..., Running], env: dict[str, str], double: WeChatDouble
) -> None:
    app = start(env | {"JIFEN_WECHAT_BUDGET": "0.2"})
    double.fail_next_send = 45015  # outside the 48-hour window
    app.service.hold()
    assert app.post(plain_params(), text_xml("oUser-45015", "是", 7401)).text == "success"
    app.service.release()
    deadline = time.monotonic() + 5
    while not double.refused and time.monotonic() < deadline:
        time.sleep(0.02)
    assert double.refused == [{"token": "TOKEN-1", "errcode": 45015}]
    # The server carries on.
    r = app.post(plain_params(), text_xml("oUser-45015", "是", 7402))
    assert "第2轮" in reply_fields(r.content)["Content"]


def test_without_api_credentials_a_late_answer_is_dropped_with_a_log(
    start: Callable[..., Running], env: dict[str, str]
) -> None:
    env = {k: v for k, v in env.items() if k not in ("JIFEN_WECHAT_SECRET",)}
    app = start(env | {"JIFEN_WECHAT_BUDGET": "0.2"})
    app.service.hold()
    assert app.post(plain_params(), text_xml("oUser-noapi", "是", 7501)).text == "success"
    app.service.release()
