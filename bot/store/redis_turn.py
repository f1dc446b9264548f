"""One turn of a conversation on Redis in two round trips: lock and load, then save and unlock.

The per-message path otherwise costs a call for each of lock, load, save, transcript and
release; on a busy machine every call is a wait for the scheduler as well as for Redis. Here:

  1. the fair lock's acquire script returns the session with the lock (redis_lock.py, `load`);
  2. one script writes the session, appends the transcript lines, does the bookkeeping of
     RedisStore._touch and, for the last store step of a turn, releases the lock and wakes the
     next waiter, all in one atomic step: a turn is never half written.

Keys as in redis.py; the touch set lies outside the user's hash slot, as with the store's
pipelines (one Redis, not a cluster).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from .base import StoreError, TranscriptLine, TurnScope, UserKey
from .redis_lock import Held

if TYPE_CHECKING:
    from .redis import RedisStore

# KEYS: sess, tr, keys (the user's index), touch, lock, queue.
# ARGV: state, retention s, transcript cap, user digest, now, cutoff, lock token ("" to keep
# the lock), wake channel, then the transcript lines.
SAVE_TURN = """
redis.call('SET', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
redis.call('SADD', KEYS[3], KEYS[1])
if #ARGV > 8 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 9))
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
  redis.call('SADD', KEYS[3], KEYS[2])
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ttl) end
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[6])
if ARGV[7] ~= '' and redis.call('GET', KEYS[5]) == ARGV[7] then
  redis.call('DEL', KEYS[5])
  local head = redis.call('ZRANGE', KEYS[6], 0, 0)[1]
  if head then redis.call('PUBLISH', ARGV[8], head) end
end
return 1
"""


class RedisTurn(TurnScope):
    """The turn scope of RedisStore.turn: `save(..., last=True)` also releases the lock."""

    def __init__(
        self, store: RedisStore, key: UserKey, loaded: dict[str, Any] | None, held: Held
    ) -> None:
        super().__init__(store, key, loaded)
        self._redis_store = store
        self._held = held

    async def save(
        self,
        state: dict[str, Any],
        lines: list[TranscriptLine],
        *,
        last: bool = False,
        memo: object | None = None,
    ) -> None:
        await self._redis_store.write_turn(self.key, state, lines, self._held if last else None)
        if last:
            self._held.released_elsewhere()


@asynccontextmanager
async def redis_turn(store: RedisStore, key: UserKey, wait: float) -> AsyncIterator[TurnScope]:
    async with store.held(key, wait, load_session=True) as held:
        yield RedisTurn(store, key, decode_session(key, held.value), held)


def decode_session(key: UserKey, raw: str | None) -> dict[str, Any] | None:
    from .redis_support import pseudonym

    if raw is None:
        return None
    try:
        state = json.loads(raw)
    except ValueError as exc:
        raise StoreError(f"session of user {pseudonym(key)} is not valid JSON") from exc
    if not isinstance(state, dict):
        raise StoreError(f"session of user {pseudonym(key)} is not a JSON object")
    return state


__all__ = ["SAVE_TURN", "RedisTurn", "decode_session", "redis_turn"]
