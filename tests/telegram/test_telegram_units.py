"""The channel's pure parts: settings, text splitting, button data, its texts file, ordering."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Chat, InlineKeyboardMarkup, Message, Update
from telegram.error import RetryAfter

from bot.channels.telegram.keyboard import callback_data, keyboard, pressed_text
from bot.channels.telegram.mount import from_env
from bot.channels.telegram.ordering import PerChatOrder
from bot.channels.telegram.sender import retry_seconds, split_text, utf16_len
from bot.channels.telegram.settings import DEFAULT_API_BASE, TelegramSettings
from bot.channels.telegram.texts import load_telegram_texts
from bot.dialog.replies import Choice
from bot.errors import ConfigError, DialogDataError
from tests.auxil.memstore import MemoryStore
from tests.telegram.fakes import ScriptedService

GOOD = {"JIFEN_TELEGRAM_TOKEN": "123:abc_DEF-9", "JIFEN_TELEGRAM_SECRET": "x" * 256}


def test_settings_absent_token_means_channel_off() -> None:
    assert TelegramSettings.from_env({}, need_secret=True) is None
    assert TelegramSettings.from_env({"JIFEN_TELEGRAM_TOKEN": "  "}, need_secret=True) is None
    assert from_env({}, ScriptedService(), MemoryStore()) is None


def test_settings_defaults_and_repr_hides_secrets() -> None:
    settings = TelegramSettings.from_env(GOOD, need_secret=True)
    assert settings is not None
    assert settings.api_base == DEFAULT_API_BASE
    assert "abc_DEF" not in repr(settings)
    assert "xxx" not in repr(settings)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"JIFEN_TELEGRAM_SECRET": ""}, "JIFEN_TELEGRAM_SECRET is required"),
        ({"JIFEN_TELEGRAM_SECRET": "x" * 257}, "JIFEN_TELEGRAM_SECRET: expected 1-256"),
        ({"JIFEN_TELEGRAM_SECRET": "秘密"}, "JIFEN_TELEGRAM_SECRET: expected 1-256"),
        ({"JIFEN_TELEGRAM_SECRET": "a+b"}, "JIFEN_TELEGRAM_SECRET: expected 1-256"),
        ({"JIFEN_TELEGRAM_TOKEN": "abc"}, "JIFEN_TELEGRAM_TOKEN: expected a bot token"),
        ({"JIFEN_TELEGRAM_API_BASE": "ftp://x/bot"}, "JIFEN_TELEGRAM_API_BASE: expected"),
    ],
)
def test_settings_malformed_values_stop_start_up(change: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TelegramSettings.from_env({**GOOD, **change}, need_secret=True)
    with pytest.raises(ConfigError, match=message.split(":")[0]):
        from_env({**GOOD, **change}, ScriptedService(), MemoryStore())


def test_polling_needs_no_secret() -> None:
    env = {"JIFEN_TELEGRAM_TOKEN": GOOD["JIFEN_TELEGRAM_TOKEN"]}
    settings = TelegramSettings.from_env(env, need_secret=False)
    assert settings is not None
    assert settings.secret is None


@pytest.mark.parametrize(
    ("text", "limit", "pieces"),
    [
        ("短", 10, ["短"]),
        ("", 10, []),
        ("\n \n", 10, []),
        ("aaa\nbbb\nccc", 7, ["aaa\nbbb", "ccc"]),
        ("aaaa\nbb", 4, ["aaaa", "bb"]),
        ("x" * 9, 4, ["xxxx", "xxxx", "x"]),
        ("ab\n" + "y" * 6 + "\ncd", 4, ["ab", "yyyy", "yy", "cd"]),
        ("😀😀😀", 4, ["😀😀", "😀"]),  # Telegram counts UTF-16 units: an emoji is two
    ],
)
def test_split_text(text: str, limit: int, pieces: list[str]) -> None:
    assert split_text(text, limit) == pieces


def test_split_text_keeps_every_line_of_a_long_reply() -> None:
    lines = [f"{n:04d} " + "积分" * 30 for n in range(400)]
    pieces = split_text("\n".join(lines))
    assert all(utf16_len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces).split("\n") == lines


def test_retry_after_in_seconds_either_shape() -> None:
    assert retry_seconds(RetryAfter(7)) == 7.0


def test_callback_data_fits_64_bytes() -> None:
    short = Choice("三级/高级工", "level-3")
    long = Choice("很长", "证" * 30)  # 90 bytes in UTF-8
    assert callback_data(0, short) == "v:level-3"
    assert callback_data(4, long) == "i:4"
    markup = keyboard([short, long])
    assert isinstance(markup, InlineKeyboardMarkup)
    assert keyboard([]) is None
    message = Message(1, _date(), Chat(5, "private"), text="?", reply_markup=markup)
    assert pressed_text("v:level-3", message) == "level-3"
    assert pressed_text("i:1", message) == "很长"
    for unreadable in (None, "", "v:", "i:9", "i:x", "zz"):
        assert pressed_text(unreadable, message) is None


def test_texts_file_missing_key_or_placeholder_fails_loudly(tmp_path: Path) -> None:
    assert load_telegram_texts()["chosen"].format(label="是")
    path = tmp_path / "telegram.yaml"
    path.write_text("busy: 忙\nchosen: '{label}'\n", encoding="utf-8")
    with pytest.raises(DialogDataError, match="stale_button"):
        load_telegram_texts(path)
    path.write_text("busy: 忙\nchosen: '{choice}'\nstale_button: 旧\n", encoding="utf-8")
    with pytest.raises(DialogDataError, match="placeholder"):
        load_telegram_texts(path)


async def test_per_chat_order_serialises_a_chat_and_not_the_others() -> None:
    processor = PerChatOrder(8)
    log: list[str] = []
    gate = asyncio.Event()

    async def work(name: str, wait: bool) -> None:
        log.append(f"{name}+")
        if wait:
            await gate.wait()
        log.append(f"{name}-")

    def update(chat_id: int) -> Update:
        return Update(1, message=Message(1, _date(), Chat(chat_id, "private"), text="x"))

    first = asyncio.create_task(processor.process_update(update(1), work("a1", True)))
    second = asyncio.create_task(processor.process_update(update(1), work("a2", False)))
    other = asyncio.create_task(processor.process_update(update(2), work("b1", False)))
    await asyncio.sleep(0.05)
    assert log == ["a1+", "b1+", "b1-"]  # chat 2 was not held up by chat 1
    gate.set()
    await asyncio.gather(first, second, other)
    assert log[3:] == ["a1-", "a2+", "a2-"]
    assert processor._locks == {}  # no lock kept for idle chats


def _date() -> datetime:
    return datetime(2026, 11, 22, tzinfo=UTC)


@given(st.text(alphabet=st.sampled_from("ab积分😀 \n\r"), max_size=300), st.integers(2, 40))
def test_split_text_property(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(0 < utf16_len(p) <= limit and p.strip() for p in pieces)
    assert re.sub(r"\s", "", "".join(pieces)) == re.sub(r"\s", "", text)


def test_mount_summary_names_the_route_and_hides_the_token() -> None:
    mount = from_env(GOOD, ScriptedService(), MemoryStore())
    assert mount is not None
    assert mount.name == "telegram"
    assert [getattr(r, "path", None) for r in mount.routes] == ["/telegram"]
    assert mount.summary() == f"webhook POST /telegram, Bot API {DEFAULT_API_BASE}"
