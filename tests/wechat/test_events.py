"""Events and messages that are not text."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from auxil.wechat_wire import event_xml, media_xml, plain_params, reply_fields

from bot.channels.texts import load_channel_texts

from .conftest import Running


def test_subscribe_starts_the_dialog(start: Callable[..., Running], env: dict[str, str]) -> None:
    app = start(env)
    r = app.post(plain_params(), event_xml("oFollower", "subscribe"))
    assert reply_fields(r.content)["Content"].startswith("你说：/start")
    assert app.service.calls == [("wechat", "oFollower", "/start")]


def test_unsubscribe_forgets_the_user(start: Callable[..., Running], env: dict[str, str]) -> None:
    app = start(env)
    r = app.post(plain_params(), event_xml("oLeaver", "unsubscribe"))
    assert r.text == "success"
    assert app.service.forgets == [("wechat", "oLeaver")]
    assert app.service.calls == []


@pytest.mark.parametrize(
    ("key", "command"), [("restart", "/restart"), ("human", "/human"), ("help", "/help")]
)
def test_menu_clicks_act_like_commands(
    key: str, command: str, start: Callable[..., Running], env: dict[str, str]
) -> None:
    app = start(env)
    r = app.post(plain_params(), event_xml("oClicker", "CLICK", key))
    assert reply_fields(r.content)["Content"].startswith(f"你说：{command}")
    assert app.service.calls == [("wechat", "oClicker", command)]


def test_other_events_get_success(start: Callable[..., Running], env: dict[str, str]) -> None:
    app = start(env)
    for n, (event, key) in enumerate(
        [("CLICK", "unknown-key"), ("VIEW", "https://x.invalid"), ("SCAN", "1"), ("LOCATION", "")]
    ):
        r = app.post(plain_params(), event_xml("oOther", event, key, create_time=1_700_000_000 + n))
        assert r.status_code == 200
        assert r.text == "success"
    assert app.service.calls == []


def test_a_repeated_event_is_handled_once(
    start: Callable[..., Running], env: dict[str, str]
) -> None:
    app = start(env)
    xml = event_xml("oTwice", "subscribe", create_time=1_700_000_123)
    first = app.post(plain_params(), xml)
    again = app.post(plain_params(), xml)
    assert first.content == again.content or (
        reply_fields(first.content)["Content"] == reply_fields(again.content)["Content"]
    )
    assert len(app.service.calls) == 1


@pytest.mark.parametrize("kind", ["image", "voice", "video", "location", "link"])
def test_media_gets_a_polite_request_for_text(
    kind: str, start: Callable[..., Running], env: dict[str, str]
) -> None:
    app = start(env)
    r = app.post(plain_params(), media_xml("oMedia", kind, 8000 + len(kind)))
    expected = load_channel_texts(["wechat.media"])["wechat.media"]
    assert reply_fields(r.content)["Content"] == expected
    assert "文字" in expected
    assert app.service.calls == []
