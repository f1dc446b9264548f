"""GET /metrics of `jifen-bot serve --workers 2`: whichever worker answers the scrape, the
figures are those of the whole server."""

from __future__ import annotations

import asyncio

from .cluster import SCRIPT, conns_per_worker
from .conftest import MakeCluster

USERS = 6
STEPS = 5  # 一建 and its questions, to the points: one conversation finished per user
RETRIES = 4


async def test_metrics_add_up_across_workers(cluster: MakeCluster, answers: list[str]) -> None:
    node = cluster(JIFEN_STAFF_SECRET="a-staff-secret-for-the-scale-tests")
    conns = await conns_per_worker(node.port, workers=2, each=USERS // 2)
    workers_seen: set[str] = set()

    async def user(n: int) -> None:
        for step in range(STEPS):
            got = await conns[n].send(openid(n), SCRIPT[step], msg_id(n, step))
            assert got.content == answers[step], (n, step)
            workers_seen.add(got.worker)

    await asyncio.gather(*(user(n) for n in range(USERS)))
    assert len(workers_seen) == 2
    # WeChat's retries of answered messages: the same answer again, counted as dedupe hits.
    for n in range(RETRIES):
        again = await conns[n].send(openid(n), SCRIPT[STEPS - 1], msg_id(n, STEPS - 1))
        assert again.content == answers[STEPS - 1]
    # One user asks for a colleague: a ticket opens.
    handoff = await conns[0].send(openid(99), "人工", msg_id(99, 0))
    assert handoff.status == 200

    messages = USERS * STEPS + 1
    for _ in range(8):  # new connections: both workers answer scrapes
        m = await node.metrics()
        assert m['jifen_messages_total{channel="wechat"}'] == messages
        assert m['jifen_request_seconds_count{route="/wechat"}'] == messages + RETRIES
        assert m['jifen_dedupe_hits_total{channel="wechat"}'] == RETRIES
        assert m['jifen_conversations_finished_total{channel="wechat"}'] == USERS
        assert m['jifen_match_outcomes_total{outcome="match"}'] >= USERS
        assert m['jifen_handoffs_opened_total{channel="wechat"}'] == 1
        assert m['jifen_handoffs_open{status="open"}'] == 1
        assert m["jifen_wechat_fallbacks_total"] == 0
        assert m['jifen_errors_total{kind="internal"}'] == 0
        assert m['jifen_errors_total{kind="store"}'] == 0

    # Each worker keeps its own files; the scrape added them up.
    pids = {int(p.stem.rsplit("_", 1)[1]) for p in node.metrics_dir.glob("counter_*.db")}
    assert set(node.worker_pids()) <= pids


def openid(n: int) -> str:
    return f"oMetricsUser{n:016d}"


def msg_id(n: int, step: int) -> int:
    return 7_000_000 + n * 100 + step
