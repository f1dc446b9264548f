"""The real server app (bot.server.app.build_app: SQLite store, dialog engine, matcher) with
the Telegram channel on, reached over HTTP with real Update JSON; what the user sees is read
at the Bot API double."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.telegram.texts import load_telegram_texts
from bot.dialog.texts import Texts, load_texts
from bot.rules.ruleset import Ruleset, load_ruleset
from bot.server.app import build_app
from bot.server.wiring import make_matcher
from tests.auxil.live import serving
from tests.auxil.telegram_double import BotApiDouble, buttons
from tests.auxil.telegram_updates import UpdateFactory, put_back_in_inbox
from tests.telegram.support import Live

CHAT = 777123


@pytest.fixture(scope="module")
def rules() -> Ruleset:
    return load_ruleset()


@pytest.fixture(scope="module")
def matcher(rules: Ruleset) -> Any:
    return make_matcher(rules)  # built once: it is the slow part of build_app


@pytest.fixture(scope="module")
def texts() -> Texts:
    return load_texts()


@pytest.fixture
def live(tg_env: dict[str, str], tmp_path: Path, rules: Ruleset, matcher: Any) -> Iterator[Live]:
    env = {**tg_env, "JIFEN_STORE": f"sqlite:///{tmp_path / 'bot.sqlite3'}"}
    app = build_app(env, rules=rules, matcher=matcher)
    assert set(app.state.mounts) == {"telegram"}
    with serving(app) as server:
        yield Live(server.url)


def seen(double: BotApiDouble, chat_id: int = CHAT) -> list[tuple[str, list[str]]]:
    """What the user sees: each message's text (as it reads now) and its button labels."""
    out = []
    for call in double.sent(chat_id):
        message = double.message(chat_id, call.result["message_id"])
        out.append((message["text"], [label for label, _ in buttons(message)]))
    return out


async def turn(live: Live, double: BotApiDouble, update: dict[str, Any]) -> list[str]:
    """Deliver one update; the texts the bot sent in answer, once it has gone quiet."""
    before = len(double.sent(CHAT))
    assert (await live.post(update)).status_code == 200
    await double.wait_sent(before + 1, CHAT)
    while True:  # a turn may be several messages: wait until no more arrive
        count = len(double.sent(CHAT))
        await asyncio.sleep(0.25)
        if len(double.sent(CHAT)) == count:
            return double.texts(CHAT)[before:]


async def test_a_whole_conversation_with_buttons(
    live: Live, double: BotApiDouble, updates: UpdateFactory, texts: Texts
) -> None:
    greeting = await turn(live, double, updates.text(CHAT, "/start"))
    assert "\n".join(greeting).startswith(texts("greeting"))
    assert greeting[-1].endswith(texts("ask.certificate"))

    answer = await turn(live, double, updates.text(CHAT, "电工"))
    assert "电工" in answer[0]
    grade_question = double.last_message(CHAT)
    assert [label for label, _ in buttons(grade_question)] == [
        "一级/高级技师",
        "二级/技师",
        "三级/高级工",
        "四级/中级工",
        "五级/初级工",
        "不清楚",
    ]
    assert all(len(data.encode()) <= 64 for _, data in buttons(grade_question))

    # Press "三级/高级工": acknowledged, the question marked and its buttons gone.
    pressed = dict(buttons(grade_question))["三级/高级工"]
    kind_text = await turn(live, double, updates.press(grade_question, pressed))
    assert len(double.calls_of("answerCallbackQuery")) == 1
    marked = double.message(CHAT, grade_question["message_id"])
    assert marked["text"] == f"{grade_question['text']}\n\n✅ 三级/高级工"
    assert "reply_markup" not in marked

    kind_question = double.last_message(CHAT)
    assert [label for label, _ in buttons(kind_question)][:2] == [
        "国家职业资格证书",
        "职业技能等级证书",
    ]
    pressed = dict(buttons(kind_question))["国家职业资格证书"]
    shanghai = await turn(live, double, updates.press(kind_question, pressed))
    post = await turn(live, double, updates.text(CHAT, "是"))
    result = await turn(live, double, updates.text(CHAT, "是的"))

    assert len(kind_text) == len(shanghai) == len(post) == 1
    assert "上海" in shanghai[0]
    assert "岗位" in post[0]
    body = "\n".join(result)
    assert "【电工·三级（高级工）】" in body
    assert "60 分" in body
    assert result[-1] == texts("ask.another")
    assert [label for label, _ in buttons(double.last_message(CHAT))][:2] == ["再查一个", "不用了"]
    # Pressed questions lost their buttons; typed-over ones keep them (a press there is
    # answered as stale), and the last question offers its own.
    yes_no = ["是", "否", "不清楚"]
    assert [keys for _, keys in seen(double) if keys] == [
        yes_no,
        yes_no,
        [label for label, _ in buttons(double.last_message(CHAT))],
    ]
    assert all(call.ok for call in double.calls)


