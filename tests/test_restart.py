"""A conversation half-way survives the process: a new Service, or a new `jifen-bot chat`
process, on the same SQLite file carries on where the last one stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from auxil.conversation import engine, ticking_clock

from bot.service import Service
from bot.store.sqlite import SqliteStore


def _chat(db: Path, user: str, lines: str) -> str:
    env = {**os.environ, "NO_COLOR": "1", "JIFEN_STORE": f"sqlite:///{db}"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--user", user],
        input=lines,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=True,
    )
    assert done.stderr == ""
    return done.stdout


async def test_a_new_service_on_the_same_file_continues(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    clock = ticking_clock()
    first = SqliteStore(db)
    await first.open()
    await Service(first, engine(), clock=clock).handle("wechat", "u", "一建")
    await Service(first, engine(), clock=clock).handle("wechat", "u", "是")
    await first.close()

    second = SqliteStore(db)
    await second.open()
    try:
        service = Service(second, engine(), clock=clock)
        replies = await service.handle("wechat", "u", "是")
        assert "注册" in replies[-1].text  # the third question, not a new greeting
        await service.handle("wechat", "u", "是")
        result = await service.handle("wechat", "u", "8")
        assert "现在可得：100 分" in result[0].text
    finally:
        await second.close()


def test_chat_processes_continue_the_same_user(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    out = _chat(db, "alice", "一建\n是\n")
    assert "一级建造师" in out
    assert "岗位对得上吗" in out
    assert "\x1b[" not in out  # no colours into a pipe
    out = _chat(db, "alice", "是\n是\n8\n")
    assert "现在可得：100 分" in out
    assert "积分小助手" not in out


def test_a_killed_process_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    env = {**os.environ, "NO_COLOR": "1", "JIFEN_STORE": f"sqlite:///{db}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--user", "carol"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    seen: list[str] = []
    asked = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if "你的证书是几级" in line:
                asked.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    proc.stdin.write("电工\n")
    proc.stdin.flush()
    assert asked.wait(60), "".join(seen)
    proc.kill()  # between two messages, without any chance to clean up
    proc.wait(30)
    out = _chat(db, "carol", "3\n")
    assert "你的证书是哪一种" in out  # the grade question was answered: we were still there
