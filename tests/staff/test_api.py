"""The staff API's security and contract: cookies, CSRF, conflicts, rate limits, status codes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.staff.accounts import Accounts
from bot.store.sqlite import SqliteStore

from .stack import PASSWORDS, create_accounts, staff_app

API = "/staff/api"


class Staff:
    """One browser (a client with its own cookies) on the app, in the test's event loop."""

    def __init__(self, app: Any) -> None:
        self.app = app
        transport = httpx.ASGITransport(app=app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self.csrf = ""

    async def login(self, name: str, password: str | None = None) -> httpx.Response:
        r = await self.client.post(
            f"{API}/login", json={"username": name, "password": password or PASSWORDS[name]}
        )
        if r.status_code == 200:
            self.csrf = r.json()["csrf"]
        return r

    async def post(self, path: str, body: Any = None, csrf: str | None = None) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf if csrf is None else csrf}
        return await self.client.post(API + path, json=body, headers=headers)

    async def user_says(self, user: str, text: str, channel: str = "telegram") -> None:
        await self.app.state.service.handle(channel, user, text)

    async def open_ids(self) -> list[str]:
        r = await self.client.get(f"{API}/handoffs", params={"status": "open"})
        return [t["id"] for t in r.json()["handoffs"]]


@pytest.fixture
async def browsers(tmp_path: Path, rules: Any, matcher: Any) -> AsyncIterator[Callable[[], Staff]]:
    """browsers() → a new signed-out browser on one running app (lifespan started)."""
    path = tmp_path / "bot.sqlite3"
    await create_accounts(path)
    app = staff_app(path, {}, rules, matcher)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))

        def make() -> Staff:
            staff = Staff(app)
            stack.push_async_callback(staff.client.aclose)
            return staff

        yield make


@pytest.fixture
def amy(browsers: Callable[[], Staff]) -> Staff:
    return browsers()


async def test_no_or_forged_cookie_is_401(amy: Staff) -> None:
    client = amy.client
    assert (await client.get(f"{API}/handoffs")).status_code == 401
    assert (await client.post(f"{API}/handoffs/1/claim")).status_code == 401
    assert (await client.get(f"{API}/revision")).status_code == 401
    assert (await amy.login("amy")).status_code == 200
    real = client.cookies.get("jifen_staff")
    assert real
    body, signature = real.split(".")
    for forged in (body + "." + signature[::-1], "eyJ1IjoiYW15In0.AAAA", body, "x" * 5000):
        client.cookies.clear()
        client.cookies.set("jifen_staff", forged, path="/staff")
        assert (await client.get(f"{API}/handoffs")).status_code == 401


async def test_login_sets_a_strict_http_only_cookie(amy: Staff) -> None:
    assert (await amy.login("amy", "wrong password!")).status_code == 401
    r = await amy.login("amy")
    assert r.status_code == 200
    assert r.json()["username"] == "amy"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/staff" in cookie
    assert PASSWORDS["amy"] not in r.text
    assert (await amy.client.get(f"{API}/session")).json()["csrf"] == amy.csrf
    assert (await amy.client.post(f"{API}/login", data={"username": "amy"})).status_code == 415


async def test_state_changes_need_the_sessions_csrf_token(
    amy: Staff, browsers: Callable[[], Staff]
) -> None:
    await amy.login("amy")
    await amy.user_says("42", "人工")
    [ticket] = await amy.open_ids()
    assert (await amy.post(f"/handoffs/{ticket}/claim", csrf="")).status_code == 403
    assert (await amy.post(f"/handoffs/{ticket}/claim", csrf="0" * 64)).status_code == 403
    r = await amy.client.post(f"{API}/handoffs/{ticket}/claim")  # no header at all
    assert r.status_code == 403
    again = browsers()
    await again.login("amy")  # another session of the same account: another token
    assert (await amy.post(f"/handoffs/{ticket}/claim", csrf=again.csrf)).status_code == 403
    assert (await amy.post(f"/handoffs/{ticket}/claim")).status_code == 200
    assert await amy.open_ids() == []