async def test_forged_secret_reaches_nothing(
    live: Live, double: BotApiDouble, updates: UpdateFactory
) -> None:
    response = await live.post(updates.text(CHAT, "/start"), secret="forged")
    assert response.status_code == 403
    await asyncio.sleep(0.3)
    assert double.sent() == []


async def test_a_repeated_update_advances_the_conversation_once(
    live: Live, double: BotApiDouble, updates: UpdateFactory
) -> None:
    await turn(live, double, updates.text(CHAT, "/start"))
    update = updates.text(CHAT, "电工")
    before = len(double.sent(CHAT))
    responses = await asyncio.gather(*(live.post(update) for _ in range(3)))
    assert [r.status_code for r in responses] == [200, 200, 200]
    await double.wait_sent(before + 2, CHAT)
    await asyncio.sleep(0.5)
    answered = double.texts(CHAT)[before:]
    assert len(answered) == 2  # "按【电工】来算" and the grade question, once
    assert "电工" in answered[0]
    # Telegram resending later (after a 5xx or a timeout) is dropped as well.
    assert (await live.post(update)).status_code == 200
    # The conversation moved once: the grade is asked, and "三级" answers it.
    next_question = await turn(live, double, updates.text(CHAT, "三级"))
    assert len(double.sent(CHAT)) == before + 3
    assert buttons(double.last_message(CHAT))[0][0] == "国家职业资格证书"
    assert len(next_question) == 1


async def test_a_429_on_the_way_still_delivers_everything_in_order(
    live: Live, double: BotApiDouble, updates: UpdateFactory, texts: Texts
) -> None:
    double.fail_next("sendMessage", status=429, retry_after=1)
    await live.post(updates.text(CHAT, "/start"))
    await live.post(updates.text(CHAT, "电工"))  # waits behind the first: same chat
    await double.wait_for(lambda d: bool(d.sent(CHAT)) and bool(buttons(d.last_message(CHAT))))
    await asyncio.sleep(0.3)
    sent = double.texts(CHAT)
    assert len(sent) == 4
    assert "\n".join(sent[:2]).startswith(texts("greeting"))
    assert sent[1].endswith(texts("ask.certificate"))
    assert "电工" in sent[2]
    assert "电工" in sent[3]  # the grade question, with its buttons
    refused = [c for c in double.calls if c.method == "sendMessage" and not c.ok]
    assert [(c.status, c.params["text"]) for c in refused] == [(429, sent[0])]


async def test_commands_act_like_the_conversation_words(
    live: Live, double: BotApiDouble, updates: UpdateFactory, texts: Texts
) -> None:
    await live.post(updates.text(CHAT, "/help"))
    await double.wait_for(lambda d: texts("help.general") in "\n".join(d.texts(CHAT)))
    await live.post(updates.text(CHAT, "电工"))
    await double.wait_for(lambda d: "电工" in d.texts(CHAT)[-1])
    await live.post(updates.text(CHAT, "/restart"))
    await double.wait_for(lambda d: texts("command.restart") in "\n".join(d.texts(CHAT)))
    await live.post(updates.text(CHAT, "/human"))
    await double.wait_for(lambda d: texts("command.human") in "\n".join(d.texts(CHAT)))


