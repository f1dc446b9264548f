"""Two workers on one SQLite file: a WeChat retry delivered to both at the same moment.

On SQLite a turn is optimistic (bot/store/sqlite.py) and the WeChat dedupe is the turn's own
record (LocalDedupe): both workers run the message, the first to save wins, and the other
finds the session changed, runs again under the user's lock, and replays the recorded
replies. The user sees one answer twice, the conversation moves on once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from auxil.wechat_wire import TOKEN

from bot.store.base import UserKey
from bot.store.sqlite import SqliteStore

from .cluster import SCRIPT, Cluster, conns_per_worker

USERS = 4


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Cluster]:
    workdir = tmp_path / "cluster"
    workdir.mkdir()
    settings = {
        "JIFEN_STORE": f"sqlite:///{tmp_path}/bot.sqlite3",
        "JIFEN_WECHAT_TOKEN": TOKEN,
    }
    cluster = Cluster(settings, workdir, workers=2)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def test_a_retry_reaching_both_workers_at_once_runs_once(
    node: Cluster, tmp_path: Path, answers: list[str]
) -> None:
    conns = await conns_per_worker(node.port, workers=2, each=USERS)  # A, B, A, B, ...

    async def user(n: int) -> list[tuple[str | None, str | None]]:
        first, second = conns[2 * n], conns[2 * n + 1]  # one on each worker
        openid = f"oSqliteTwo{n:018d}"
        got = []
        for step, text in enumerate(SCRIPT):
            msg_id = 9_000_000 + n * 100 + step
            a, b = await asyncio.gather(
                first.send(openid, text, msg_id), second.send(openid, text, msg_id)
            )
            assert a.worker != b.worker
            got.append((a.content, b.content))
        return got

    results = await asyncio.gather(*(user(n) for n in range(USERS)))
    for got in results:
        # Both deliveries of each message get the answer one process gives, in order.
        assert got == [(answer, answer) for answer in answers[: len(SCRIPT)]]

    store = SqliteStore(tmp_path / "bot.sqlite3")
    await store.open()
    try:
        for n in range(USERS):
            lines = await store.transcript(UserKey("wechat", f"oSqliteTwo{n:018d}"))
            assert [line.text for line in lines if line.sender == "user"] == list(SCRIPT)
    finally:
        await store.close()
    # Every message was replayed once (to the delivery that lost the race, or that came
    # second), whichever way the race went; both deliveries may have started it.
    metrics = await node.metrics()
    assert metrics['jifen_dedupe_hits_total{channel="wechat"}'] == USERS * len(SCRIPT)
    assert metrics['jifen_messages_total{channel="wechat"}'] >= USERS * len(SCRIPT)
    assert "Traceback" not in node.log()
