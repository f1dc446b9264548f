"""Over real HTTP, with WeChat's API on a double: the bot's own customer-service messages (an
answer too late for the passive reply) take from the same quota of 5 per user message as
staff replies, and the console shows what is really left."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from auxil.live import LiveServer
from auxil.wechat_double import APPID, SECRET, WeChatDouble
from auxil.wechat_wire import TOKEN, plain_params, text_xml

from bot.server.app import build_app
from bot.service import build_service
from bot.store.sqlite import SqliteStore

from .stack import PASSWORDS, add_accounts
from .stack import SECRET as STAFF_SECRET

API = "/staff/api"
USER = "oQuotaUser1"


class Held:
    """The real service, except that while `gate` is clear messages wait for it to be set:
    the slow step, injected where the channel calls the conversation."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.gate.set()

    def __getattr__(self, name: str) -> Any:  # attach_handoff, engine, forget, ...
        return getattr(self.inner, name)

    async def handle(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.to_thread(self.gate.wait, 30)
        return await self.inner.handle(*args, **kwargs)


@pytest.fixture
def running(
    tmp_path: Path, rules: Any, matcher: Any, wechat_double: WeChatDouble
) -> Iterator[tuple[str, Held]]:
    path = tmp_path / "bot.sqlite3"
    add_accounts(path)
    env = {
        "JIFEN_STAFF_SECRET": STAFF_SECRET,
        "JIFEN_WECHAT_TOKEN": TOKEN,
        "JIFEN_WECHAT_APPID": APPID,
        "JIFEN_WECHAT_SECRET": SECRET,
        "JIFEN_WECHAT_API_BASE": wechat_double.url,
        "JIFEN_WECHAT_BUDGET": "0.5",
    }
    store = SqliteStore(path)
    service = Held(build_service(store, rules=rules, matcher=matcher))
    app = build_app(env, store=store, service=service, rules=rules, matcher=matcher)
    live = LiveServer(app)
    live.start()
    try:
        yield live.url, service
    finally:
        live.stop()


def test_a_late_answer_counts_against_the_quota_staff_see(
    running: tuple[str, Held], wechat_double: WeChatDouble
) -> None:
    url, service = running
    service.gate.clear()  # the answer to 人工 takes longer than the budget
    r = httpx.post(url + "/wechat", params=plain_params(), content=text_xml(USER, "人工", 1))
    assert r.text == "success"
    service.gate.set()
    [late] = wechat_double.wait_for_sent(1)
    assert late.touser == USER
    assert "同事" in late.content  # the answer to 人工, now by customer-service message

    with httpx.Client(base_url=url) as amy:
        r = amy.post(f"{API}/login", json={"username": "amy", "password": PASSWORDS["amy"]})
        headers = {"X-CSRF-Token": r.json()["csrf"]}
        window = _window(amy)
        assert (window["sent"], window["remaining"]) == (1, 4)
        assert amy.post(f"{API}/handoffs/1/claim", headers=headers).status_code == 200
        for n in range(4):
            r = amy.post(f"{API}/handoffs/1/reply", json={"text": f"第{n + 1}条"}, headers=headers)
            assert r.status_code == 200, r.text
        # The fifth of this user message's window would be refused by WeChat: the console
        # says so before trying.
        r = amy.post(f"{API}/handoffs/1/reply", json={"text": "第5条"}, headers=headers)
        assert (r.status_code, r.json()["error"]) == (422, "quota_used")
    time.sleep(0.2)
    assert len(wechat_double.sent) == 5  # the bot's one and staff's four


def _window(client: httpx.Client) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:  # the ticket may still be on its way in
        r = client.get(f"{API}/handoffs/1")
        if r.status_code == 200:
            window: dict[str, Any] = r.json()["window"]
            return window
        assert time.monotonic() < deadline, r.text
        time.sleep(0.05)
