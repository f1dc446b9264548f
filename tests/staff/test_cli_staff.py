"""`jifen-bot staff add NAME` / `staff remove NAME`: the password comes from stdin."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.cli import main
from bot.staff.accounts import Accounts
from bot.store.sqlite import SqliteStore


def _verify(path: Path, name: str, password: str) -> bool:
    async def check() -> bool:
        store = SqliteStore(path)
        await store.open()
        try:
            return await Accounts(store).verify(name, password) is not None
        finally:
            await store.close()

    return asyncio.run(check())


def test_add_update_and_remove(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bot.sqlite3"
    store = ["--store", f"sqlite:///{path}"]
    monkeypatch.setattr("sys.stdin", io.StringIO("first-password-1\n"))
    assert main(["staff", "add", "小李", *store]) == 0
    assert "added 小李" in capsys.readouterr().out
    assert _verify(path, "小李", "first-password-1")
    monkeypatch.setattr("sys.stdin", io.StringIO("second-password-2\n"))
    assert main(["staff", "add", "小李", *store]) == 0
    assert "updated" in capsys.readouterr().out
    assert not _verify(path, "小李", "first-password-1")
    assert _verify(path, "小李", "second-password-2")
    assert main(["staff", "remove", "小李", *store]) == 0
    assert main(["staff", "remove", "小李", *store]) == 1
    assert not _verify(path, "小李", "second-password-2")


@pytest.mark.parametrize("stdin", ["", "\n", "short\n", "   \n"])
def test_empty_or_short_passwords_are_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stdin: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert main(["staff", "add", "amy", "--store", f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    err = capsys.readouterr().err
    assert "password" in err
    assert stdin.strip() == "" or stdin.strip() not in err  # the password is never echoed