async def test_groups_get_nothing_and_stickers_photos_a_polite_answer(
    live: Live, double: BotApiDouble, updates: UpdateFactory, texts: Texts
) -> None:
    group = -1001234567
    await live.post(updates.text(group, "电工", "supergroup"))
    await live.post(updates.text(group, "/start", "group"))
    await turn(live, double, updates.text(CHAT, "/start"))
    sticker = await turn(live, double, updates.sticker(CHAT))
    assert sticker[0].startswith(texts("input.sticker"))
    assert sticker[-1].endswith(texts("ask.certificate"))  # and the question again
    photo = await turn(live, double, updates.photo(CHAT))
    assert photo[0].startswith(texts("input.media"))
    voice = await turn(live, double, updates.voice(CHAT))
    assert texts("input.media") in "\n".join(voice)
    assert double.sent(group) == []


async def run_again(
    tmp_path: Path, double: BotApiDouble, update: dict[str, Any], count: int
) -> list[str]:
    """Put `update` back in the `live` app's inbox; the texts the bot sends when it runs it
    again (`count` messages, and nothing more within half a second)."""
    before = len(double.sent(CHAT))
    put_back_in_inbox(tmp_path / "bot.sqlite3", update)
    await double.wait_sent(before + count, CHAT)
    await asyncio.sleep(0.5)
    return double.texts(CHAT)[before:]


@pytest.fixture
def quick_inbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """Taken before `live` builds the app: the inbox looks every 50 ms."""
    from bot.channels.telegram import inbox

    monkeypatch.setattr(inbox, "EVERY", 0.05)


async def test_an_update_run_again_gets_the_same_answer_and_moves_nothing_twice(
    quick_inbox: None,
    live: Live,
    double: BotApiDouble,
    updates: UpdateFactory,
    tmp_path: Path,
) -> None:
    await turn(live, double, updates.text(CHAT, "/start"))
    update = updates.text(CHAT, "电工")
    answer = await turn(live, double, update)
    # Its worker died after the turn was saved and answered, before the update was taken out
    # of the inbox: another worker finds it due and runs it again.
    again = await run_again(tmp_path, double, update, len(answer))
    assert again == answer  # the same answer, not "电工" to the next step
    # And the conversation is where one run of that update left it: at the grade question.
    await turn(live, double, updates.text(CHAT, "3"))  # 三级/高级工
    assert "国家职业资格证书" in [label for label, _ in buttons(double.last_message(CHAT))]


async def test_a_button_press_run_again_gets_its_answer_not_a_stale_notice(
    quick_inbox: None,
    live: Live,
    double: BotApiDouble,
    updates: UpdateFactory,
    tmp_path: Path,
) -> None:
    await turn(live, double, updates.text(CHAT, "/start"))
    await turn(live, double, updates.text(CHAT, "电工"))
    grade_question = double.last_message(CHAT)
    press = updates.press(grade_question, dict(buttons(grade_question))["三级/高级工"])
    answer = await turn(live, double, press)
    # Its worker died after the turn was saved, before the update left the inbox: another
    # worker runs the same press again, by now on a keyboard that is gone.
    again = await run_again(tmp_path, double, press, len(answer))
    assert again == answer  # the answer again, no "button expired"
    notices = [call.params.get("text") for call in double.calls_of("answerCallbackQuery")]
    assert load_telegram_texts()["stale_button"] not in notices
    # The conversation moved on once: the kind question (asked again) takes its button.
    kind_question = double.last_message(CHAT)
    pressed = dict(buttons(kind_question))["国家职业资格证书"]
    shanghai = await turn(live, double, updates.press(kind_question, pressed))
    assert "上海" in shanghai[0]
