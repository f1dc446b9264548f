"""Many users at once through one Service and one SQLite file: nobody's answers cross, and
one user's messages are handled one at a time even from two processes' worth of stores."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from auxil.conversation import engine, ticking_clock

from bot.service import Service
from bot.store.base import UserKey
from bot.store.sqlite import SqliteStore

# Each user walks a different path; the final answer tells which certificate they asked about.
SCRIPTS = [
    (["一建", "是", "是", "是", "8"], "现在可得：100 分"),
    (["电工三级", "1", "是", "是"], "现在可得：60 分"),
    (["二建"], "不计分"),
    (["高级工程师", "是", "是", "是", "15000"], "现在可得：140 分"),
    (["焊工", "4", "1", "1", "1"], "现在可得：30 分"),
]


async def _walk(service: Service, user: str, messages: list[str]) -> list[str]:
    said: list[str] = []
    for message in messages:
        replies = await service.handle("wechat", user, message)
        said.append("\n".join(r.text for r in replies))
        await asyncio.sleep(0)  # let other users in between every message
    return said


async def test_many_users_at_once_nothing_crossed(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "many.db")
    await store.open()
    try:
        service = Service(store, engine(), clock=ticking_clock())
        users = [(f"user{i}", SCRIPTS[i % len(SCRIPTS)]) for i in range(40)]
        results = await asyncio.gather(
            *(_walk(service, user, messages) for user, (messages, _) in users)
        )
        for (user, (messages, final)), said in zip(users, results, strict=True):
            assert final in said[-1], (user, said[-1])
            lines = await store.transcript(UserKey("wechat", user))
            assert [ln.text for ln in lines if ln.sender == "user"] == messages
            others = {m for _, (ms, _) in users for m in ms} - set(messages)
            assert not [ln for ln in lines if ln.sender == "user" and ln.text in others]
    finally:
        await store.close()


async def test_one_users_messages_are_handled_one_at_a_time(tmp_path: Path) -> None:
    # Two stores on one file stand for two worker processes receiving the same user's bursts.
    a, b = SqliteStore(tmp_path / "one.db"), SqliteStore(tmp_path / "one.db")
    await a.open()
    await b.open()
    try:
        clock = ticking_clock()
        first, second = Service(a, engine(), clock=clock), Service(b, engine(), clock=clock)
        await first.handle("wechat", "u", "一建")
        burst = [first.handle("wechat", "u", "是") if i % 2 else second.handle("wechat", "u", "是")
                 for i in range(3)]  # fmt: skip
        await asyncio.gather(*burst)
        state = await a.load_session(UserKey("wechat", "u"))
        assert state is not None
        # Three answers, none lost to a race: appointment, post_match, registration.
        assert state["cert"]["answers"] == {
            "appointment": "yes",
            "post_match": "yes",
            "registration": "yes",
        }
        senders = [ln.sender for ln in await a.transcript(UserKey("wechat", "u"))]
        # Each message's replies follow it before the next message: never user, user.
        assert all(not (x == y == "user") for x, y in itertools.pairwise(senders))
    finally:
        await a.close()
        await b.close()
