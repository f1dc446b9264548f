"""Answering within WeChat's time limit, once per message.

WeChat waits 5 s for a passive reply. The first delivery of a message runs the conversation
as a task and waits for it up to the budget (4 s by default). In time: the first part of the
answer is the passive reply, further parts go out through the customer-service API after the
response. Too late: the reply is `success` (WeChat then neither retries nor shows an error)
and the task sends the whole answer through the customer-service API when it is ready.

The slow step is the injected conversation (`Handler` → service); nothing here sleeps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot import metrics
from bot.channels.wechat.dedupe import TAKEN_OVER, Dedupe, Outcome
from bot.channels.wechat.handler import CHANNEL, Handler, user_tag
from bot.channels.wechat.parse import Message
from bot.channels.wechat.split import LIMIT, split_text
from bot.store.base import StoreError

log = logging.getLogger(__name__)


class Sender(Protocol):
    async def send_text(self, openid: str, content: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Response:
    passive: str | None  # None → "success"
    later: tuple[str, ...] = ()  # parts to send through the customer-service API afterwards


@dataclass
class _Job:
    late: bool = False  # the budget ran out: the task itself must deliver the answer


@dataclass
class Stats:
    """Counters for tests (Prometheus has its own: bot/metrics.py)."""

    runs: int = 0
    retries: int = 0
    takeovers: int = 0
    late: int = 0
    sent: int = 0
    send_errors: int = 0
    errors: list[str] = field(default_factory=list)


class Responder:
    def __init__(
        self,
        handler: Handler,
        dedupe: Dedupe,
        sender: Sender | None,
        budget: float,
        limit: int = LIMIT,
    ) -> None:
        self._handler = handler
        self._dedupe = dedupe
        self.sender = sender
        self._budget = budget
        self._limit = limit
        self._tasks: set[asyncio.Task[Any]] = set()
        self.stats = Stats()

    async def respond(self, msg: Message) -> Response:
        key = msg.dedupe_key
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._budget
        try:
            if not await self._dedupe.claim(key):
                self.stats.retries += 1
                metrics.dedupe_hit(CHANNEL)
                outcome = await self._dedupe.wait(key, self._budget)
                if outcome is not TAKEN_OVER:
                    log.info(
                        "wechat retry of a message from %s: %s",
                        user_tag(msg.from_user),
                        "first answer reused" if outcome else "first answer not ready",
                    )
                    return Response(outcome.passive if isinstance(outcome, Outcome) else None)
                # The worker answering it stopped renewing its claim (it died): answer here,
                # within what is left of the budget.
                self.stats.takeovers += 1
                metrics.wechat_takeover()
                log.warning(
                    "wechat message from %s taken over from a worker that stopped answering",
                    user_tag(msg.from_user),
                )
        except StoreError as exc:
            # Without the dedupe record a retry could run twice; answer nothing instead.
            metrics.error(metrics.DEDUPE)
            log.warning("wechat dedupe unavailable (%s): answered success", exc)
            return Response(None)
        self.stats.runs += 1
        job = _Job()
        task = self._spawn(self._run(msg, key, job))
        try:
            await _ready(task, deadline)
        except asyncio.CancelledError:
            # The request itself was dropped: nobody will read a passive reply any more.
            if task.done() and not task.cancelled():
                self._spawn(self._deliver_late(msg, key, task.result()))
            job.late = True
            raise
        if not task.done():
            # Checked and set with no await in between: the task sees it when it finishes.
            job.late = True
            self.stats.late += 1
            metrics.wechat_fallback()
            log.info(
                "wechat answer for %s not ready in %.1f s: success now, the answer "
                "follows by customer-service message",
                user_tag(msg.from_user),
                self._budget,
            )
            return Response(None)
        parts = task.result()
        outcome = Outcome(parts[0] if parts else None)
        if not await self._publish(key, outcome):
            return Response(None)  # another worker took the message over and answers it
        return Response(outcome.passive, tuple(parts[1:]))

    async def send_later(self, openid: str, parts: Sequence[str]) -> None:
        """Send parts in order through the customer-service API; failures are logged."""
        if not parts:
            return
        if self.sender is None:
            log.warning(
                "wechat: %d part(s) for %s dropped: customer-service API not configured "
                "(JIFEN_WECHAT_APPID / JIFEN_WECHAT_SECRET)",
                len(parts),
                user_tag(openid),
            )
            return
        for number, part in enumerate(parts, start=1):
            try:
                await self.sender.send_text(openid, part)
                self.stats.sent += 1
            except Exception as exc:
                self.stats.send_errors += 1
                metrics.error(metrics.WECHAT_SEND)
                self.stats.errors.append(str(exc))
                log.warning(
                    "wechat customer-service send to %s failed at part %d/%d: %s",
                    user_tag(openid),
                    number,
                    len(parts),
                    exc,
                )
                return  # later parts would read out of order without this one

    async def drain(self, grace: float) -> None:
        """Let late answers finish on shutdown; cancel what is still running after `grace` s."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()

    async def _run(self, msg: Message, key: str, job: _Job) -> list[str]:
        parts = await self._compute(msg)
        if job.late:
            await self._deliver_late(msg, key, parts)
        return parts

    async def _deliver_late(self, msg: Message, key: str, parts: list[str]) -> list[str]:
        # Retries answer `success` from now on. Unless another worker took the message over:
        # then that worker delivers, and sending here too would answer twice.
        if await self._publish(key, Outcome(None)):
            await self.send_later(msg.from_user, parts)
        return parts

    async def _compute(self, msg: Message) -> list[str]:
        try:
            text = await self._handler.answer(msg)
        except StoreError as exc:
            log.warning(
                "wechat message from %s not answered: store unavailable (%s)",
                user_tag(msg.from_user),
                exc,
            )
            return []
        except Exception:
            # A bug in the conversation: keep the trace in the log, say sorry to the user.
            log.exception("wechat conversation failed for %s", user_tag(msg.from_user))
            text = self._handler.busy()
        return split_text(text, self._limit) if text else []

    async def _publish(self, key: str, outcome: Outcome) -> bool:
        """False only when another worker holds the message now; a store failure still lets
        this worker deliver (it holds the only answer)."""
        try:
            return await self._dedupe.publish(key, outcome)
        except StoreError as exc:
            log.warning("wechat: could not record an answer for retries (%s)", exc)
            return True

    def _spawn(self, coro: Coroutine[Any, Any, list[str]]) -> asyncio.Task[list[str]]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


async def _ready(task: asyncio.Task[Any], deadline: float) -> None:
    """Until `task` is done or the loop's clock reaches `deadline`, whichever comes first.
    What asyncio.wait does for one task, without its sets and its second pass over them: this
    runs for every message."""
    if task.done():
        return
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    timer = loop.call_at(deadline, wake)
    task.add_done_callback(wake)
    try:
        await waiter
    finally:
        timer.cancel()
        task.remove_done_callback(wake)


__all__ = ["Responder", "Response", "Sender", "Stats"]
