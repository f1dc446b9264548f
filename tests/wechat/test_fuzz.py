"""Hypothesis against POST /wechat over real HTTP: whatever comes in, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from auxil.live import LiveServer
from auxil.memstore import MemoryStore
from auxil.services import EchoService, Instrumented
from auxil.wechat_double import APPID
from auxil.wechat_wire import SafeModeWire, plain_params, random_aes_key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.rules.ruleset import Ruleset
from bot.server.app import build_app

FIELDS = [
    "ToUserName",
    "FromUserName",
    "CreateTime",
    "MsgType",
    "Content",
    "MsgId",
    "Event",
    "EventKey",
    "Encrypt",
    "PicUrl",
    "xml",
]
TYPES = ["text", "event", "image", "voice", "", "TEXT", "video", "link", "location", "<x/>"]
EVENTS = ["subscribe", "unsubscribe", "CLICK", "VIEW", "", "scan"]

header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(
    str.strip
)
any_text = st.text(max_size=60)


@st.composite
def xmlish(draw: st.DrawFn) -> bytes:
    """Bodies close enough to WeChat's XML to get past the parser sometimes."""
    parts = []
    for _ in range(draw(st.integers(0, 8))):
        name = draw(st.sampled_from(FIELDS) | st.text("abcXYZ_", min_size=1, max_size=6))
        value = draw(st.sampled_from(TYPES + EVENTS) | any_text | st.integers().map(str))
        wrap = draw(st.sampled_from(["{}", "<![CDATA[{}]]>", "<a>{}</a>", "{}&amp;", "&{};"]))
        parts.append(f"<{name}>{wrap.format(value)}</{name}>")
    root = draw(st.sampled_from(["xml", "xml", "XML", "msg"]))
    text = f"<{root}>{''.join(parts)}</{root}>"
    cut = draw(st.integers(0, len(text)))
    return (text if draw(st.booleans()) else text[:cut]).encode("utf-8")


@pytest.fixture(scope="module")
def server(rules: Ruleset, matcher: Any) -> Iterator[tuple[httpx.Client, SafeModeWire]]:
    key = random_aes_key()
    env = {
        "JIFEN_WECHAT_TOKEN": "fuzzToken",
        "JIFEN_WECHAT_APPID": APPID,
        "JIFEN_WECHAT_AES_KEY": key,
    }
    app = build_app(
        env,
        store=MemoryStore(),
        service=Instrumented(EchoService()),
        rules=rules,
        matcher=matcher,
        registry=("bot.channels.wechat.mount:from_env",),
    )
    live = LiveServer(app)
    live.start()
    with httpx.Client(base_url=live.url) as client:
        yield client, SafeModeWire(key, APPID, token="fuzzToken")
    live.stop()


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(
    body=st.binary(max_size=2000),
    params=st.dictionaries(
        st.sampled_from(
            ["signature", "timestamp", "nonce", "encrypt_type", "msg_signature", "echostr", "x"]
        ),
        any_text,
    ),
    headers=st.dictionaries(
        st.sampled_from(["content-type", "x-forwarded-for", "user-agent", "accept", "x-y"]),
        header_text,
    ),
)
def test_unsigned_anything(
    server: tuple[httpx.Client, SafeModeWire],
    body: bytes,
    params: dict[str, str],
    headers: dict[str, str],
) -> None:
    client, _ = server
    r = client.post("/wechat", params=params, content=body, headers=headers)
    assert r.status_code < 500
    r = client.get("/wechat", params=params, headers=headers)
    assert r.status_code < 500


@FUZZ
@given(body=xmlish() | st.binary(max_size=500))
def test_signed_plain_bodies(server: tuple[httpx.Client, SafeModeWire], body: bytes) -> None:
    client, _ = server
    r = client.post("/wechat", params=plain_params(token="fuzzToken"), content=body)
    assert r.status_code < 500
    assert "Traceback" not in r.text


@FUZZ
@given(
    inner=xmlish(),
    appid=st.sampled_from([APPID, APPID, "wxother", ""]),
    mangle=st.sampled_from(["none", "envelope", "signature"]),
)
def test_signed_safe_mode_bodies(
    server: tuple[httpx.Client, SafeModeWire], inner: bytes, appid: str, mangle: str
) -> None:
    client, wire = server
    params, body = wire.request(inner.decode("utf-8"), appid=appid or None)
    if mangle == "envelope":
        body = body[: len(body) // 2]
    elif mangle == "signature":
        params["msg_signature"] = params["msg_signature"][::-1]
    r = client.post("/wechat", params=params, content=body)
    assert r.status_code < 500
