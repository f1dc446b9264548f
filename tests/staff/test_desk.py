"""The handoff in the conversation: the real engine and service with the desk attached."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import redis
from auxil.conversation import engine, ticking_clock

from bot.dialog.replies import Reply
from bot.service import Service
from bot.staff.actions import StaffActions
from bot.staff.desk import HandoffDesk
from bot.staff.relay import Relay
from bot.staff.texts import StaffTexts, load_staff_texts
from bot.staff.watch import Watcher
from bot.store.base import Store, UserKey
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from bot.store.tickets import TicketStore, WindowClosed, ticket_store_for


class FakeOut:
    """An outbound channel that records what it was asked to send."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.turns: list[tuple[str, list[Reply]]] = []
        self.refuse: Exception | None = None

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send_text(self, user: str, text: str) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.texts.append((user, text))

    async def deliver(self, user: str, replies: Sequence[Reply]) -> None:
        self.turns.append((user, list(replies)))


class Desk:
    def __init__(self, service: Service, tickets: TicketStore, texts: StaffTexts) -> None:
        self.service = service
        self.tickets = tickets
        self.texts = texts
        self.out = FakeOut()
        assert service.desk is not None
        self.desk: HandoffDesk = service.desk  # type: ignore[assignment]
        self.actions = StaffActions(tickets, Relay({"telegram": self.out}), self.desk, texts)

    async def say(self, text: str, user: str = "42", channel: str = "telegram") -> str:
        return "\n".join(r.text for r in await self.service.handle(channel, user, text))


@pytest.fixture(params=["sqlite", "redis"])
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Desk]:
    store: Store
    if request.param == "sqlite":
        store = SqliteStore(tmp_path / "bot.sqlite3")
    else:
        server = request.getfixturevalue("staff_redis")
        with redis.Redis.from_url(server.url) as admin:
            admin.flushall()
        store = RedisStore(server.url)
    await store.open()
    service = Service(store, engine(), clock=ticking_clock())
    tickets = ticket_store_for(store)
    await tickets.connect()
    texts = load_staff_texts()
    service.attach_handoff(HandoffDesk(tickets, texts, "周一至周五 9:00–17:30"))
    yield Desk(service, tickets, texts)
    await tickets.disconnect()
    await store.close()


async def test_asking_for_a_person_opens_one_ticket_and_pauses_the_bot(desk: Desk) -> None:
    assert "一级建造师" in await desk.say("一建")
    answer = await desk.say("人工")
    assert "已通知同事" in answer
    assert "周一至周五 9:00–17:30" in answer  # the hours, told once
    [ticket] = await desk.tickets.list("open")
    assert (ticket.channel, ticket.user, ticket.reason) == ("telegram", "42", "asked")
    assert [m.text for m in ticket.transcript if m.sender == "user"] == ["一建", "人工"]
    assert ticket.slots["certificate"]["entry_id"] == "qual.constructor-1"
    assert ticket.assessment[0]["name"] == "一级建造师"
    assert ticket.assessment[0]["conditions"]
    # While the ticket is open the bot stays silent and passes everything on.
    assert await desk.say("是") == ""
    assert await desk.say("人工") == ""
    assert await desk.say("<script>alert(1)</script>") == ""
    [ticket] = await desk.tickets.list("open")
    assert [m.text for m in ticket.messages] == ["是", "人工", "<script>alert(1)</script>"]
    assert "周一至周五" not in await desk.say("还在吗")


async def test_cancel_returns_to_the_bot_and_closes_the_ticket(desk: Desk) -> None:
    await desk.say("一建")
    await desk.say("转人工")
    answer = await desk.say("取消人工")
    assert "回到机器人" in answer
    assert "1. 是" not in answer  # Telegram renders choices as buttons, not in the text
    [ticket] = await desk.tickets.list("closed")
    assert ticket.closed_by == "user"
    assert "岗位" in await desk.say("是")


