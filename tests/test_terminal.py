"""The terminal channel and the chat / forget / purge commands, in process."""

from __future__ import annotations

import asyncio
import builtins
import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from auxil.conversation import engine

from bot.channels.terminal import Terminal, use_colour
from bot.cli import main
from bot.service import Service, handoff_key
from bot.store.base import TranscriptLine, UserKey
from bot.store.sqlite import SqliteStore


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def root_logging() -> Iterator[None]:
    """`chat` configures the root logger on the stderr of its test (pytest's capture, closed
    after it): later tests would log into a closed file. Put the root logger back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as r:
        yield r


@pytest.fixture
def service(tmp_path: Path, runner: asyncio.Runner) -> Iterator[Service]:
    store = SqliteStore(tmp_path / "t.db")
    runner.run(store.open())
    yield Service(store, engine())
    runner.run(store.close())


def test_script_mode_prints_each_turn_and_stops_at_exit(
    service: Service, runner: asyncio.Runner
) -> None:
    out = io.StringIO()
    stdin = io.StringIO("一建\n是\n退出\n是\n")
    assert Terminal(service, "s", stdin, out).run_script(runner) == 0
    text = out.getvalue()
    assert "一级建造师" in text
    assert "1. 是\n2. 否\n3. 不清楚" in text
    assert "岗位对得上吗" in text
    assert "注册" not in text
    assert "\x1b[" not in text


def test_interactive_mode_greets_colours_and_leaves_on_ctrl_d(
    service: Service, runner: asyncio.Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    typed = iter(["电工", "3"])

    def fake_input(prompt: str = "") -> str:
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr(builtins, "input", fake_input)
    out = Tty()
    assert Terminal(service, "i", io.StringIO(), out, colour=True).run_interactive(runner) == 0
    text = out.getvalue()
    assert "Ctrl-D" in text
    assert "积分小助手" in text
    assert "\x1b[" in text
    assert "再见" in text
    assert "你的证书是哪一种" in text


def test_interactive_exit_word(
    service: Service, runner: asyncio.Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builtins, "input", lambda prompt="": "退出")
    out = io.StringIO()
    Terminal(service, "q", io.StringIO(), out).run_interactive(runner)
    assert out.getvalue().rstrip().endswith("再见！")


def test_colour_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    assert use_colour(Tty(), {}) is True
    assert use_colour(io.StringIO(), {}) is False
    assert use_colour(Tty(), {"NO_COLOR": "1"}) is False
    assert use_colour(Tty(), {"TERM": "dumb"}) is False


def _seed(db: Path) -> None:
    async def seed() -> None:
        now = [datetime(2020, 1, 1, tzinfo=UTC)]
        store = SqliteStore(db, clock=lambda: now[0])
        await store.open()
        for user in ("old", "gone"):
            key = UserKey("terminal", user)
            await store.save_session(key, {"v": 1})
            await store.append_transcript(key, [TranscriptLine(now[0], "user", "hi")])
        await store.kv_set(handoff_key(UserKey("terminal", "gone")), "{}")
        now[0] = datetime.now(UTC) - timedelta(hours=1)
        await store.save_session(UserKey("terminal", "new"), {"v": 2})
        await store.close()

    asyncio.run(seed())


def _users(db: Path) -> list[str]:
    async def read() -> list[str]:
        store = SqliteStore(db)
        await store.open()
        try:
            return [k.user for k in await store.users()]
        finally:
            await store.close()

    return asyncio.run(read())


def test_forget_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "f.db"
    _seed(db)
    url = f"sqlite:///{db}"
    assert main(["forget", "--channel", "terminal", "--user", "gone", "--store", url]) == 0
    assert "forgot terminal:gone" in capsys.readouterr().out
    assert _users(db) == ["new", "old"]


def test_purge_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "p.db"
    _seed(db)
    assert main(["purge", "--days", "30", "--store", f"sqlite:///{db}"]) == 0
    assert "removed 4 rows" in capsys.readouterr().out  # 2 sessions + 2 transcript lines
    assert _users(db) == ["new"]


def test_bad_store_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--store", "mongodb://x"]) == 2
    assert "unknown store scheme" in capsys.readouterr().err
    assert main(["forget", "--channel", "c", "--user", "u", "--store", "mongodb://x"]) == 2
