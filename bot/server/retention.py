"""Personal data kept no longer than the retention of dialogs/flow.yaml, without a cron job:
the server purges old sessions, transcripts and staff tickets at start-up and then every few
hours."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from starlette.routing import BaseRoute

from bot.store.base import Store, StoreError
from bot.store.tickets import purge_tickets

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class RetentionMount:
    """A mount with no routes: a background task running `store.purge`. Several workers may
    each run it; purging is idempotent."""

    name = "retention"

    def __init__(
        self,
        store: Store,
        days: int,
        every: timedelta = timedelta(hours=6),
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = store
        self.days = days
        self.every = every
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self.runs = 0

    @property
    def routes(self) -> list[BaseRoute]:
        return []

    async def startup(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="retention")

    async def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def purge_once(self) -> int:
        cutoff = self.clock() - timedelta(days=self.days)
        removed = await self.store.purge(cutoff)
        tickets = await purge_tickets(self.store, cutoff)
        self.runs += 1
        log.info(
            "retention: removed %d rows and %d staff tickets last touched before %s",
            removed,
            tickets,
            f"{cutoff:%Y-%m-%d}",
        )
        return removed + tickets

    async def _loop(self) -> None:
        while True:
            try:
                await self.purge_once()
            except StoreError as exc:  # the store is down for a moment: try again next round
                log.warning("retention: purge failed: %s", exc)
            await asyncio.sleep(self.every.total_seconds())
