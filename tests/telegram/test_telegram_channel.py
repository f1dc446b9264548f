"""The channel's own behaviour over real HTTP, with a scripted service: the webhook's guards,
buttons, commands, non-text messages, groups, failures and rate limits."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.channels.telegram.mount import from_env
from bot.channels.telegram.sender import Sender
from bot.dialog.replies import Choice, Reply
from tests.auxil.memstore import MemoryStore
from tests.auxil.telegram_double import BotApiDouble, buttons
from tests.auxil.telegram_updates import UpdateFactory
from tests.telegram.fakes import ScriptedService
from tests.telegram.support import Live

CHAT = 555001


async def test_forged_or_missing_secret_is_refused_and_nothing_runs(
    scripted: Live, double: BotApiDouble, updates: UpdateFactory, service: ScriptedService
) -> None:
    forged = await scripted.post(updates.text(CHAT, "一建"), secret="s3cret-Token_for-testX")
    missing = await scripted.post(updates.text(CHAT, "一建"), secret=None)
    assert (forged.status_code, missing.status_code) == (403, 403)
    await asyncio.sleep(0.3)
    assert service.received == []
    assert double.sent() == []


async def test_unreadable_bodies_get_400(scripted: Live, service: ScriptedService) -> None:
    for body in (b"{not json", b"\xff\xfe", b"[1, 2]", b'{"update_id": "7"}', b'{"message": {}}'):
        response = await scripted.post(body)
        assert response.status_code == 400, body
    broken = {"update_id": 9, "message": {"text": "no chat, no date"}}
    assert (await scripted.post(broken)).status_code == 400
    assert service.received == []


async def test_the_webhook_answers_at_once_and_works_in_the_background(
    scripted: Live, double: BotApiDouble, updates: UpdateFactory, service: ScriptedService
) -> None:
    service.delay = 1.5
    started = time.monotonic()
    response = await scripted.post(updates.text(CHAT, "一建"))
    assert response.status_code == 200
    assert time.monotonic() - started < 0.5
    await double.wait_sent(2, CHAT)
    assert time.monotonic() - started >= 1.5


async def test_same_update_twice_is_processed_once(
    scripted: Live, double: BotApiDouble, updates: UpdateFactory, service: ScriptedService
) -> None:
    update = updates.text(CHAT, "一建")
    first, again = await scripted.post(update), await scripted.post(update)
    assert (first.status_code, again.status_code) == (200, 200)
    await double.wait_sent(2, CHAT)
    await asyncio.sleep(0.3)
    assert service.received == [("telegram", str(CHAT), "一建")]
    assert double.texts(CHAT) == ["收到：一建", "请选择："]


async def test_button_press_acts_as_typed_and_is_acknowledged(
    scripted: Live, double: BotApiDouble, updates: UpdateFactory, service: ScriptedService
) -> None:
    await scripted.post(updates.text(CHAT, "电工"))
    await double.wait_sent(2, CHAT)
    question = double.last_message(CHAT)
    assert buttons(question) == [("选项一", "v:one"), ("很长的选项", "i:1")]
    # A value too long for callback_data comes back as the button's label.
    await scripted.post(updates.press(question, "i:1"))
    await double.wait_sent(4, CHAT)
    assert service.received[-1] == ("telegram", str(CHAT), "很长的选项")
    assert [c.method for c in double.calls if c.method != "getMe"] == [
        "sendMessage",
        "sendMessage",
        "answerCallbackQuery",
        "editMessageText",
        "sendMessage",
        "sendMessage",
    ]
    edited = double.message(CHAT, question["message_id"])
    assert edited["text"] == "请选择：\n\n✅ 很长的选项"
    assert "reply_markup" not in edited
    # The newest keyboard works by value.
    await scripted.post(updates.press(double.last_message(CHAT), "v:one"))
    await double.wait_sent(6, CHAT)
    assert service.received[-1][2] == "one"


async def test_old_or_repeated_button_press_is_answered_as_stale(
    scripted: Live, double: BotApiDouble, updates: UpdateFactory, service: ScriptedService
) -> None:
    await scripted.post(updates.text(CHAT, "是否"))
    await double.wait_sent(2, CHAT)
    first, second = double.sent(CHAT)
    old = double.message(CHAT, first.result["message_id"])
    # Only the latest turn's last keyboard counts: the first question's buttons are stale.
    await scripted.post(updates.press(old, "v:yes"))
    await double.wait_for(lambda d: len(d.calls_of("answerCallbackQuery")) == 1)
    await asyncio.sleep(0.2)
    stale = double.calls_of("answerCallbackQuery")[0].params
    assert stale["text"].startswith("这个按钮已经失效")
    assert service.received == [("telegram", str(CHAT), "是否")]
    assert double.message(CHAT, old["message_id"]) == {
        **{k: v for k, v in old.items() if k != "reply_markup"},
        "edit_date": double.message(CHAT, old["message_id"])["edit_date"],
    }  # buttons gone, text untouched
    # A double tap on the latest keyboard: two updates, one answer.
    latest = double.last_message(CHAT)
    await scripted.post(updates.press(latest, "v:no"))
    await scripted.post(updates.press(latest, "v:no"))
    await double.wait_for(lambda d: len(d.calls_of("answerCallbackQuery")) == 3)
    await asyncio.sleep(0.3)
    assert [r[2] for r in service.received] == ["是否", "no"]
    assert double.message(CHAT, latest["message_id"])["text"] == "第二个问题？\n\n✅ 否"
    assert second.params["text"] == "第二个问题？"


async def test_commands_map_to_the_conversation_words(
    scripted: Live, double: BotApiDouble, updates: UpdateFactory, service: ScriptedService
) -> None:
    for text in ("/start", "/restart", "/human", "/help", f"/help@{'jifen_test_bot'}"):
        await scripted.post(updates.text(CHAT, text))
    await double.wait_sent(10, CHAT)
    assert [r[2] for r in service.received] == ["/start", "/restart", "/human", "/help", "/help"]


async def test_groups_get_nothing_and_media_gets_a_polite_text(
    scripted: Live, double: BotApiDouble, updates: UpdateFactory, service: ScriptedService
) -> None:
    group = -100200300
    for update in (
        updates.text(group, "一建", "supergroup"),
        updates.text(group, "/start", "group"),
        updates.sticker(group, "group"),
        updates.photo(group, "supergroup"),
    ):
        assert (await scripted.post(update)).status_code == 200
    for update in (updates.sticker(CHAT), updates.photo(CHAT), updates.voice(CHAT)):
        assert (await scripted.post(update)).status_code == 200
    await double.wait_sent(3, CHAT)
    await asyncio.sleep(0.3)
    assert double.sent(group) == []
    # Non-text goes to the dialog as such (it answers politely and asks again).
    assert [r[2] for r in service.received] == ["[Sticker]", "[photo] 我的证书", "[voice]"]
    assert service.kinds == ["sticker", "media", "media"]
    assert double.texts(CHAT) == ["抱歉，我暂时只能看懂文字消息。"] * 3


async def test_a_failing_service_gets_a_polite_busy_text(
    scripted: Live, double: BotApiDouble, updates: UpdateFactory, service: ScriptedService
) -> None:
    service.fail = True
    await scripted.post(updates.text(CHAT, "一建"))
    await double.wait_sent(1, CHAT)
    assert double.texts(CHAT) == ["抱歉，系统有点忙，请稍后再发一次。"]


async def test_429_is_waited_out_and_every_message_arrives_in_order(
    scripted: Live, double: BotApiDouble, updates: UpdateFactory, service: ScriptedService
) -> None:
    double.fail_next("sendMessage", status=429, retry_after=1)
    await scripted.post(updates.text(CHAT, "一建"))
    await scripted.post(updates.text(CHAT, "二建"))
    await double.wait_sent(4, CHAT)
    assert double.texts(CHAT) == ["收到：一建", "请选择：", "收到：二建", "请选择："]
    failed = [c for c in double.calls if c.status == 429]
    assert len(failed) == 1
    assert failed[0].params["text"] == "收到：一建"


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Sender, "backoff", 0.05)


@pytest.mark.usefixtures("quick_backoff")
async def test_server_errors_are_retried_a_bounded_number_of_times(
    scripted: Live, double: BotApiDouble, updates: UpdateFactory
) -> None:
    double.fail_next("sendMessage", status=500, times=2)
    await scripted.post(updates.text(CHAT, "一建"))
    await double.wait_sent(2, CHAT)
    assert double.texts(CHAT) == ["收到：一建", "请选择："]
    # Past the bound the message is given up (logged) and the next one still goes out.
    double.fail_next("sendMessage", status=502, times=5)
    await scripted.post(updates.text(CHAT, "再来"))
    await double.wait_sent(3, CHAT, within=20)
    assert double.texts(CHAT)[2:] == ["请选择："]
    assert len([c for c in double.calls if c.status == 502]) == 5


async def test_long_replies_are_split_at_line_boundaries(
    scripted: Live, double: BotApiDouble, updates: UpdateFactory, service: ScriptedService
) -> None:
    lines = [f"第{n}行：" + "积分" * 40 for n in range(120)]  # about 10 000 characters
    service.long_reply = "\n".join(lines)
    await scripted.post(updates.text(CHAT, "长"))
    await double.wait_sent(3, CHAT)
    await asyncio.sleep(0.2)
    pieces = double.texts(CHAT)
    assert len(pieces) == 3
    assert all(len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces).split("\n") == lines


async def test_store_down_makes_telegram_retry(
    scripted: Live, store: MemoryStore, updates: UpdateFactory
) -> None:
    store.healthy = False
    assert (await scripted.post(updates.text(CHAT, "一建"))).status_code == 503


async def test_deliver_sends_replies_from_outside_a_message(
    tg_env: dict[str, str], double: BotApiDouble, updates: UpdateFactory
) -> None:
    """The seam for staff answers (issue 7): the mount sends to a user by chat id, and the
    keyboard it sends becomes the one a press is accepted on."""
    store, service = MemoryStore(), ScriptedService()
    mount = from_env(tg_env, service, store)
    assert mount is not None
    await mount.startup()
    try:
        choices = (Choice("继续", "continue"),)
        await mount.deliver(str(CHAT), [Reply("同事：已核实。"), Reply("还有问题吗？", choices)])
        assert double.texts(CHAT) == ["同事：已核实。", "还有问题吗？"]
        question = double.last_message(CHAT)
        assert await store.kv_get(f"telegram:keyboard:{CHAT}") == str(question["message_id"])
    finally:
        await mount.shutdown()
