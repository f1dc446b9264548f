"""bot/logs.py: JSON lines with a request id, keyed pseudonyms, and no personal data in clear."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auxil.conversation import engine

from bot import logs
from bot.errors import ConfigError
from bot.service import Service
from bot.store.sqlite import SqliteStore

OPENID = "oQ3x9-AbCdEfGhIjKlMnOpQrStUv"  # the shape of a real openid: 28 characters


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every record of the `bot` loggers, formatted by JsonFormatter, at debug level."""
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger("bot")
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield sink
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def lines(sink: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in sink.getvalue().splitlines()]


def test_one_json_object_a_line_with_request_id_and_pid(captured: io.StringIO) -> None:
    log = logging.getLogger("bot.test")
    log.info("outside")
    token = logs.REQUEST_ID.set("abc-1")
    try:
        log.warning("inside %s", "a request")
    finally:
        logs.REQUEST_ID.reset(token)
    first, second = lines(captured)
    assert first["rid"] == "-"
    assert second == second | {"level": "warning", "msg": "inside a request", "rid": "abc-1"}
    assert {"ts", "logger", "pid"} <= set(second)


def test_pseudonyms_are_keyed_stable_and_short() -> None:
    logs.set_key("key-one")
    a = logs.pseudonym("wechat", OPENID)
    assert a == logs.pseudonym("wechat", OPENID)
    assert a.startswith("wechat:")
    assert len(a) == len("wechat:") + 12
    assert OPENID not in a
    assert logs.pseudonym("telegram", 42) == logs.pseudonym("telegram", "42")
    logs.set_key("key-two")
    assert logs.pseudonym("wechat", OPENID) != a  # without the key, no dictionary attack
    logs.set_key(None)


def test_scrub_masks_tokens_and_openids() -> None:
    line = (
        f"GET /cgi-bin/message/custom/send?access_token=SECRETTOKEN&x=1 for {OPENID}, "
        "bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0 failed"
    )
    clean = logs.scrub(line)
    assert "SECRETTOKEN" not in clean
    assert "access_token=***" in clean
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0" not in clean
    assert OPENID not in clean
    assert logs.pseudonym("wechat", OPENID) in clean


def test_a_message_scope_scrubs_the_user_and_their_figures() -> None:
    with logs.message_scope("telegram", "987654321", "我的基数是23456"):
        assert logs.REQUEST_ID.get() != "-"  # a message outside HTTP gets its own id
        clean = logs.scrub("chat 987654321 said 我的基数是23456; parsed 23456 as a base")
    assert "987654321" not in clean
    assert "23456" not in clean
    assert logs.pseudonym("telegram", "987654321") in clean
    assert logs.REQUEST_ID.get() == "-"


def test_drop_query_keeps_the_openid_out_of_access_lines() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "POST", f"/wechat?signature=s&openid={OPENID}", "1.1", 200), None,
    )  # fmt: skip
    logs.DropQuery().filter(record)
    assert record.getMessage() == '1.2.3.4:5 - "POST /wechat HTTP/1.1" 200'


def test_settings() -> None:
    assert logs.settings({}) == ("info", "json")
    assert logs.settings({"JIFEN_LOG_LEVEL": "DEBUG", "JIFEN_LOG_FORMAT": "text"}) == (
        "debug",
        "text",
    )
    assert logs.settings({"JIFEN_LOG_LEVEL": "debug"}, "warning")[0] == "warning"
    with pytest.raises(ConfigError, match="JIFEN_LOG_LEVEL"):
        logs.settings({"JIFEN_LOG_LEVEL": "loud"})
    with pytest.raises(ConfigError, match="JIFEN_LOG_FORMAT"):
        logs.settings({"JIFEN_LOG_FORMAT": "xml"})


def test_text_format_has_the_request_id() -> None:
    record = logging.LogRecord("bot.x", logging.INFO, "", 0, "hello %s", (OPENID,), None)
    out = logs.TextFormatter().format(record)
    assert "[-]: hello wechat:" in out
    assert OPENID not in out


async def test_a_failing_conversation_logs_neither_id_nor_salary(
    tmp_path: Path, captured: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug whose exception quotes the user's words: the trace is logged, scrubbed."""
    store = SqliteStore(tmp_path / "s.db")
    await store.open()
    try:
        service = Service(store, engine())
        await service.handle("wechat", OPENID, "一建")

        def broken(*args: object) -> None:
            raise ValueError(f"cannot read base 23456 of {OPENID} in '基数23456'")

        monkeypatch.setattr(service.engine, "handle", broken)
        await service.handle("wechat", OPENID, "基数23456")
    finally:
        await store.close()
    text = captured.getvalue()
    assert "could not be handled" in text
    assert "ValueError" in text
    assert OPENID not in text
    assert "23456" not in text
