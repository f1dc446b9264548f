"""The ticket store contract, on SQLite and on a real Redis."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from bot.store.tickets import (
    QUOTA,
    QuotaUsed,
    TicketClosed,
    TicketConflict,
    TicketMessage,
    TicketNotFound,
    TicketStore,
    WindowClosed,
    ticket_store_for,
)
from bot.store.tickets_redis import RedisTickets
from bot.store.tickets_sqlite import SqliteTickets

from .conftest import Clock


async def _new(tickets: TicketStore, user: str = "u1", channel: str = "telegram") -> str:
    line = TicketMessage(tickets.clock(), "user", "人工")
    ticket = await tickets.create(
        channel, user, "asked", [line], {"step": "certificate"}, [{"name": "一级建造师"}]
    )
    return ticket.id


async def test_create_get_and_list(tickets: TicketStore) -> None:
    before = await tickets.revision()
    ticket_id = await _new(tickets)
    ticket = await tickets.get(ticket_id)
    assert ticket is not None
    assert (ticket.status, ticket.channel, ticket.user, ticket.reason) == (
        "open",
        "telegram",
        "u1",
        "asked",
    )
    assert ticket.transcript[0].text == "人工"
    assert ticket.slots == {"step": "certificate"}
    assert ticket.assessment == [{"name": "一级建造师"}]
    assert [t.id for t in await tickets.list("open")] == [ticket_id]
    assert await tickets.list("claimed") == []
    assert await tickets.revision() > before
    assert await tickets.get("999") is None
    assert await tickets.get("../etc") is None


async def test_one_active_ticket_per_user(tickets: TicketStore) -> None:
    first = await _new(tickets)
    assert await _new(tickets) == first
    other = await _new(tickets, "u2")
    assert other != first
    await tickets.close(first, "amy", force=True)
    again = await _new(tickets)
    assert again not in (first, other)
    found = await tickets.open_ticket_for("telegram", "u1")
    assert found is not None
    assert found.id == again


async def test_claim_is_exclusive(tickets: TicketStore) -> None:
    ticket_id = await _new(tickets)
    claimed = await tickets.claim(ticket_id, "amy")
    assert (claimed.status, claimed.claimed_by) == ("claimed", "amy")
    assert (await tickets.claim(ticket_id, "amy")).claimed_by == "amy"  # idempotent
    with pytest.raises(TicketConflict) as conflict:
        await tickets.claim(ticket_id, "bob")
    assert conflict.value.claimed_by == "amy"
    with pytest.raises(TicketConflict):
        await tickets.reply(ticket_id, "bob", "hi")
    with pytest.raises(TicketConflict):
        await tickets.close(ticket_id, "bob")
    with pytest.raises(TicketNotFound):
        await tickets.claim("12345", "amy")
    assert [t.id for t in await tickets.list("claimed")] == [ticket_id]
    assert await tickets.list("open") == []


async def test_concurrent_claims_have_one_winner(tickets: TicketStore) -> None:
    ticket_id = await _new(tickets)
    agents = [f"agent{n}" for n in range(8)]
    results = await asyncio.gather(
        *(tickets.claim(ticket_id, a) for a in agents), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, TicketConflict) for r in results if isinstance(r, BaseException))


async def test_messages_reply_and_close(tickets: TicketStore, clock: Clock) -> None:
    ticket_id = await _new(tickets)
    assert await tickets.add_user_message("telegram", "nobody", "hello") is None
    clock.advance(seconds=5)
    ticket = await tickets.add_user_message("telegram", "u1", "<b>在吗</b>")
    assert ticket is not None
    assert ticket.messages[-1].text == "<b>在吗</b>"
    clock.advance(seconds=5)
    ticket = await tickets.reply(ticket_id, "amy", "您好，我来看看")  # claims an open ticket
    assert ticket.status == "claimed"
    assert ticket.claimed_by == "amy"
    assert [(m.sender, m.text) for m in ticket.messages] == [
        ("user", "<b>在吗</b>"),
        ("staff:amy", "您好，我来看看"),
    ]
    assert ticket.messages[0].at < ticket.messages[1].at
    closed = await tickets.close(ticket_id, "amy")
    assert (closed.status, closed.closed_by) == ("closed", "amy")
    assert closed.closed_at == clock.now
    assert await tickets.open_ticket_for("telegram", "u1") is None
    with pytest.raises(TicketClosed):
        await tickets.claim(ticket_id, "amy")
    with pytest.raises(TicketClosed):
        await tickets.close(ticket_id, "amy")
    assert [t.id for t in await tickets.list("closed")] == [ticket_id]


async def test_closed_list_is_newest_first(tickets: TicketStore) -> None:
    ids = []
    for n in range(3):
        ticket_id = await _new(tickets, f"u{n}")
        await tickets.close(ticket_id, "amy")
        ids.append(ticket_id)
    assert [t.id for t in await tickets.list("closed")] == ids[::-1]
    assert [t.id for t in await tickets.list("closed", limit=2)] == ids[::-1][:2]


async def test_flags_fire_once(tickets: TicketStore) -> None:
    ticket_id = await _new(tickets)
    assert await tickets.mark_once(ticket_id, "announced")
    assert not await tickets.mark_once(ticket_id, "announced")
    assert await tickets.mark_once(ticket_id, "apologised")


async def test_window_and_quota(tickets: TicketStore, clock: Clock) -> None:
    window = await tickets.window("wechat", "o1")
    assert window.last_user_at is None
    assert not window.is_open(clock.now)
    with pytest.raises(WindowClosed):
        await tickets.reserve_message("wechat", "o1")
    await tickets.note_user_message("wechat", "o1")
    for n in range(1, QUOTA + 1):
        assert (await tickets.reserve_message("wechat", "o1")).sent == n
    with pytest.raises(QuotaUsed):
        await tickets.reserve_message("wechat", "o1")
    await tickets.release_message("wechat", "o1")
    assert (await tickets.window("wechat", "o1")).remaining(clock.now) == 1
    clock.advance(hours=1)
    await tickets.note_user_message("wechat", "o1")  # the user wrote again: the count restarts
    window = await tickets.window("wechat", "o1")
    assert window.sent == 0
    assert window.remaining(clock.now) == QUOTA
    clock.advance(hours=47, minutes=59)
    assert (await tickets.reserve_message("wechat", "o1")).sent == 1
    clock.advance(minutes=1)
    with pytest.raises(WindowClosed):
        await tickets.reserve_message("wechat", "o1")
    view = (await tickets.window("wechat", "o1")).to_dict(clock.now)
    assert view["open"] is False
    assert view["remaining"] == 0


async def test_forget_erases_tickets_and_window(tickets: TicketStore) -> None:
    ticket_id = await _new(tickets, "o9", "wechat")
    await tickets.add_user_message("wechat", "o9", "secret phone 138")
    await tickets.note_user_message("wechat", "o9")
    keep = await _new(tickets, "o8", "wechat")
    assert await tickets.forget("wechat", "o9") == 1
    assert await tickets.get(ticket_id) is None
    assert await tickets.open_ticket_for("wechat", "o9") is None
    assert (await tickets.window("wechat", "o9")).last_user_at is None
    assert [t.id for t in await tickets.list("open")] == [keep]


async def test_purge_erases_tickets_untouched_for_the_retention(
    tickets: TicketStore, clock: Clock
) -> None:
    closed = await _new(tickets, "o1", "wechat")
    await tickets.add_user_message("wechat", "o1", "我的工资 23456")
    await tickets.close(closed, "amy")
    abandoned = await _new(tickets, "o2", "wechat")  # open, nobody ever answered
    await tickets.note_user_message("wechat", "o2")
    clock.advance(days=100)
    recent = await _new(tickets, "o3", "wechat")
    await tickets.note_user_message("wechat", "o3")
    touched = await _new(tickets, "o4", "wechat")
    clock.advance(days=100)
    await tickets.add_user_message("wechat", "o4", "还在吗")  # changed since: kept
    before = await tickets.revision()

    assert await tickets.purge(clock() - timedelta(days=180)) == 2
    assert await tickets.get(closed) is None
    assert await tickets.get(abandoned) is None
    assert await tickets.open_ticket_for("wechat", "o2") is None
    assert await tickets.revision() > before
    assert {t.id for t in await tickets.list("open")} == {recent, touched}
    assert await tickets.list("closed") == []
    # The user whose ticket went can ask again; the others are as they were.
    assert await _new(tickets, "o2", "wechat") not in (abandoned, recent, touched)
    assert await tickets.purge(clock() - timedelta(days=180)) == 0


async def test_sqlite_tickets_share_the_bot_file_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    bot_store = SqliteStore(path)
    await bot_store.open()
    try:
        tickets = ticket_store_for(bot_store)
        assert isinstance(tickets, SqliteTickets)
        assert tickets.path == str(path)
        await tickets.connect()
        ticket_id = await _new(tickets)
        await tickets.disconnect()
        again = SqliteTickets(path)
        await again.connect()
        found = await again.get(ticket_id)
        assert found is not None
        assert found.status == "open"
        await again.disconnect()
        assert await bot_store.ping()
    finally:
        await bot_store.close()


async def test_redis_tickets_live_beside_the_redis_store(staff_redis: Any) -> None:
    store = RedisStore(staff_redis.url)
    await store.open()
    try:
        tickets = ticket_store_for(store)
        assert isinstance(tickets, RedisTickets)
        assert tickets.url == staff_redis.url
        assert tickets.prefix == "jifen:staff:"
    finally:
        await store.close()