async def test_another_agents_ticket_is_409(amy: Staff, browsers: Callable[[], Staff]) -> None:
    await amy.login("amy")
    await amy.user_says("42", "人工")
    [ticket] = await amy.open_ids()
    assert (await amy.post(f"/handoffs/{ticket}/claim")).json()["claimed_by"] == "amy"
    bob = browsers()
    await bob.login("bob")
    r = await bob.post(f"/handoffs/{ticket}/claim")
    assert r.status_code == 409
    assert r.json() == {"error": "conflict", "claimed_by": "amy"}
    assert (await bob.post(f"/handoffs/{ticket}/reply", {"text": "hi"})).status_code == 409
    assert (await bob.post(f"/handoffs/{ticket}/close")).status_code == 409
    closed = await amy.post(f"/handoffs/{ticket}/close")
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert (await amy.post(f"/handoffs/{ticket}/claim")).json()["error"] == "closed"


async def test_repeated_wrong_passwords_are_rate_limited(amy: Staff) -> None:
    for _ in range(5):
        assert (await amy.login("amy", "guess-guess-guess")).status_code == 401
    r = await amy.login("amy")  # even the right password now waits
    assert r.status_code == 429
    assert r.json() == {"error": "rate_limited"}
    assert (await amy.login("bob")).status_code == 200  # another account is not locked out


async def test_a_removed_account_loses_its_session(amy: Staff, tmp_path: Path) -> None:
    await amy.login("bob")
    assert (await amy.client.get(f"{API}/handoffs")).status_code == 200

    async def remove() -> None:
        store = SqliteStore(tmp_path / "bot.sqlite3")
        await store.open()
        await Accounts(store).remove("bob")
        await store.close()

    await remove()
    assert (await amy.client.get(f"{API}/handoffs")).status_code == 401


async def test_lists_details_and_errors(amy: Staff) -> None:
    await amy.login("amy")
    await amy.user_says("42", "一建")
    await amy.user_says("42", "人工")
    r = await amy.client.get(f"{API}/handoffs", params={"status": "open"})
    [item] = r.json()["handoffs"]
    for field in ("id", "channel", "user", "reason", "opened_at", "status", "claimed_by"):
        assert field in item
    assert item["transcript"][0] == {
        "at": item["transcript"][0]["at"],
        "sender": "user",
        "text": "一建",
    }
    assert item["reachable"] is False  # no Telegram channel configured in this app
    assert (await amy.client.get(f"{API}/handoffs", params={"status": "lost"})).status_code == 400
    assert (await amy.client.get(f"{API}/handoffs/999")).status_code == 404
    assert (await amy.post("/handoffs/999/claim")).status_code == 404
    assert (await amy.post("/handoffs/abc/claim")).status_code == 404
    reply = await amy.post(f"/handoffs/{item['id']}/reply", {"text": "您好"})
    assert reply.status_code == 422
    assert reply.json()["error"] == "no_channel"
    assert (await amy.post(f"/handoffs/{item['id']}/reply", {"text": "  "})).status_code == 400
    assert (
        await amy.post(f"/handoffs/{item['id']}/reply", {"text": "长" * 2001})
    ).status_code == 400
    assert (await amy.client.get(f"{API}/revision")).json()["revision"] > 0


async def test_the_page_is_served_with_a_strict_policy(amy: Staff) -> None:
    r = await amy.client.get("/staff")
    assert r.status_code == 200
    assert "<title>积分助手 · 人工工作台</title>" in r.text
    policy = r.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert r.headers["x-frame-options"] == "DENY"
    assert (await amy.client.get("/staff/static/app.js")).status_code == 200
    assert (await amy.client.get("/staff/static/../texts.py")).status_code == 404
    labels = (await amy.client.get(f"{API}/texts")).json()
    assert labels["claim"] == "接手"
    assert labels["channels"]["wechat"] == "微信"
