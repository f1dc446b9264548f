"""Unit tests of the pieces: splitting, parsing, crypto against the independent wire code,
and the shared access token across processes (two API clients on one store)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from auxil.live import serving
from auxil.memstore import MemoryStore
from auxil.wechat_double import APPID, SECRET, WeChatDouble
from auxil.wechat_wire import SafeModeWire, random_aes_key, text_xml
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.render import render_replies
from bot.channels.wechat.api import WeChatAPI, WeChatAPIError
from bot.channels.wechat.crypto import CryptoError, SafeMode, signature
from bot.channels.wechat.parse import Rejected, parse_message
from bot.channels.wechat.quota import CountedSender
from bot.channels.wechat.split import split_text
from bot.dialog.replies import Choice, Reply
from bot.server.settings import Secret
from bot.store.base import StoreError
from bot.store.cs_window import QUOTA, QuotaUsed

pieces = st.sampled_from(["积分", "证书。", "\n", "\n\n", "，", "a", " ", "！", "😀", "x" * 50])


@given(st.lists(pieces, max_size=400), st.integers(8, 300))
def test_split_parts_fit_and_lose_nothing(chunks: list[str], limit: int) -> None:
    text = "".join(chunks)
    parts = split_text(text, limit)
    assert all(0 < len(p.encode("utf-8")) <= limit for p in parts)
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )


def test_split_prefers_lines_then_sentences() -> None:
    line = "第一行说明。" * 10  # 180 bytes
    assert split_text(line + "\n" + line, 200) == [line, line]
    sentence = "这是一句话。" * 20  # 360 bytes, no line breaks
    parts = split_text(sentence, 200)
    assert all(p.endswith("。") for p in parts)
    assert split_text("短", 2048) == ["短"]
    assert split_text("   ", 2048) == []


def test_render_numbers_choices() -> None:
    replies = [Reply("好的。"), Reply("选一个：", (Choice("是", "yes"), Choice("否", "no")))]
    assert render_replies(replies) == "好的。\n\n选一个：\n1. 是\n2. 否"


def test_parse_text_and_dedupe_keys() -> None:
    msg = parse_message(text_xml("oA", "你好", 42, create_time=1_700_000_000).encode())
    assert (msg.msg_type, msg.from_user, msg.content, msg.dedupe_key) == (
        "text",
        "oA",
        "你好",
        "42",
    )
    with pytest.raises(Rejected):
        parse_message(b"<xml><MsgType>text</MsgType></xml>")


def test_safe_mode_round_trip_with_independent_wire() -> None:
    key = random_aes_key()
    ours = SafeMode("tok123", key, APPID)
    theirs = SafeModeWire(key, APPID, token="tok123")
    params, body = theirs.request("<xml><A>1</A></xml>")
    encrypt = body.decode().split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    inner = ours.decrypt(encrypt, params["msg_signature"], params["timestamp"], params["nonce"])
    assert inner == "<xml><A>1</A></xml>"
    reply = ours.encrypt("<xml><B>中文</B></xml>", "123", "1700000000")
    assert theirs.open_reply(reply.encode()) == "<xml><B>中文</B></xml>"
    with pytest.raises(CryptoError, match="AppId"):
        SafeMode("tok123", key, "wxsomeoneelse").decrypt(
            encrypt, params["msg_signature"], params["timestamp"], params["nonce"]
        )
    bad = signature("tok123", params["timestamp"], params["nonce"], encrypt[:-4] + "AAAA")
    with pytest.raises(CryptoError):
        ours.decrypt(encrypt[:-4] + "AAAA", bad, params["timestamp"], params["nonce"])


async def test_token_fetched_once_across_processes_sharing_the_store() -> None:
    double = WeChatDouble()
    with serving(double.app()) as live:
        store = MemoryStore()
        workers = [WeChatAPI(live.url, APPID, Secret(SECRET), store) for _ in range(4)]
        tokens = await asyncio.gather(*(w.access_token() for w in workers for _ in range(5)))
        assert set(tokens) == {"TOKEN-1"}
        assert double.tokens_issued == 1
        await asyncio.gather(*(w.send_text("oX", f"消息{n}") for n, w in enumerate(workers)))
        assert double.tokens_issued == 1
        assert len(double.sent) == 4
        # WeChat forgets the token: every worker sees 40001, yet only one refresh happens.
        double.expire_token()
        await asyncio.gather(*(w.send_text("oX", "再来") for w in workers))
        assert double.tokens_issued == 2
        assert len(double.sent) == 8
        wrong = WeChatAPI(live.url, APPID, Secret("wrong"), MemoryStore())
        with pytest.raises(WeChatAPIError) as info:
            await wrong.send_text("oX", "x")
        assert info.value.errcode == 40125
        assert "wrong" not in str(info.value)
        for w in [*workers, wrong]:
            await w.aclose()


async def test_unreachable_api_is_an_api_error() -> None:
    api = WeChatAPI("http://127.0.0.1:9", APPID, Secret(SECRET), MemoryStore(), timeout=2)
    began = time.monotonic()
    with pytest.raises(WeChatAPIError) as info:
        await api.send_text("oX", "x")
    assert info.value.errcode == -1
    assert SECRET not in str(info.value)
    assert time.monotonic() - began < 5
    await api.aclose()


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_text(self, openid: str, content: str) -> None:
        self.sent.append((openid, content))


class _Gated:
    def __init__(self) -> None:
        self.gate = asyncio.Event()

    async def handle(
        self, channel: str, user: str, text: str, *, once: str | None = None
    ) -> list[Reply]:
        await self.gate.wait()
        return [Reply(f"答：{text}")]

    async def forget(self, channel: str, user: str) -> None:
        return None


async def test_a_dropped_request_still_gets_its_answer_by_api() -> None:
    from bot.channels.texts import load_channel_texts
    from bot.channels.wechat.budget import Responder
    from bot.channels.wechat.dedupe import Dedupe
    from bot.channels.wechat.handler import TEXT_KEYS, Handler

    service, sender, store = _Gated(), _Recorder(), MemoryStore()
    responder = Responder(Handler(service, load_channel_texts(TEXT_KEYS)), Dedupe(store), sender, 4)
    msg = parse_message(text_xml("oDrop", "你好", 77).encode())
    request = asyncio.create_task(responder.respond(msg))
    await asyncio.sleep(0.05)
    request.cancel()  # WeChat hung up
    service.gate.set()
    await responder.drain(5)
    assert sender.sent == [("oDrop", "答：你好")]
    retry = await responder.respond(msg)
    assert retry.passive is None  # the answer went out by API; a retry must not repeat it


async def test_local_dedupe_lets_one_worker_deliver_a_late_answer(tmp_path: Path) -> None:
    """Two workers on one SQLite file: in time, each answers from its own memory and the
    session's record; once an answer has gone late, only the worker that recorded that first
    delivers it, and a retry anywhere answers `success`."""
    from bot.channels.wechat.dedupe import LocalDedupe, Outcome
    from bot.store.sqlite import SqliteStore

    a_store, b_store = SqliteStore(tmp_path / "d.db"), SqliteStore(tmp_path / "d.db")
    await a_store.open()
    await b_store.open()
    try:
        a, b = LocalDedupe(a_store), LocalDedupe(b_store)
        # In time: no store record, a retry on the same worker gets the answer from memory.
        assert await a.claim("m1")
        assert await a.publish("m1", Outcome("答复"))
        assert not await a.claim("m1")
        assert await a.wait("m1", 1) == Outcome("答复")
        assert await b_store.get_result("wechat", "m1") is None
        # Late on both workers (the retry reached b while a was still busy): one delivers.
        assert await a.claim("m2")
        assert await b.claim("m2")
        assert await a.publish("m2", Outcome(None))
        assert not await b.publish("m2", Outcome(None))
        # A third delivery, on a worker that never saw the message, answers `success`.
        c = LocalDedupe(b_store)
        assert not await c.claim("m2")
        assert await c.wait("m2", 1) == Outcome(None)
    finally:
        await a_store.close()
        await b_store.close()


async def test_local_dedupe_forgets_the_oldest_outcomes_past_its_bound() -> None:
    from bot.channels.wechat.dedupe import LocalDedupe, Outcome

    dedupe = LocalDedupe(MemoryStore(), keep=2)
    for key in ("k1", "k2", "k3"):
        assert await dedupe.claim(key)
        await dedupe.publish(key, Outcome(key))
    assert await dedupe.claim("k1")  # forgotten: the session's record answers it now
    assert not await dedupe.claim("k3")


class _Window:
    """The ticket store's window, as CountedSender sees it: a count up to 5."""

    def __init__(self, sent: int = 0) -> None:
        self.sent = sent

    async def reserve_message(self, channel: str, user: str) -> None:
        if self.sent >= QUOTA:
            raise QuotaUsed("5 sent")
        self.sent += 1

    async def release_message(self, channel: str, user: str) -> None:
        self.sent -= 1


