"""The wire protocol over real HTTP: verification, plain and safe mode, refusals."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from auxil.wechat_double import APPID
from auxil.wechat_wire import (
    ACCOUNT,
    TOKEN,
    SafeModeWire,
    plain_params,
    random_aes_key,
    reply_fields,
    sha1_sign,
    text_xml,
)

from .conftest import Running


def test_echostr_is_echoed_when_the_signature_is_right(
    start: Callable[..., Running], env: dict[str, str]
) -> None:
    app = start(env)
    params = plain_params() | {"echostr": "8273645523910"}
    r = httpx.get(app.url + "/wechat", params=params)
    assert r.status_code == 200
    assert r.text == "8273645523910"


def test_echostr_refused_for_a_wrong_signature_or_token(
    start: Callable[..., Running], env: dict[str, str]
) -> None:
    app = start(env)
    forged = plain_params(token="someOtherToken") | {"echostr": "1"}
    r = httpx.get(app.url + "/wechat", params=forged)
    assert r.status_code == 403
    assert "1" not in r.text
    missing = {"echostr": "1", "timestamp": str(int(time.time())), "nonce": "5"}
    assert httpx.get(app.url + "/wechat", params=missing).status_code == 400
    stale = plain_params(timestamp=int(time.time()) - 301) | {"echostr": "1"}
    assert httpx.get(app.url + "/wechat", params=stale).status_code == 403


def test_plain_mode_text_gets_a_passive_text_reply(
    start: Callable[..., Running], env: dict[str, str]
) -> None:
    app = start(env)
    r = app.post(plain_params(), text_xml("oUser-plain-1", "一建", 1001))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")
    fields = reply_fields(r.content)
    assert fields["ToUserName"] == "oUser-plain-1"
    assert fields["FromUserName"] == ACCOUNT
    assert fields["MsgType"] == "text"
    assert abs(int(fields["CreateTime"]) - time.time()) < 5
    # Choices are rendered as numbered lines.
    assert fields["Content"] == "你说：一建（第1轮）\n1. 是\n2. 否"
    assert app.service.calls == [("wechat", "oUser-plain-1", "一建")]


def test_safe_mode_conversation_and_reply_decrypts(
    start: Callable[..., Running], env: dict[str, str], wire: SafeModeWire
) -> None:
    app = start(env)
    for turn, msg_id in ((1, 2001), (2, 2002)):
        params, body = wire.request(text_xml("oUser-safe-1", "是", msg_id))
        r = app.post(params, body)
        assert r.status_code == 200
        inner = wire.open_reply(r.content)
        fields = reply_fields(inner)
        assert fields["ToUserName"] == "oUser-safe-1"
        assert fields["Content"].startswith(f"你说：是（第{turn}轮）")
        # The envelope's nonce is the request's, as WeChat expects.
        assert reply_fields(r.content)["Nonce"] == params["nonce"]


def test_plain_mode_still_accepted_when_safe_mode_is_configured(
    start: Callable[..., Running], env: dict[str, str]
) -> None:
    app = start(env)
    r = app.post(plain_params(), text_xml("oUser-compat", "你好", 3001))
    assert reply_fields(r.content)["Content"].startswith("你说：你好")


def test_safe_mode_refused_when_not_configured(
    start: Callable[..., Running], env: dict[str, str], wire: SafeModeWire
) -> None:
    env = {k: v for k, v in env.items() if k != "JIFEN_WECHAT_AES_KEY"}
    app = start(env)
    params, body = wire.request(text_xml("oUser-x", "你好", 3002))
    assert app.post(params, body).status_code == 400
    assert app.service.calls == []


def test_safe_mode_wrong_appid_forged_msg_signature_and_wrong_key(
    start: Callable[..., Running], env: dict[str, str], wire: SafeModeWire
) -> None:
    app = start(env)
    params, body = wire.request(text_xml("oUser-x", "你好", 4001), appid="wxFFFFFFFFFFFFFFFF")
    assert app.post(params, body).status_code == 403

    params, body = wire.request(text_xml("oUser-x", "你好", 4002))
    params["msg_signature"] = sha1_sign(TOKEN, params["timestamp"], params["nonce"], "other")
    assert app.post(params, body).status_code == 403

    stranger = SafeModeWire(random_aes_key(), APPID)
    params, body = stranger.request(text_xml("oUser-x", "你好", 4003))
    assert app.post(params, body).status_code == 403
    assert app.service.calls == []


def test_forged_signature_and_stale_timestamp_are_refused(
    start: Callable[..., Running], env: dict[str, str]
) -> None:
    app = start(env)
    body = text_xml("oUser-x", "你好", 5001)
    forged = plain_params(token="notTheToken")
    assert app.post(forged, body).status_code == 403
    # 30 s beyond the 300 s window either way: a loaded machine may take a few seconds to
    # answer, which must not carry a "future" stamp back inside the window.
    old = int(time.time()) - 330
    assert app.post(plain_params(timestamp=old), body).status_code == 403
    future = int(time.time()) + 330
    assert app.post(plain_params(timestamp=future), body).status_code == 403
    assert app.post({}, body).status_code == 400
    assert app.service.calls == []


def test_replay_window_is_configurable(start: Callable[..., Running], env: dict[str, str]) -> None:
    app = start(env | {"JIFEN_WECHAT_MAX_SKEW": "3600"})
    old = int(time.time()) - 1800
    r = app.post(plain_params(timestamp=old), text_xml("oUser-w", "你好", 5101))
    assert r.status_code == 200
