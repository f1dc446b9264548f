"""A real `jifen-bot serve` killed (SIGKILL) after it answered Telegram's webhook with 200 and
saved the turn, while it waits to send the answer: the server started after it answers the
user, once, and the conversation has moved on once (bot/channels/telegram/inbox.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.auxil.live import free_port
from tests.auxil.telegram_double import BotApiDouble, buttons
from tests.auxil.telegram_updates import UpdateFactory
from tests.telegram.support import SECRET, TOKEN, Live

ROOT = Path(__file__).resolve().parents[2]
CHAT = 606060


@contextmanager
def serve(env: dict[str, str]) -> Iterator[tuple[Live, subprocess.Popen[bytes]]]:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JIFEN_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port), "--log-level", "warning"],
        env=clean | env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"serve exited with {proc.returncode}"
            assert time.monotonic() < deadline, "serve did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except (OSError, httpx.HTTPError):
                pass
            time.sleep(0.1)
        yield Live(f"http://127.0.0.1:{port}"), proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(15)


async def test_a_worker_killed_before_it_could_answer_is_answered_for_by_the_next(
    double: BotApiDouble, updates: UpdateFactory, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    env = {
        "JIFEN_STORE": f"sqlite:///{db}",
        "JIFEN_TELEGRAM_TOKEN": TOKEN,
        "JIFEN_TELEGRAM_SECRET": SECRET,
        "JIFEN_TELEGRAM_API_BASE": double.api_base,
    }
    update = updates.text(CHAT, "电工")
    with serve(env) as (live, proc):
        # Telegram asks the bot to wait 30 s before sending: the turn is saved by then.
        double.fail_next("sendMessage", status=429, retry_after=30)
        assert (await live.post(update)).status_code == 200
        await double.wait_for(lambda d: bool(d.calls_of("sendMessage", ok_only=False)), 20)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert double.sent(CHAT) == []  # nothing reached the user

    # The update's lease runs out (two minutes; here, as another process, straight in the file).
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE inbox SET due = 0")

    with serve(env) as (live, _):  # looks at its inbox as it starts
        await double.wait_sent(1, CHAT, within=30)
        await asyncio.sleep(1.0)  # a turn may be several messages; and nothing more comes
        answer = double.texts(CHAT)  # the greeting of a first message, then the answer
        assert any("电工" in text for text in answer)
        assert not any("没看懂" in text for text in answer)  # not run again on the next step
        assert len(answer) == len(set(answer))  # each message once

        # The conversation moved on once: "3" answers the grade question it asked.
        assert (await live.post(updates.text(CHAT, "3"))).status_code == 200  # 三级/高级工
        await double.wait_sent(len(answer) + 1, CHAT, within=30)
        await asyncio.sleep(1.0)
        labels = [label for label, _ in buttons(double.last_message(CHAT))]
        assert "国家职业资格证书" in labels
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM inbox").fetchone() == (0,)
