"""Without a browser, over real HTTP: the Telegram staff group (announce, reply to relay, a
conflict said in the group) and the apology for a ticket nobody claimed in time."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from auxil.live import LiveServer, serving
from auxil.telegram_double import BotApiDouble, buttons
from auxil.telegram_updates import UpdateFactory, put_back_in_inbox

from .stack import PASSWORDS, add_accounts, staff_app

TG_TOKEN = "123456:TEST-token_abc"
TG_SECRET = "s3cret-Token_for-tests"
USER = 880001
GROUP = -1001234500
_IDS = itertools.count(9000)


def wait_until(check: Callable[[], Any], within: float = 10.0) -> Any:
    deadline = time.monotonic() + within
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)
    return result


@pytest.fixture
def double() -> Iterator[BotApiDouble]:
    api = BotApiDouble(TG_TOKEN)
    with serving(api.asgi()) as server:
        api.url = server.url
        yield api


@pytest.fixture
def start(
    tmp_path: Path, rules: Any, matcher: Any, double: BotApiDouble
) -> Iterator[Callable[..., str]]:
    servers: list[LiveServer] = []

    def _start(**extra: str) -> str:
        path = tmp_path / "bot.sqlite3"
        add_accounts(path)
        env = {
            "JIFEN_TELEGRAM_TOKEN": TG_TOKEN,
            "JIFEN_TELEGRAM_SECRET": TG_SECRET,
            "JIFEN_TELEGRAM_API_BASE": double.api_base,
            **extra,
        }
        live = LiveServer(staff_app(path, env, rules, matcher))
        live.start()
        servers.append(live)
        return live.url

    yield _start
    for live in servers:
        live.stop()


def deliver(url: str, update: dict[str, Any]) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    assert httpx.post(url + "/telegram", json=update, headers=headers).status_code == 200


def group_reply(announcement: dict[str, Any], text: str, username: str) -> dict[str, Any]:
    message = {
        "message_id": next(_IDS),
        "date": int(time.time()),
        "chat": {"id": GROUP, "type": "supergroup", "title": "积分客服组"},
        "from": {"id": 4242, "is_bot": False, "first_name": "小李", "username": username},
        "text": text,
        "reply_to_message": announcement,
    }
    return {"update_id": next(_IDS), "message": message}


def test_staff_group_announces_and_relays_replies(
    start: Callable[..., str], double: BotApiDouble
) -> None:
    url = start(JIFEN_TELEGRAM_STAFF_CHAT=str(GROUP))
    updates = UpdateFactory()
    deliver(url, updates.text(USER, "一建"))
    deliver(url, updates.text(USER, "人工"))
    [announced] = wait_until(lambda: double.sent(GROUP))
    text = announced.params["text"]
    assert "工单 #1" in text
    assert "一级建造师" in text
    assert "用户要求人工" in text
    deliver(url, group_reply(announced.result, "您好，我来帮您看", "xiaoli"))
    wait_until(lambda: "【人工客服】您好，我来帮您看" in double.texts(USER))

    # The ticket is now claimed by the group member: a console user gets 409, and a reply
    # from the console's side after that is refused in the group with a plain notice.
    with httpx.Client(base_url=url) as amy:
        r = amy.post("/staff/api/login", json={"username": "amy", "password": PASSWORDS["amy"]})
        csrf = r.json()["csrf"]
        claim = amy.post("/staff/api/handoffs/1/claim", headers={"X-CSRF-Token": csrf})
        assert claim.status_code == 409
        assert claim.json()["claimed_by"] == "tg:@xiaoli"
    deliver(url, group_reply(announced.result, "我也来", "xiaowang"))
    wait_until(lambda: any("已由 tg:@xiaoli 认领" in t for t in double.texts(GROUP)))
    assert "【人工客服】我也来" not in double.texts(USER)


def test_unclaimed_ticket_apologises_once_and_waiting_is_a_button(
    start: Callable[..., str], double: BotApiDouble
) -> None:
    url = start(JIFEN_HANDOFF_TIMEOUT="0.5s")
    updates = UpdateFactory()
    deliver(url, updates.text(USER, "人工"))
    wait_until(lambda: any("抱歉，同事们暂时都在忙" in t for t in double.texts(USER)))
    message = double.last_message(USER)
    labels = [label for label, _ in buttons(message)]
    assert labels == ["继续等待", "取消人工"]
    time.sleep(1.2)  # more watcher rounds: still one apology
    assert sum("抱歉，同事们" in t for t in double.texts(USER)) == 1
    deliver(url, updates.press(message, buttons(message)[0][1]))
    wait_until(lambda: any("继续为你等待" in t for t in double.texts(USER)))
    deliver(url, updates.text(USER, "取消人工"))
    wait_until(lambda: any("回到机器人继续" in t for t in double.texts(USER)))


def test_a_group_reply_processed_again_is_relayed_once(
    start: Callable[..., str],
    double: BotApiDouble,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.channels.telegram import inbox

    monkeypatch.setattr(inbox, "EVERY", 0.05)  # before the app starts its inbox
    url = start(JIFEN_TELEGRAM_STAFF_CHAT=str(GROUP))
    updates = UpdateFactory()
    deliver(url, updates.text(USER, "人工"))
    [announced] = wait_until(lambda: double.sent(GROUP))
    reply = group_reply(announced.result, "您好，我来帮您看", "xiaoli")
    deliver(url, reply)
    relayed = "【人工客服】您好，我来帮您看"
    wait_until(lambda: relayed in double.texts(USER))
    # Its worker died after relaying, before the update left the inbox: another worker finds
    # it due and processes it again.
    put_back_in_inbox(tmp_path / "bot.sqlite3", reply)
    wait_until(lambda: _inbox_empty(tmp_path / "bot.sqlite3"))
    time.sleep(0.3)
    assert double.texts(USER).count(relayed) == 1
    assert double.sent(GROUP) == [announced]  # and no notice in the group either


def _inbox_empty(path: Path) -> bool:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM inbox").fetchone()[0] == 0