class _API:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[str] = []

    async def send_text(self, openid: str, content: str) -> None:
        if self.fail:
            raise WeChatAPIError(45047, "out of response count limit")
        self.sent.append(content)


async def test_the_bots_own_sends_are_counted_and_a_refused_one_given_back() -> None:
    window, api = _Window(), _API()
    await CountedSender(api, window).send_text("oU", "一")
    assert (api.sent, window.sent) == (["一"], 1)
    refused = CountedSender(_API(fail=True), window)
    with pytest.raises(WeChatAPIError):
        await refused.send_text("oU", "二")
    assert window.sent == 1


async def test_a_count_that_says_no_does_not_hold_the_bots_answer_back() -> None:
    # Our count only knows what passed through it; WeChat's own verdict decides.
    window, api = _Window(sent=QUOTA), _API()
    await CountedSender(api, window).send_text("oU", "答案")
    assert (api.sent, window.sent) == (["答案"], QUOTA)


async def test_a_count_that_fails_does_not_lose_the_bots_answer() -> None:
    class Closed(_Window):
        async def reserve_message(self, channel: str, user: str) -> None:
            raise StoreError("the ticket store is not open")  # closed first on shutdown

    api = _API()
    await CountedSender(api, Closed()).send_text("oU", "答案")
    assert api.sent == ["答案"]
