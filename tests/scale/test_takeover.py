"""The takeover of a message whose worker stopped answering, step by step in one process: two
Responders on one Redis stand for two workers, and the test decides where the first one stops.

The fault test (test_fault_worker.py) kills a real worker at a random moment; these pin down
the two moments a random kill rarely hits: after the turn was saved but before its answer was
recorded, and a worker stalled (not dead) past its lease.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from auxil.wechat_wire import text_xml
from store.redis_server import RedisServer

from bot.channels.texts import load_channel_texts
from bot.channels.wechat.budget import Responder
from bot.channels.wechat.dedupe import NAMESPACE, Dedupe
from bot.channels.wechat.handler import TEXT_KEYS, Handler
from bot.channels.wechat.parse import Message, parse_message
from bot.service import Service, build_service
from bot.store.base import UserKey
from bot.store.redis import RedisStore

from .cluster import SCRIPT

LEASE = 0.3


class Sent:
    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    async def send_text(self, openid: str, content: str) -> None:
        self.texts.append((openid, content))


@pytest.fixture
async def service(redis: RedisServer) -> AsyncIterator[Service]:
    store = RedisStore(redis.url)
    await store.open()
    try:
        yield build_service(store)
    finally:
        await store.close()


def worker(service: Service, sent: Sent, budget: float = 2.0) -> Responder:
    handler = Handler(service, load_channel_texts(TEXT_KEYS))
    return Responder(handler, Dedupe(service.store, lease=LEASE), sent, budget)


def message(openid: str, text: str, msg_id: int) -> Message:
    return parse_message(text_xml(openid, text, msg_id).encode())


async def said(service: Service, openid: str) -> list[str]:
    lines = await service.store.transcript(UserKey("wechat", openid))
    return [line.text for line in lines if line.sender == "user"]


async def test_a_turn_saved_by_a_dead_worker_is_answered_not_run_again(
    service: Service, answers: list[str]
) -> None:
    openid = "oSavedThenDied00000000000001"
    msg = message(openid, SCRIPT[0], 1)
    # Worker A claimed the message and saved the turn, then died before recording the answer.
    assert await service.store.claim_lease(NAMESPACE, msg.dedupe_key, "dead-a", LEASE, 60)
    await service.handle("wechat", openid, SCRIPT[0], once=msg.dedupe_key)

    sent = Sent()
    retry = await worker(service, sent).respond(msg)  # WeChat's retry reaches worker B
    assert retry.passive == answers[0]  # A's answer, which the user never got
    assert await said(service, openid) == [SCRIPT[0]]  # not run a second time
    # And the conversation is where one run of the message left it.
    nxt = await worker(service, sent).respond(message(openid, SCRIPT[1], 2))
    assert nxt.passive == answers[1]
    assert sent.texts == []


async def test_a_stalled_worker_that_lost_the_message_stays_silent(
    service: Service, answers: list[str]
) -> None:
    openid = "oStalledWorker00000000000001"
    msg = message(openid, SCRIPT[0], 1)
    gate = asyncio.Event()
    real = service.handle

    async def stalled(*args: object, **kwargs: object) -> object:
        await gate.wait()  # worker A's event loop stops for longer than the lease
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    sent_a, sent_b = Sent(), Sent()
    a_service = Service(service.store, service.engine)
    a_service.handle = stalled  # type: ignore[method-assign]
    a = worker(a_service, sent_a, budget=0.1)
    b = worker(service, sent_b)
    first = await a.respond(msg)  # too slow: `success`, A will send the answer by itself
    assert first.passive is None
    # A's renewals stop, as they would in a stalled process.
    claim = a._dedupe._local[msg.dedupe_key]
    assert claim.timer is not None
    claim.timer.cancel()

    retry = await b.respond(msg)  # B waits out A's lease, takes over and answers
    assert retry.passive == answers[0]
    gate.set()  # A wakes up, finds the message answered by B
    await a.drain(5)
    assert sent_a.texts == []  # B's passive reply was the only answer
    assert sent_b.texts == []
    assert await said(service, openid) == [SCRIPT[0]]