async def test_two_unclear_answers_then_accepting_the_offer(desk: Desk) -> None:
    await desk.say("一建")
    await desk.say("嗯？？什么意思")
    offer = await desk.service.handle("telegram", "42", "完全不懂")
    assert any(c.value == "/human" for r in offer for c in r.choices)
    await desk.say("/human")
    [ticket] = await desk.tickets.list("open")
    assert ticket.reason == "unclear"


async def test_waiting_is_acknowledged(desk: Desk) -> None:
    await desk.say("人工")
    assert "继续为你等待" in await desk.say("继续等待")


async def test_a_message_run_again_during_a_handoff_gets_its_whole_answer_once(
    desk: Desk,
) -> None:
    # Run again under the same id (a WeChat retry at another worker, a Telegram update from
    # the inbox): the same answer, the desk's lines included, and nothing done twice.
    def handle(text: str, once: str) -> Any:
        return desk.service.handle("wechat", "oW9", text, once=once)

    asked = await handle("人工", "m1")
    assert "周一至周五 9:00–17:30" in "\n".join(r.text for r in asked)
    assert await handle("人工", "m1") == asked
    waiting = await handle("继续等待", "m2")
    assert "继续为你等待" in "\n".join(r.text for r in waiting)
    assert await handle("继续等待", "m2") == waiting
    [ticket] = await desk.tickets.list("open")
    assert [m.text for m in ticket.messages] == ["继续等待"]


async def test_staff_reply_and_close_hand_the_user_back(desk: Desk) -> None:
    await desk.say("一建")
    await desk.say("人工")
    [ticket] = await desk.tickets.list("open")
    replied = await desk.actions.reply(ticket.id, "amy", "您好，我是小李")
    assert replied.claimed_by == "amy"
    assert desk.out.texts == [("42", "【人工客服】您好，我是小李")]
    lines = await desk.service.store.transcript(UserKey("telegram", "42"))
    assert ("staff:amy", "您好，我是小李") in [(ln.sender, ln.text) for ln in lines]
    closed = await desk.actions.close(ticket.id, "amy")
    assert closed.handback_problem is None
    [(user, turn)] = desk.out.turns
    assert user == "42"
    assert turn[0].text == desk.texts("handoff.closed")
    assert any(r.choices for r in turn)  # the bot asks its question again, with its buttons
    assert "岗位" in await desk.say("是")


async def test_a_failed_send_records_nothing(desk: Desk) -> None:
    await desk.say("人工")
    [ticket] = await desk.tickets.list("open")
    desk.out.refuse = WindowClosed("too late")
    with pytest.raises(WindowClosed):
        await desk.actions.reply(ticket.id, "amy", "hello")
    fresh = await desk.tickets.get(ticket.id)
    assert fresh is not None
    assert fresh.messages == ()


async def test_a_ticket_closed_without_handback_lets_the_bot_answer_again(desk: Desk) -> None:
    await desk.say("人工")
    [ticket] = await desk.tickets.list("open")
    await desk.tickets.close(ticket.id, "amy")  # e.g. the handback message was lost
    assert "一级建造师" in await desk.say("一建")


async def test_wechat_messages_open_the_customer_service_window(desk: Desk) -> None:
    await desk.say("你好", user="oWx1", channel="wechat")
    window = await desk.tickets.window("wechat", "oWx1")
    assert window.last_user_at is not None
    assert (await desk.tickets.window("telegram", "42")).last_user_at is None


async def test_unclaimed_ticket_gets_one_apology_with_the_choice(desk: Desk) -> None:
    await desk.say("人工")
    watcher = Watcher(
        desk.tickets,
        Relay({"telegram": desk.out}),
        desk.service.store,
        desk.texts,
        timeout=0.1,
    )
    await watcher.tick()
    assert desk.out.turns == []  # not late yet (the clock of the tickets is the wall clock)
    watcher.timeout = watcher.timeout * 0
    await watcher.tick()
    await watcher.tick()
    [(user, [apology])] = desk.out.turns
    assert user == "42"
    assert "抱歉" in apology.text
    assert [c.value for c in apology.choices] == ["继续等待", "取消人工"]
    assert "回到机器人" in await desk.say("取消人工")
