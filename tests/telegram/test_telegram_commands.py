"""`jifen-bot telegram set-webhook` and `jifen-bot telegram poll` as processes, against the
Bot API double on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.auxil.telegram_double import BotApiDouble, buttons
from tests.auxil.telegram_updates import UpdateFactory
from tests.telegram.support import SECRET

CLI = [sys.executable, "-m", "bot"]


def environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIFEN_")}
    return {**env, **extra}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=environment(env), capture_output=True, text=True, timeout=60
    )


def test_set_webhook_registers_the_url_with_the_secret(
    double: BotApiDouble, tg_env: dict[str, str]
) -> None:
    url = "https://bot.example.org/telegram"
    done = run(["telegram", "set-webhook", url], tg_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"webhook set: {url} (updates: message, callback_query)"
    assert double.webhook is not None
    assert double.webhook["url"] == url
    assert double.webhook["secret_token"] == SECRET
    assert double.webhook["allowed_updates"] == ["message", "callback_query"]


@pytest.mark.parametrize(
    ("url", "env_change", "message"),
    [
        ("http://bot.example.org/telegram", {}, "https:// URLs only"),
        ("https://bot.example.org:8000/telegram", {}, "ports 443, 80, 88, 8443 only"),
        ("https://bot.example.org/telegram", {"JIFEN_TELEGRAM_SECRET": ""}, "is required"),
        ("https://bot.example.org/telegram", {"JIFEN_TELEGRAM_SECRET": "a b"}, "A-Z a-z 0-9"),
        ("https://bot.example.org/telegram", {"JIFEN_TELEGRAM_TOKEN": ""}, "is not set"),
        ("https://bot.example.org/telegram", {"JIFEN_TELEGRAM_TOKEN": "nope"}, "malformed"),
    ],
)
def test_set_webhook_refuses_bad_input_without_calling_the_api(
    double: BotApiDouble,
    tg_env: dict[str, str],
    url: str,
    env_change: dict[str, str],
    message: str,
) -> None:
    done = run(["telegram", "set-webhook", url], {**tg_env, **env_change})
    assert done.returncode == 2
    assert message in done.stderr
    assert double.calls == []


def test_set_webhook_reports_an_api_refusal(double: BotApiDouble, tg_env: dict[str, str]) -> None:
    double.fail_next("setWebhook", status=400, description="Bad Request: bad webhook")
    done = run(["telegram", "set-webhook", "https://bot.example.org/telegram"], tg_env)
    assert done.returncode == 1
    assert "Bad webhook" in done.stderr


async def test_poll_mode_answers_updates_from_get_updates(
    double: BotApiDouble, tg_env: dict[str, str], updates: UpdateFactory, tmp_path: Path
) -> None:
    env = {**tg_env, "JIFEN_STORE": f"sqlite:///{tmp_path / 'poll.sqlite3'}"}
    del env["JIFEN_TELEGRAM_SECRET"]  # polling needs no webhook secret
    double.webhook = {"url": "https://bot.example.org/telegram"}
    chat = 4242
    process = await asyncio.create_subprocess_exec(
        *CLI,
        "telegram",
        "poll",
        env=environment(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await double.wait_for(lambda d: bool(d.calls_of("getUpdates")), within=30)
        assert double.webhook is None  # polling removed it first
        double.push_update(updates.text(chat, "/start"))
        double.push_update(updates.text(chat, "电工"))
        await double.wait_for(
            lambda d: bool(buttons(d.last_message(chat))) if d.sent(chat) else False
        )
        grade = double.last_message(chat)
        double.push_update(updates.press(grade, dict(buttons(grade))["三级/高级工"]))
        await double.wait_for(lambda d: bool(d.calls_of("answerCallbackQuery")))
        await double.wait_for(lambda d: "国家职业资格证书" in str(d.last_message(chat)))
        # The same state as the server would keep: the conversation advanced step by step.
        texts = double.texts(chat)
        assert any("电工" in t for t in texts)
        # Updates are confirmed with offset: none is answered twice.
        assert len(double.sent(chat)) == len(texts)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert double.calls_of("deleteWebhook")


async def _start_poll(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *CLI,
        "telegram",
        "poll",
        env=environment(env),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_an_update_confirmed_by_a_poller_killed_before_answering_is_not_lost(
    double: BotApiDouble, tg_env: dict[str, str], updates: UpdateFactory, tmp_path: Path
) -> None:
    db = tmp_path / "poll.sqlite3"
    env = {**tg_env, "JIFEN_STORE": f"sqlite:///{db}"}
    del env["JIFEN_TELEGRAM_SECRET"]
    chat = 4343
    update = updates.text(chat, "电工")
    confirmed = update["update_id"] + 1
    process = await _start_poll(env)
    try:
        await double.wait_for(lambda d: bool(d.calls_of("getUpdates")), within=30)
        # Telegram asks the bot to wait 30 s before sending: the turn is saved by then.
        double.fail_next("sendMessage", status=429, retry_after=30)
        double.push_update(update)
        await double.wait_for(lambda d: bool(d.calls_of("sendMessage", ok_only=False)), 30)
        # getUpdates has confirmed it: Telegram would never deliver it again.
        await double.wait_for(
            lambda d: any(c.params.get("offset") == confirmed for c in d.calls_of("getUpdates")),
            within=30,
        )
    finally:
        process.kill()
        await process.wait()
    assert double.sent(chat) == []  # nothing reached the user

    # Its lease runs out (two minutes; here, as another process, straight in the file).
    with sqlite3.connect(db) as conn:
        assert conn.execute("UPDATE inbox SET due = 0").rowcount == 1
    process = await _start_poll(env)
    try:
        await double.wait_sent(1, chat, within=30)
        await asyncio.sleep(1.0)  # a turn may be several messages; and nothing more comes
        answer = double.texts(chat)
        assert any("电工" in text for text in answer)
        assert len(answer) == len(set(answer))  # each message once
        double.push_update(updates.text(chat, "3"))  # 三级/高级工: the conversation moved once
        await double.wait_for(lambda d: "国家职业资格证书" in str(d.last_message(chat)), 30)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM inbox").fetchone() == (0,)
