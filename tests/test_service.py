"""Service: the glue of engine and store, per user, with transcripts, handoff records and
polite failure."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from auxil.conversation import engine, ticking_clock

from bot.logs import pseudonym
from bot.service import Service, handoff_key
from bot.store.base import StoreError, UserKey
from bot.store.sqlite import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "svc.db")
    await s.open()
    yield s
    await s.close()


@pytest.fixture
def service(store: SqliteStore) -> Service:
    return Service(store, engine(), clock=ticking_clock())


def text(replies: list[Any]) -> str:
    return "\n".join(r.text for r in replies)


async def test_a_conversation_is_saved_with_its_transcript(
    service: Service, store: SqliteStore
) -> None:
    assert "一级建造师" in text(await service.handle("wechat", "u1", "一建"))
    assert "岗位" in text(await service.handle("wechat", "u1", "是"))
    state = await store.load_session(UserKey("wechat", "u1"))
    assert state is not None
    assert state["cert"]["answers"] == {"appointment": "yes"}
    lines = await store.transcript(UserKey("wechat", "u1"))
    assert [ln.sender for ln in lines][:2] == ["user", "bot"]
    assert lines[0].text == "一建"
    assert "1. 是" in lines[-1].text
    assert all(a.at <= b.at for a, b in itertools.pairwise(lines))
    assert await store.load_session(UserKey("telegram", "u1")) is None


async def test_handoff_request_is_recorded_and_forget_erases_it(
    service: Service, store: SqliteStore
) -> None:
    key = UserKey("telegram", "42")
    await service.handle(key.channel, key.user, "一建")
    assert "同事" in text(await service.handle(key.channel, key.user, "转人工"))
    raw = await store.kv_get(handoff_key(key))
    assert raw is not None
    record = json.loads(raw)
    assert record["reason"] == "asked"
    assert record["step"] == "condition"
    assert record["certificate"]["entry_id"] == "qual.constructor-1"
    await service.forget(key.channel, key.user)
    assert await store.kv_get(handoff_key(key)) is None
    assert await store.load_session(key) is None
    assert await store.transcript(key) == []


async def test_greet_then_first_message_is_not_greeted_twice(service: Service) -> None:
    opening = text(await service.greet("terminal", "me"))
    assert "积分小助手" in opening
    assert "请发证书名称" in opening
    first = text(await service.handle("terminal", "me", "一建"))
    assert "积分小助手" not in first
    assert "一级建造师" in first
    again = text(await service.greet("terminal", "me"))
    assert "欢迎回来" in again
    assert "单位已经聘任" in again


async def test_an_unreadable_session_starts_afresh(
    service: Service, store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.save_session(UserKey("wechat", "old"), {"version": 0, "step": "gone"})
    with caplog.at_level(logging.WARNING):
        replies = await service.handle("wechat", "old", "一建")
    assert "一级建造师" in text(replies)
    assert "not readable" in caplog.text
    assert pseudonym("wechat", "old") in caplog.text  # the user, never their id
    assert "wechat:old" not in caplog.text


class BrokenStore(SqliteStore):
    """Answers reads, fails every write: the disk is full, the file is locked."""

    async def save_session(self, key: UserKey, state: dict[str, Any]) -> None:
        raise StoreError("database is locked")


async def test_store_down_gets_a_polite_reply_and_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = BrokenStore(tmp_path / "broken.db")
    await store.open()
    try:
        service = Service(store, engine(), clock=ticking_clock())
        with caplog.at_level(logging.ERROR):
            replies = await service.handle("wechat", "u9", "一建")
        assert text(replies) == engine().texts("session.store_unavailable")
        assert "Traceback" not in text(replies)
        assert pseudonym("wechat", "u9") in caplog.text
        assert "database is locked" in caplog.text
    finally:
        await store.close()


async def test_a_closed_store_is_a_polite_reply_too(tmp_path: Path) -> None:
    service = Service(SqliteStore(tmp_path / "never-opened.db"), engine())
    assert text(await service.handle("wechat", "u", "一建")) == engine().texts(
        "session.store_unavailable"
    )


async def test_a_bug_is_a_polite_reply(
    service: Service, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*_: Any) -> Any:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(service.engine, "handle", explode)
    with caplog.at_level(logging.ERROR):
        replies = await service.handle("wechat", "u", "一建")
    assert text(replies) == engine().texts("session.error")
    assert "ZeroDivisionError" in caplog.text


async def test_lock_timeout_is_a_polite_reply(service: Service, store: SqliteStore) -> None:
    service.lock_timeout = 0.2
    async with store.lock(UserKey("wechat", "busy")):
        replies = await service.handle("wechat", "busy", "一建")
    assert text(replies) == engine().texts("session.store_unavailable")


def test_idle_minutes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.errors import ConfigError
    from bot.service import IDLE_ENV, build_engine

    cfg = engine().cfg
    monkeypatch.setenv(IDLE_ENV, "5")
    assert build_engine(cfg.rules, cfg.matcher).flow.session.idle_minutes == 5
    monkeypatch.setenv(IDLE_ENV, "soon")
    with pytest.raises(ConfigError, match=IDLE_ENV):
        build_engine(cfg.rules, cfg.matcher)


class _OtherWorker:
    """A handoff desk used as a seam: the first time a turn has loaded the session, another
    worker on the same file answers a message of the same user (what two workers given one
    user's messages at the same moment do)."""

    def __init__(self, other: Service) -> None:
        self.other = other
        self.interrupted = 0

    def bind(self, service: Service) -> None:
        pass

    async def before(self, key: UserKey, state: Any, now: Any) -> Any:
        if self.interrupted == 0:
            self.interrupted += 1
            await self.other.handle(key.channel, key.user, "一建")
        return state

    async def extras(self, key: UserKey, turn: Any) -> list[Any]:
        return []

    async def after(self, key: UserKey, turn: Any, now: Any, extras: list[Any]) -> list[Any]:
        return [*turn.replies, *extras]


async def test_a_turn_overtaken_by_another_worker_runs_again_on_the_new_state(
    tmp_path: Path,
) -> None:
    mine, theirs = SqliteStore(tmp_path / "two.db"), SqliteStore(tmp_path / "two.db")
    await mine.open()
    await theirs.open()
    try:
        service = Service(mine, engine(), clock=ticking_clock())
        other = _OtherWorker(Service(theirs, engine(), clock=ticking_clock()))
        service.attach_handoff(other)
        # Loaded before the other worker's "一建" was saved; saved after: a conflict, and
        # the turn runs again, so "是" answers the question "一建" asked.
        replies = await service.handle("wechat", "u9", "是", once="m2")
        assert other.interrupted == 1
        assert "岗位" in text(replies)
        lines = await mine.transcript(UserKey("wechat", "u9"))
        assert [ln.text for ln in lines if ln.sender == "user"] == ["一建", "是"]
        state = await mine.load_session(UserKey("wechat", "u9"))
        assert state is not None
        assert state["cert"]["answers"] == {"appointment": "yes"}
    finally:
        await mine.close()
        await theirs.close()


async def test_two_workers_taking_turns_on_one_user_answer_as_one_worker_would(
    tmp_path: Path,
) -> None:
    # Each worker keeps the session it saved last (bot/store/recent.py); after the other
    # worker's turn that copy is out of date, and must not be what the next turn runs on.
    messages = ["一建", "是", "是", "否", "返回", "是", "不清楚", "重新开始", "中级会计", "1"]
    alone = SqliteStore(tmp_path / "one.db")
    a, b = SqliteStore(tmp_path / "two.db"), SqliteStore(tmp_path / "two.db")
    for s in (alone, a, b):
        await s.open()
    try:
        one = Service(alone, engine(), clock=ticking_clock())
        workers = [
            Service(a, engine(), clock=ticking_clock()),
            Service(b, engine(), clock=ticking_clock()),
        ]
        for n, message in enumerate(messages):
            expected = text(await one.handle("wechat", "u7", message, once=f"m{n}"))
            got = text(await workers[n % 2].handle("wechat", "u7", message, once=f"m{n}"))
            assert got == expected, f"message {n} ({message})"
            # The same worker twice in a row reuses what it kept, and still answers alike.
            if n % 3 == 0:
                again = text(await workers[n % 2].handle("wechat", "u7", "帮助", once=f"h{n}"))
                assert again == text(await one.handle("wechat", "u7", "帮助", once=f"h{n}"))
        key = UserKey("wechat", "u7")
        shared, single = await a.load_session(key), await alone.load_session(key)
        assert shared is not None
        assert single is not None
        for part in ("step", "cert", "done", "offered", "unclear"):  # all but the times
            assert shared[part] == single[part]
    finally:
        for s in (alone, a, b):
            await s.close()


async def test_replies_of_a_message_run_before_and_only_of_one(
    service: Service, store: SqliteStore
) -> None:
    first = await service.handle("telegram", "7", "一建", once="tg1")
    await service.handle("telegram", "7", "是", once="tg2")
    again = await service.replies_of("telegram", "7", "tg1")
    assert again is not None
    assert [r.text for r in again] == [r.text for r in first]
    assert await service.replies_of("telegram", "7", "tg3") is None  # never run: not replayed
    assert await service.replies_of("telegram", "8", "tg1") is None  # another user's id
    await store.close()  # the store cannot say: the caller treats the message as not run
    assert await service.replies_of("telegram", "7", "tg1") is None
