"""Running each WeChat message once, however often WeChat delivers it.

WeChat repeats a request up to 3 times when it gets no answer in 5 s. The first delivery
claims the message's key in the store (`claim_once`, shared by every worker); it alone runs
the conversation and publishes the outcome (`set_result`). A later delivery waits for that
outcome: through an in-process future when the first delivery is in this worker, by polling
the store when it is in another.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from bot.store.base import Store

NAMESPACE = "wechat"
TTL = 120.0  # covers WeChat's three tries (3 × 5 s) with a wide margin


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the first delivery answered: a passive text, or None for `success`."""

    passive: str | None

    def encode(self) -> str:
        return json.dumps({"passive": self.passive}, ensure_ascii=False)

    @classmethod
    def decode(cls, raw: str) -> Outcome:
        try:
            value = json.loads(raw).get("passive")
        except (ValueError, AttributeError):
            return cls(None)
        return cls(value if isinstance(value, str) else None)


class Dedupe:
    def __init__(self, store: Store, ttl: float = TTL, poll: float = 0.02) -> None:
        self._store = store
        self._ttl = ttl
        self._poll = poll
        self._local: dict[str, asyncio.Future[Outcome]] = {}

    async def claim(self, key: str) -> bool:
        """True for the first delivery of `key`; it must then `publish` an outcome."""
        first = await self._store.claim_once(NAMESPACE, key, self._ttl)
        if first:
            self._local[key] = asyncio.get_running_loop().create_future()
        return first

    async def publish(self, key: str, outcome: Outcome) -> None:
        try:
            await self._store.set_result(NAMESPACE, key, outcome.encode(), self._ttl)
        finally:
            future = self._local.pop(key, None)
            if future is not None and not future.done():
                future.set_result(outcome)

    async def wait(self, key: str, within: float) -> Outcome | None:
        """The first delivery's outcome, or None when it is not ready within `within` s."""
        deadline = time.monotonic() + within
        while True:
            future = self._local.get(key)
            if future is not None:
                try:
                    return await asyncio.wait_for(
                        asyncio.shield(future), max(0.0, deadline - time.monotonic())
                    )
                except TimeoutError:
                    return None
            raw = await self._store.get_result(NAMESPACE, key)
            if raw is not None:
                return Outcome.decode(raw)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            await asyncio.sleep(min(self._poll, left))


__all__ = ["NAMESPACE", "TTL", "Dedupe", "Outcome"]
