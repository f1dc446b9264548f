"""The Store contract (bot/store/base.py), written once for every backend.

A backend's test module subclasses `StoreContract` and provides two fixtures:
`store` (an opened, empty store) and `make_store` (an async factory taking `clock=`, for
the retention tests; the stores it makes are closed by the fixture).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.store.base import LockTimeout, Store, TranscriptLine, UserKey

ALICE = UserKey("wechat", "oAbC-123_openid")
BOB = UserKey("telegram", "424242")
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

MakeStore = Callable[..., Awaitable[Store]]


def lines(n: int, start: int = 0) -> list[TranscriptLine]:
    return [
        TranscriptLine(
            T0 + timedelta(seconds=i, microseconds=7), "user" if i % 2 else "bot", f"第{i}句 ✓"
        )
        for i in range(start, start + n)
    ]


class StoreContract:
    async def test_ping(self, store: Store) -> None:
        assert await store.ping() is True

    async def test_session_round_trip_and_overwrite(self, store: Store) -> None:
        assert await store.load_session(ALICE) is None
        state: dict[str, Any] = {
            "mode": "bot",
            "slots": {"证书": "电工（三级）", "n": [1, 2.5, None]},
        }
        await store.save_session(ALICE, state)
        assert await store.load_session(ALICE) == state
        await store.save_session(ALICE, {"mode": "handoff"})
        assert await store.load_session(ALICE) == {"mode": "handoff"}

    async def test_sessions_are_per_channel_and_user(self, store: Store) -> None:
        same_id_elsewhere = UserKey("telegram", ALICE.user)
        await store.save_session(ALICE, {"who": "alice"})
        await store.save_session(same_id_elsewhere, {"who": "other"})
        assert await store.load_session(ALICE) == {"who": "alice"}
        assert await store.load_session(same_id_elsewhere) == {"who": "other"}
        assert await store.load_session(BOB) is None

    async def test_delete_session_keeps_the_transcript(self, store: Store) -> None:
        await store.delete_session(ALICE)  # absent: no error
        await store.save_session(ALICE, {"a": 1})
        await store.append_transcript(ALICE, lines(2))
        await store.delete_session(ALICE)
        assert await store.load_session(ALICE) is None
        assert len(await store.transcript(ALICE)) == 2  # kept for staff

    async def test_transcript_order_limit_and_fields(self, store: Store) -> None:
        assert await store.transcript(ALICE) == []
        await store.append_transcript(ALICE, lines(3))
        await store.append_transcript(ALICE, [])
        await store.append_transcript(ALICE, lines(4, start=3))
        got = await store.transcript(ALICE)
        assert got == lines(7)  # times exact to the microsecond, text and sender intact
        assert all(line.at.tzinfo is not None for line in got)
        assert await store.transcript(ALICE, limit=2) == lines(2, start=5)  # latest, in order
        assert await store.transcript(ALICE, limit=0) == []
        assert await store.transcript(BOB) == []

    async def test_forget_erases_only_that_user(self, store: Store) -> None:
        for key in (ALICE, BOB):
            await store.save_session(key, {"k": str(key)})
            await store.append_transcript(key, lines(2))
        await store.forget(ALICE)
        assert await store.load_session(ALICE) is None
        assert await store.transcript(ALICE) == []
        assert await store.load_session(BOB) == {"k": str(BOB)}
        assert len(await store.transcript(BOB)) == 2
        await store.forget(ALICE)  # twice: no error

    async def test_purge_by_last_touch(self, make_store: MakeStore) -> None:
        now = [T0]
        store = await make_store(clock=lambda: now[0])
        await store.save_session(ALICE, {"a": 1})
        await store.append_transcript(ALICE, lines(3))  # 1 session + 3 lines = 4 rows
        now[0] = T0 + timedelta(days=10)
        await store.save_session(BOB, {"b": 1})
        assert await store.purge(T0 - timedelta(seconds=1)) == 0
        assert await store.purge(T0 + timedelta(days=1)) == 4
        assert await store.load_session(ALICE) is None
        assert await store.transcript(ALICE) == []
        assert await store.load_session(BOB) == {"b": 1}
        assert await store.purge(T0 + timedelta(days=1)) == 0

    async def test_purge_counts_touch_from_any_write(self, make_store: MakeStore) -> None:
        now = [T0]
        store = await make_store(clock=lambda: now[0])
        await store.save_session(ALICE, {"a": 1})
        now[0] = T0 + timedelta(days=5)
        await store.append_transcript(ALICE, lines(1))  # a later write renews the user
        assert await store.purge(T0 + timedelta(days=1)) == 0
        assert await store.load_session(ALICE) == {"a": 1}

    async def test_lock_excludes_and_times_out(self, store: Store) -> None:
        async with store.lock(ALICE):
            with pytest.raises(LockTimeout):
                async with store.lock(ALICE, timeout=0.2):
                    pytest.fail("entered a held lock")
            async with store.lock(BOB, timeout=0.2):  # another user is not blocked
                pass
        async with store.lock(ALICE, timeout=0.2):  # free again
            pass

    async def test_lock_is_released_when_the_body_fails(self, store: Store) -> None:
        with pytest.raises(RuntimeError, match="boom"):
            async with store.lock(ALICE):
                raise RuntimeError("boom")
        async with store.lock(ALICE, timeout=0.2):
            pass

    async def test_lock_waiters_take_turns(self, store: Store) -> None:
        inside: list[int] = []
        order: list[int] = []

        async def worker(i: int) -> None:
            async with store.lock(ALICE, timeout=10):
                inside.append(i)
                assert len(inside) == 1, "two holders at once"
                await asyncio.sleep(0.01)
                order.append(i)
                inside.remove(i)

        await asyncio.gather(*(worker(i) for i in range(8)))
        assert sorted(order) == list(range(8))

    async def test_claim_once(self, store: Store) -> None:
        assert await store.claim_once("wx", "1001", ttl=30) is True
        assert await store.claim_once("wx", "1001", ttl=30) is False
        assert await store.claim_once("tg", "1001", ttl=30) is True  # namespaces are separate
        assert await store.claim_once("wx", "1002", ttl=30) is True

    async def test_claim_expires(self, store: Store) -> None:
        assert await store.claim_once("wx", "9", ttl=0.15) is True
        await asyncio.sleep(0.3)
        assert await store.claim_once("wx", "9", ttl=0.15) is True

    async def test_result_for_retries(self, store: Store) -> None:
        assert await store.get_result("wx", "7") is None
        assert await store.claim_once("wx", "7", ttl=30)
        assert await store.get_result("wx", "7") is None  # claimed, still being answered
        await store.set_result("wx", "7", "<xml>答复</xml>", ttl=30)
        assert await store.get_result("wx", "7") == "<xml>答复</xml>"
        assert await store.claim_once("wx", "7", ttl=30) is False  # answered: still a duplicate
        await store.set_result("wx", "8", "", ttl=30)
        assert await store.get_result("wx", "8") == ""  # an empty answer is an answer

    async def test_result_expires(self, store: Store) -> None:
        await store.claim_once("wx", "5", ttl=30)
        await store.set_result("wx", "5", "ok", ttl=0.15)
        await asyncio.sleep(0.3)
        assert await store.get_result("wx", "5") is None

    async def test_kv(self, store: Store) -> None:
        assert await store.kv_get("wx:token") is None
        await store.kv_set("wx:token", "abc")
        assert await store.kv_get("wx:token") == "abc"
        await store.kv_set("wx:token", "def", ttl=60)
        assert await store.kv_get("wx:token") == "def"
        await store.kv_delete("wx:token")
        await store.kv_delete("wx:token")  # absent: no error
        assert await store.kv_get("wx:token") is None

    async def test_kv_ttl(self, store: Store) -> None:
        await store.kv_set("a", "1", ttl=0.15)
        await asyncio.sleep(0.3)
        assert await store.kv_get("a") is None
        await store.kv_set("b", "1", ttl=0.15)
        await store.kv_set("b", "2")  # without ttl: kept for good, the old ttl is dropped
        await asyncio.sleep(0.3)
        assert await store.kv_get("b") == "2"

    async def test_kv_set_if_absent(self, store: Store) -> None:
        assert await store.kv_set_if_absent("refresh", "w1", ttl=0.15) is True
        assert await store.kv_set_if_absent("refresh", "w2", ttl=0.15) is False
        assert await store.kv_get("refresh") == "w1"
        await asyncio.sleep(0.3)
        assert await store.kv_set_if_absent("refresh", "w2") is True
        assert await store.kv_get("refresh") == "w2"

    # The inbox. Items become takeable once the lease given to `inbox_add` runs out, so the
    # tests add with lease 0 (due at once) unless the deadline is the point.

    async def test_inbox_take_counts_and_leases_again(self, store: Store) -> None:
        await store.inbox_add("telegram", "1", "u1", lease=0)
        assert await store.inbox_take("telegram", lease=1.0) == [("1", "u1", 1)]
        assert await store.inbox_take("telegram", lease=1.0) == []  # leased to the first taker
        await asyncio.sleep(1.2)
        assert await store.inbox_take("telegram", lease=30) == [("1", "u1", 2)]

    async def test_inbox_item_is_not_taken_before_its_lease_runs_out(self, store: Store) -> None:
        await store.inbox_add("telegram", "1", "u1", lease=1.0)
        assert await store.inbox_take("telegram", lease=30) == []
        await asyncio.sleep(1.2)
        assert await store.inbox_take("telegram", lease=30) == [("1", "u1", 1)]

    async def test_inbox_done_forgets_the_item(self, store: Store) -> None:
        await store.inbox_done("telegram", "absent")  # no error
        await store.inbox_add("telegram", "1", "u1", lease=0)
        await store.inbox_add("telegram", "2", "u2", lease=0)
        await store.inbox_done("telegram", "1")
        await store.inbox_done("telegram", "1")  # twice: no error
        assert await store.inbox_take("telegram", lease=0) == [("2", "u2", 1)]
        await store.inbox_done("telegram", "2")  # taken: done all the same
        assert await store.inbox_take("telegram", lease=0) == []
        await store.inbox_add("telegram", "2", "again", lease=0)  # a new item: counts afresh
        assert await store.inbox_take("telegram", lease=30) == [("2", "again", 1)]

    async def test_inbox_add_of_an_existing_item_changes_nothing(self, store: Store) -> None:
        await store.inbox_add("telegram", "1", "first", lease=0)
        assert await store.inbox_take("telegram", lease=1.0) == [("1", "first", 1)]
        await store.inbox_add("telegram", "1", "second", lease=0)  # would make it due at once
        assert await store.inbox_take("telegram", lease=30) == []
        await asyncio.sleep(1.2)
        assert await store.inbox_take("telegram", lease=30) == [("1", "first", 2)]

    async def test_inbox_take_oldest_deadline_first_up_to_limit(self, store: Store) -> None:
        # Deadline order z y x w differs from both the order of adding and the order of names;
        # 0.25 s apart, so that a slow add cannot swap two of them.
        for item, lease in (("x", 0.75), ("z", 0.25), ("y", 0.5), ("w", 1.0)):
            await store.inbox_add("telegram", item, f"body {item}", lease=lease)
        await asyncio.sleep(1.2)
        got = await store.inbox_take("telegram", lease=30, limit=3)
        assert got == [("z", "body z", 1), ("y", "body y", 1), ("x", "body x", 1)]
        assert await store.inbox_take("telegram", lease=30, limit=3) == [("w", "body w", 1)]

    async def test_inbox_concurrent_takes_never_share_an_item(self, make_store: MakeStore) -> None:
        a, b = await make_store(), await make_store()  # two workers on one store
        for i in range(20):
            await a.inbox_add("telegram", str(i), f"u{i}", lease=0)
        takes = [w.inbox_take("telegram", lease=30, limit=7) for w in (a, b, a, b)]
        taken = [item for got in await asyncio.gather(*takes) for item, _, _ in got]
        assert sorted(taken, key=int) == [str(i) for i in range(20)]  # each exactly once

    async def test_inbox_channels_are_separate(self, store: Store) -> None:
        await store.inbox_add("telegram", "1", "tg 1", lease=0)
        await store.inbox_add("telegram", "2", "tg 2", lease=0)
        await store.inbox_add("wechat", "1", "wx 1", lease=0)  # same item id, other channel
        await store.inbox_add("wechat", "1", "wx 1 again", lease=0)
        await store.inbox_done("wechat", "2")  # only telegram has a "2"
        got = await store.inbox_take("telegram", lease=30)
        assert sorted(got) == [("1", "tg 1", 1), ("2", "tg 2", 1)]
        assert await store.inbox_take("wechat", lease=30) == [("1", "wx 1", 1)]

    async def test_inbox_bodies_round_trip_exactly(self, store: Store) -> None:
        update = {"message": {"chat": {"id": 42}, "text": '电工证 "三级"\\怎么考？👍🏽\n🎉'}}
        bodies = {
            "json": json.dumps(update, ensure_ascii=False),
            "escaped": json.dumps(update),
            "plain": "您好，请问 <b>报名</b> 'when' & 🧑‍🔧",
        }
        for item, body in bodies.items():
            await store.inbox_add("telegram", item, body, lease=0)
        got = await store.inbox_take("telegram", lease=30)
        assert {item: body for item, body, _ in got} == bodies
        assert all(type(i) is str and type(b) is str and type(n) is int for i, b, n in got)
