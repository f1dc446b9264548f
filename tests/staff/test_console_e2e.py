"""End to end in a real browser: users on the Telegram and WeChat doubles ask for a person,
staff work the ticket in the console at /staff (chromium driven by Playwright), the replies
reach the users through the doubles, and closing hands them back to the bot.

Plain sync tests: Playwright's sync API must not run inside an asyncio loop. The app runs
under uvicorn in a thread on a free loopback port, as `jifen-bot serve` runs it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from auxil.live import LiveServer, serving
from auxil.telegram_double import BotApiDouble
from auxil.telegram_updates import UpdateFactory
from auxil.wechat_double import APPID, SECRET, WeChatDouble
from auxil.wechat_wire import TOKEN, plain_params, reply_fields, text_xml

from .stack import PASSWORDS, add_accounts, staff_app

pytestmark = pytest.mark.slow

TG_TOKEN = "123456:TEST-token_abc"
TG_SECRET = "s3cret-Token_for-tests"
WAIT = 15_000  # ms: the console polls every 3 s
CHAT = 777001


def wait_until(check: Callable[[], Any], within: float = 15.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        time.sleep(0.05)


@pytest.fixture
def telegram_double() -> Iterator[BotApiDouble]:
    api = BotApiDouble(TG_TOKEN)
    with serving(api.asgi()) as server:
        api.url = server.url
        yield api


@pytest.fixture
def running(
    tmp_path: Path,
    rules: Any,
    matcher: Any,
    telegram_double: BotApiDouble,
    wechat_double: WeChatDouble,
) -> Iterator[tuple[str, Path]]:
    """The whole app (WeChat, Telegram, staff console) on loopback, with two accounts."""
    path = tmp_path / "bot.sqlite3"
    add_accounts(path)
    env = {
        "JIFEN_TELEGRAM_TOKEN": TG_TOKEN,
        "JIFEN_TELEGRAM_SECRET": TG_SECRET,
        "JIFEN_TELEGRAM_API_BASE": telegram_double.api_base,
        "JIFEN_WECHAT_TOKEN": TOKEN,
        "JIFEN_WECHAT_APPID": APPID,
        "JIFEN_WECHAT_SECRET": SECRET,
        "JIFEN_WECHAT_API_BASE": wechat_double.url,
        "JIFEN_WECHAT_BUDGET": "4.5",  # passive answers even on a busy test machine
        "JIFEN_STAFF_HOURS": "周一至周五 9:00–17:30",
    }
    live = LiveServer(staff_app(path, env, rules, matcher))
    live.start()
    try:
        yield live.url, path
    finally:
        live.stop()


class TelegramUser:
    def __init__(self, url: str, double: BotApiDouble, chat: int) -> None:
        self.url, self.double, self.chat = url, double, chat
        self.updates = UpdateFactory()

    def says(self, text: str) -> int:
        """Send a message as Telegram delivers it; the mark to look for answers after."""
        mark = len(self.double.texts(self.chat))
        r = httpx.post(
            self.url + "/telegram",
            json=self.updates.text(self.chat, text),
            headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
        )
        assert r.status_code == 200
        return mark

    def since(self, mark: int) -> str:
        return "\n".join(self.double.texts(self.chat)[mark:])

    def sees(self, mark: int, *needles: str) -> str:
        """Wait until every needle is in what the bot sent after `mark` (answers arrive in
        the background, one sendMessage after the other)."""
        return str(
            wait_until(lambda: all(n in self.since(mark) for n in needles) and self.since(mark))
        )


def wechat_says(url: str, openid: str, text: str, msg_id: int) -> str:
    r = httpx.post(url + "/wechat", params=plain_params(), content=text_xml(openid, text, msg_id))
    assert r.status_code == 200
    return "" if r.text == "success" else str(reply_fields(r.content)["Content"])


def sign_in(browser: Any, url: str, name: str = "amy") -> Any:
    page = browser.new_context().new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(url + "/staff")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("form#login button[type=submit]")
    page.locator("#me").filter(has_text=name).wait_for(timeout=WAIT)
    return page


def open_ticket(page: Any, ticket: str) -> None:
    page.locator("#tickets li", has_text=f"工单 #{ticket}").click(timeout=WAIT)
    page.locator("#t-title", has_text=f"工单 #{ticket}").wait_for(timeout=WAIT)


def test_telegram_user_gets_a_colleague_and_comes_back_to_the_bot(
    browser: Any, running: tuple[str, Path], telegram_double: BotApiDouble
) -> None:
    url, _ = running
    page = sign_in(browser, url)
    page.locator("#empty", has_text="暂时没有待接手的工单。").wait_for(timeout=WAIT)
    user = TelegramUser(url, telegram_double, CHAT)
    user.sees(user.says("一建"), "一级建造师")
    user.sees(user.says("人工"), "已通知同事", "周一至周五 9:00–17:30")

    # The ticket appears in the open console without a reload.
    open_ticket(page, "1")
    transcript = page.locator("#t-transcript").inner_text()
    assert "一建" in transcript
    assert "人工" in transcript
    assert "一级建造师" in page.locator("#t-assessment").inner_text()

    # While waiting, the bot stays silent and passes messages on; HTML stays text.
    attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    silent = user.says(attack)
    page.locator("#t-messages li.user").filter(has_text="<img src=x").wait_for(timeout=WAIT)
    assert page.locator("#t-messages img, #t-messages script").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    assert user.since(silent) == ""  # the message is in the ticket: the bot said nothing

    page.click("#claim")
    page.locator("#t-status", has_text="处理中").wait_for(timeout=WAIT)
    mark = len(telegram_double.texts(CHAT))
    page.fill("#reply-text", "您好，我是小李，您的一级建造师需要先注册。")
    page.click("#send")
    page.locator("#t-messages li.staff").filter(has_text="我是小李").wait_for(timeout=WAIT)
    user.sees(mark, "【人工客服】您好，我是小李，您的一级建造师需要先注册。")

    mark = len(telegram_double.texts(CHAT))
    page.click("#close")
    page.locator("#t-status", has_text="已关闭").wait_for(timeout=WAIT)
    user.sees(mark, "本次人工服务已结束")
    # The bot answers again on its own.
    user.sees(user.says("重新开始"), "我们重新开始")
    user.sees(user.says("一建"), "一级建造师")
    page.context.close()


def test_wechat_user_through_the_customer_service_api_and_a_closed_window(
    browser: Any, running: tuple[str, Path], wechat_double: WeChatDouble
) -> None:
    url, path = running
    page = sign_in(browser, url)
    answer = wechat_says(url, "oUser1", "人工", 1)
    assert "已通知同事" in answer
    assert "周一至周五 9:00–17:30" in answer
    open_ticket(page, "1")
    page.locator("#t-window", has_text="还能发 5 条").wait_for(timeout=WAIT)
    page.click("#claim")
    page.fill("#reply-text", "您好，请问您的证书是哪一年取得的？")
    page.click("#send")
    sent = wechat_double.wait_for_sent(1)
    assert (sent[0].touser, sent[0].content) == (
        "oUser1",
        "【人工客服】您好，请问您的证书是哪一年取得的？",
    )
    page.locator("#t-window", has_text="还能发 4 条").wait_for(timeout=WAIT)
    assert wechat_says(url, "oUser1", "2019年", 2) == ""  # silent: it goes to the ticket
    page.locator("#t-messages li.user").filter(has_text="2019年").wait_for(timeout=WAIT)
    page.locator("#t-window", has_text="还能发 5 条").wait_for(timeout=WAIT)
    page.click("#close")
    sent = wechat_double.wait_for_sent(2)
    assert "本次人工服务已结束" in sent[1].content
    assert "一级建造师" in wechat_says(url, "oUser1", "一建", 3)

    # A second user. WeChat itself refuses (45015: its own count says the window is shut):
    # the console says so instead of failing silently.
    assert "已通知同事" in wechat_says(url, "oUser2", "转人工", 4)
    open_ticket(page, "2")
    page.click("#claim")
    page.locator("#t-status", has_text="处理中").wait_for(timeout=WAIT)
    wechat_double.fail_next_send = 45015
    page.fill("#reply-text", "您好")
    page.click("#send")
    page.locator("#t-error", has_text="微信客服窗口已关闭").wait_for(timeout=WAIT)
    assert len(wechat_double.sent) == 2

    # Its last message is now 49 hours old: the window is shown closed and replying is off.
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE staff_window SET last_us = last_us - ? WHERE user = 'oUser2'",
            (49 * 3600 * 1_000_000,),
        )
    page.reload()
    page.click(".tabs button[data-status=claimed]")
    open_ticket(page, "2")
    page.locator("#t-window.closed", has_text="超过48小时").wait_for(timeout=WAIT)
    assert page.locator("#send").is_disabled()
    assert len(wechat_double.sent) == 2  # nothing more went out
    page.context.close()
