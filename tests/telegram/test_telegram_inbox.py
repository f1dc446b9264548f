"""The webhook answers 200 before the conversation runs; an update whose worker dies in between
is not lost (bot/channels/telegram/inbox.py): the next worker processes it, once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bot.channels.telegram import inbox as inbox_module
from bot.channels.telegram.inbox import Inbox
from bot.channels.telegram.mount import TelegramMount
from tests.auxil.live import serving
from tests.auxil.memstore import MemoryStore
from tests.auxil.telegram_double import BotApiDouble
from tests.auxil.telegram_updates import UpdateFactory
from tests.telegram.fakes import ScriptedService
from tests.telegram.support import Live, mounted_app

CHAT = 555777
LEASE = 0.3  # short, so that a dead worker's update is due again within the test


@pytest.fixture(autouse=True)
def short_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox_module, "LEASE", LEASE)
    monkeypatch.setattr(inbox_module, "EVERY", 0.05)


@contextmanager
def worker(
    env: dict[str, str], service: ScriptedService, store: MemoryStore
) -> Iterator[tuple[Live, TelegramMount]]:
    """One worker of `jifen-bot serve` with only the Telegram channel, on its own port."""
    app, mount = mounted_app(env, service, store)
    with serving(app) as server:
        yield Live(server.url), mount


async def test_an_update_acknowledged_by_a_worker_that_died_is_answered_by_the_next(
    tg_env: dict[str, str],
    double: BotApiDouble,
    updates: UpdateFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = MemoryStore()
    update = updates.text(CHAT, "一建")
    first, second = ScriptedService(), ScriptedService()
    # The dying worker does not look at its inbox again before it is gone, however slowly it
    # stops on a busy machine.
    monkeypatch.setattr(inbox_module, "EVERY", 3600.0)
    with worker(tg_env, first, store) as (live, mount):
        # The worker dies between its 200 and the conversation: nobody reads what it queues.
        app, queue = mount.application, mount.application.update_queue
        app.update_queue = asyncio.Queue()
        assert (await live.post(update)).status_code == 200
        app.update_queue = queue  # for its own orderly stop at the end of this block
    assert first.received == []
    assert double.sent(CHAT) == []

    monkeypatch.setattr(inbox_module, "EVERY", 0.05)
    with worker(tg_env, second, store):  # the worker that comes next, or the same restarted
        await double.wait_sent(2, CHAT, within=10)
        await asyncio.sleep(3 * LEASE)  # nothing else is due: it is not processed again
    assert second.received == [("telegram", str(CHAT), "一建")]
    assert second.onces == [f"tg{update['update_id']}"]  # the turn is recorded under its id
    assert double.texts(CHAT)[0] == "收到：一建"
    assert len(double.sent(CHAT)) == 2
    assert await store.inbox_take("telegram", 60) == []


async def test_an_update_processed_normally_is_neither_kept_nor_processed_again(
    tg_env: dict[str, str], double: BotApiDouble, updates: UpdateFactory
) -> None:
    store, service = MemoryStore(), ScriptedService()
    with worker(tg_env, service, store) as (live, _):
        assert (await live.post(updates.text(CHAT, "一建"))).status_code == 200
        await double.wait_sent(2, CHAT)
        await asyncio.sleep(3 * LEASE)
    assert service.received == [("telegram", str(CHAT), "一建")]
    assert len(double.sent(CHAT)) == 2
    assert store.inbox.get("telegram", {}) == {}


async def test_an_update_that_keeps_failing_is_given_up_with_an_error(
    caplog: pytest.LogCaptureFixture, updates: UpdateFactory
) -> None:
    store = MemoryStore()
    inbox = Inbox(store, lease=0.0, max_takes=2)
    await store.inbox_add("telegram", "42", '{"update_id": 42}', 0.0)
    for _ in range(2):  # taken, and its worker died each time
        assert [item for item, _, _ in await store.inbox_take("telegram", 0.0)] == ["42"]
    queued: list[Any] = []

    class App:
        bot = None
        update_queue = type("Q", (), {"put": staticmethod(lambda u: _put(queued, u))})()

    with caplog.at_level(logging.ERROR, logger="bot.channels.telegram.inbox"):
        assert await inbox.replay(App()) == 0  # type: ignore[arg-type]
    assert queued == []
    assert await store.inbox_take("telegram", 0.0) == []
    assert "given up: run again 2 times" in caplog.text


async def _put(queued: list[Any], update: Any) -> None:
    queued.append(update)
