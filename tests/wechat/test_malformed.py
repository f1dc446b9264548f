"""Malformed deliveries: 4xx (or success), one log line with the reason, never a 5xx."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from auxil.wechat_double import WeChatDouble
from auxil.wechat_wire import ACCOUNT, SafeModeWire, plain_params

from .conftest import Running

HEAD = f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>oBad</FromUserName>"

CASES = {
    "not xml": b"this is not xml",
    "truncated": HEAD.encode() + b"<CreateTime>1",
    "empty body": b"",
    "root not xml": b"<msg><MsgType>text</MsgType></msg>",
    "missing MsgType": (HEAD + "<CreateTime>1</CreateTime><MsgId>1</MsgId></xml>").encode(),
    "empty MsgType": (HEAD + "<CreateTime>1</CreateTime><MsgType/><MsgId>1</MsgId></xml>").encode(),
    "missing FromUserName": (
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>"
    ).encode(),
    "bad CreateTime": (
        HEAD + "<CreateTime>soon</CreateTime><MsgType>text</MsgType>"
        "<Content>x</Content><MsgId>1</MsgId></xml>"
    ).encode(),
    "text without MsgId": (
        HEAD + "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>"
    ).encode(),
    "event without Event": (
        HEAD + "<CreateTime>1</CreateTime><MsgType>event</MsgType></xml>"
    ).encode(),
    "nested field": (
        HEAD + "<CreateTime>1</CreateTime><MsgType><a>text</a></MsgType><MsgId>1</MsgId></xml>"
    ).encode(),
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;">]><xml><Content>&b;</Content></xml>',
    "external entity": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
    b'"file:///etc/passwd">]><xml><Content>&e;</Content></xml>',
    "not utf-8": b"<xml><Content>\xff\xfe</Content></xml>",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_plain_body_is_refused_with_a_logged_reason(
    name: str,
    start: Callable[..., Running],
    env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = start(env)
    with caplog.at_level(logging.INFO, logger="bot.channels.wechat"):
        r = app.post(plain_params(), CASES[name])
    assert 400 <= r.status_code < 500 or r.text == "success"
    assert "Traceback" not in r.text
    refusals = [rec for rec in caplog.records if "refused" in rec.getMessage()]
    assert refusals, "the refusal is logged"
    assert all(rec.exc_info is None for rec in caplog.records)
    assert app.service.calls == []


@pytest.mark.parametrize("name", ["not xml", "missing MsgType", "empty MsgType", "root not xml"])
def test_malformed_inner_xml_in_safe_mode(
    name: str, start: Callable[..., Running], env: dict[str, str], wire: SafeModeWire
) -> None:
    app = start(env)
    params, body = wire.request(CASES[name].decode("utf-8", "replace"))
    r = app.post(params, body)
    assert 400 <= r.status_code < 500
    assert app.service.calls == []


def test_safe_mode_envelope_problems(
    start: Callable[..., Running], env: dict[str, str], wire: SafeModeWire
) -> None:
    app = start(env)
    params, _ = wire.request("<xml/>")
    for body in (
        b"<xml><ToUserName>x</ToUserName></xml>",  # no Encrypt
        b"<xml><Encrypt>!!!not base64!!!</Encrypt></xml>",
        b"<xml><Encrypt>QUJD</Encrypt></xml>",
    ):
        assert 400 <= app.post(params, body).status_code < 500
    params.pop("msg_signature")
    assert app.post(params, b"<xml><Encrypt>QUJD</Encrypt></xml>").status_code == 400
    params["encrypt_type"] = "rot13"
    assert app.post(params, b"<xml/>").status_code == 400


def test_body_over_64_kb_is_refused_before_parsing(
    start: Callable[..., Running], env: dict[str, str]
) -> None:
    app = start(env)
    big = b"<xml><Content>" + b"a" * (64 * 1024) + b"</Content></xml>"
    assert app.post(plain_params(), big).status_code == 413

    def chunks() -> object:  # no Content-Length: the streamed size is checked too
        for _ in range(80):
            yield b"a" * 1024

    assert app.post(plain_params(), chunks()).status_code == 413  # type: ignore[arg-type]


def test_secrets_and_openids_never_reach_the_log(
    start: Callable[..., Running],
    env: dict[str, str],
    wire: SafeModeWire,
    double: WeChatDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from auxil.wechat_wire import text_xml

    app = start(env | {"JIFEN_WECHAT_BUDGET": "0.2"})
    app.service.hold()
    with caplog.at_level(logging.DEBUG):
        params, body = wire.request(text_xml("oSecretOpenid123", "你好", 9901))
        assert app.post(params, body).text == "success"
        app.service.release()
        assert double.wait_for_sent(1)  # the token fetch and the send happened meanwhile
        params["signature"] = "0" * 40
        app.post(params, body)
    text = "\n".join(rec.getMessage() for rec in caplog.records)
    for secret in (
        env["JIFEN_WECHAT_SECRET"],
        env["JIFEN_WECHAT_AES_KEY"],
        env["JIFEN_WECHAT_TOKEN"],
        "oSecretOpenid123",
    ):
        assert secret not in text
