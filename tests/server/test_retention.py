"""The server erases sessions, transcripts and staff tickets older than the retention on its
own."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.server.app import build_app
from bot.server.retention import RetentionMount
from bot.store.base import TranscriptLine, UserKey
from bot.store.sqlite import SqliteStore
from bot.store.tickets import TicketMessage
from bot.store.tickets_sqlite import SqliteTickets

KEY = UserKey("wechat", "oRetention")


async def _store_with_a_user(path: Path) -> SqliteStore:
    store = SqliteStore(str(path))
    await store.open()
    await store.save_session(KEY, {"step": "certificate"})
    line = TranscriptLine(datetime.now(UTC), "user", "我的基数是23456")
    await store.append_transcript(KEY, [line])
    tickets = SqliteTickets(path)  # beside the store, in its file, as the staff console keeps them
    await tickets.connect()
    said = TicketMessage(line.at, "user", line.text)
    await tickets.create(KEY.channel, KEY.user, "asked", [said], {}, [])
    await tickets.disconnect()
    return store


async def _tickets_of(path: Path) -> int:
    tickets = SqliteTickets(path)
    await tickets.connect()
    try:
        return len(await tickets.list("open"))
    finally:
        await tickets.disconnect()


async def test_purge_runs_at_startup_and_erases_what_is_too_old(tmp_path: Path) -> None:
    store = await _store_with_a_user(tmp_path / "r.db")
    # Seen from three days on, with a retention of one day, today's data is too old.
    later = RetentionMount(store, days=1, clock=lambda: datetime.now(UTC) + timedelta(days=3))
    await later.startup()
    for _ in range(100):
        if later.runs:
            break
        await asyncio.sleep(0.01)
    await later.shutdown()
    assert later.runs == 1
    assert await store.load_session(KEY) is None
    assert await store.transcript(KEY) == []
    assert await _tickets_of(tmp_path / "r.db") == 0
    await store.close()


async def test_recent_data_is_kept(tmp_path: Path) -> None:
    store = await _store_with_a_user(tmp_path / "k.db")
    now = RetentionMount(store, days=1)
    assert await now.purge_once() == 0
    assert await store.load_session(KEY) == {"step": "certificate"}
    assert await _tickets_of(tmp_path / "k.db") == 1
    await store.close()


def test_the_server_runs_it_with_the_flow_retention(tmp_path: Path) -> None:
    app = build_app({"JIFEN_STORE": f"sqlite:///{tmp_path / 's.db'}"})
    assert "retention" not in app.state.mounts  # channels only
    retention = [m for m in app.state.background if isinstance(m, RetentionMount)]
    assert [m.days for m in retention] == [180]  # dialogs/flow.yaml session.retention_days
