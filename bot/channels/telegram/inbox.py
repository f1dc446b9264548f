"""Updates the webhook acknowledged but has not processed yet, kept in the store until it has.

Telegram delivers an update until it gets a 2xx, and never again after one; the webhook answers
200 at once and the conversation runs afterwards (routes.py), so a worker killed in between
would lose the update for good. So the webhook keeps each new update in the store's inbox
(Store.inbox_add) under a lease before answering, and the update processor drops it once it has
been processed (`done`). Every worker looks now and then for updates whose lease ran out (their
worker died, or a restart came in between) and processes them again (`run`).

Processing an update twice moves nobody's conversation twice: the turn records the update's id
with its replies (bot/once.py), and a second run sends those replies again. An update that keeps
failing (its worker dies each time) is given up once it has been run again MAX_TAKES times,
with an error in the log, so that it cannot take every worker down in turn.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot import metrics
from bot.store.base import Store, StoreError

log = logging.getLogger(__name__)

CHANNEL = "telegram"
LEASE = 120.0  # seconds a worker has to process an update before another may take it
EVERY = 15.0  # seconds between two looks for updates whose worker died
MAX_TAKES = 3  # times an update is run again from the inbox before it is given up


def once_key(update: Update) -> str:
    """The id the conversation records a turn under (Service.handle's `once`)."""
    return f"tg{update.update_id}"


class Inbox:
    """Parameters: the `store`; `lease`, `every`, `max_takes` (module defaults when None)."""

    def __init__(
        self,
        store: Store,
        *,
        lease: float | None = None,
        every: float | None = None,
        max_takes: int | None = None,
    ) -> None:
        self.store = store
        self.lease = LEASE if lease is None else lease
        self.every = EVERY if every is None else every
        self.max_takes = MAX_TAKES if max_takes is None else max_takes
        self._here: set[str] = set()  # updates this process is processing

    async def keep(self, update_id: int, data: dict[str, Any]) -> None:
        """Before the webhook answers: keep the update until `done`. If the store refuses,
        the update is still processed, only without the guarantee (logged)."""
        item = str(update_id)
        self._here.add(item)
        try:
            await self.store.inbox_add(CHANNEL, item, json.dumps(data), self.lease)
        except StoreError:
            metrics.error(metrics.STORE)
            log.exception("telegram update %s: not kept in the inbox, processed anyway", item)

    def holds(self, update_id: int) -> bool:
        """Whether this process is processing the update (kept or replayed) right now."""
        return str(update_id) in self._here

    async def done(self, update: object) -> None:
        """After the update processor ran the update's handlers (whatever they did)."""
        if not isinstance(update, Update):
            return
        item = str(update.update_id)
        self._here.discard(item)
        try:
            await self.store.inbox_done(CHANNEL, item)
        except StoreError:
            # It will be taken again once its lease runs out; bot/once.py keeps the
            # conversation from moving twice.
            log.warning("telegram update %s: could not be taken out of the inbox", item)

    async def replay(self, app: Application[Any, Any, Any, Any, Any, Any]) -> int:
        """One look: updates whose lease ran out go to `app`'s queue again. How many did."""
        replayed = 0
        for item, body, takes in await self.store.inbox_take(CHANNEL, self.lease):
            if item in self._here:
                continue  # still being processed here, only slowly: leased again meanwhile
            if takes > self.max_takes:
                log.error("telegram update %s given up: run again %d times", item, takes - 1)
                await self.store.inbox_done(CHANNEL, item)
                continue
            try:
                update = Update.de_json(json.loads(body), app.bot)
            except Exception:
                log.exception("telegram update %s in the inbox is unreadable: dropped", item)
                await self.store.inbox_done(CHANNEL, item)
                continue
            log.warning("telegram update %s: its worker did not finish it; processing it", item)
            self._here.add(item)
            await app.update_queue.put(update)
            replayed += 1
        return replayed

    async def run(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """`replay` every `every` seconds until cancelled; a failing look is logged and the
        next one tried (the store may be briefly down)."""
        while True:
            try:
                await self.replay(app)
            except StoreError as exc:
                log.warning("telegram inbox: could not look for unfinished updates (%s)", exc)
            except Exception:
                log.exception("telegram inbox: looking for unfinished updates failed")
            await asyncio.sleep(self.every)


class KeepingQueue(asyncio.Queue[object]):
    """The Application's update queue when polling (`jifen-bot telegram poll`). getUpdates
    confirms the updates it returned with its next request, which comes long before they are
    processed; so each update is kept in the inbox as it is queued, as the webhook keeps it
    before its 200. One the inbox replays is already kept, and not kept again."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self.inbox = inbox

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and not self.inbox.holds(item.update_id):
            await self.inbox.keep(item.update_id, item.to_dict())
        await super().put(item)


__all__ = ["CHANNEL", "EVERY", "LEASE", "MAX_TAKES", "Inbox", "KeepingQueue", "once_key"]
