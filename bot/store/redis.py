"""The Redis store: several workers on one or more machines share sessions, locks and dedupe.

Layout (prefix `jifen:` by default; `<u>` is a digest of channel and user id, see user_hash):
  jifen:u:{<u>}:sess   the dialog state as JSON, EX retention (sliding: every write renews it)
  jifen:u:{<u>}:tr     the transcript, a list of JSON lines capped at `transcript_cap`
  jifen:u:{<u>}:keys   every data key of the user, so that `forget` misses none
  jifen:u:{<u>}:lock…  the fair per-user lock (redis_lock.py)
  jifen:lockwake       pub/sub channel: the token of the waiter whose turn it is
  jifen:touch          sorted set: <u> scored by the last write (epoch seconds), for `purge`
  jifen:d:<ns>:<id>    dedupe claim "?" (SET NX PX) or a lease claim "?<token> <expiry>"
                       (redis_lease.py), then "=<answer>" once the answer is known
  jifen:kv:<key>       small expiring values (access tokens, counters)
  jifen:ib:{<channel>}:due|body|takes   the channel's inbox (redis_inbox.py)
The `{<u>}` hash tag keeps one user's keys in one cluster slot so that MULTI and scripts work.
Idle expiry of a conversation is the dialog's business; the TTL here is only data retention.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import Pipeline

from .base import Store, StoreError, TranscriptLine, TurnScope, UserKey
from .redis_inbox import InboxScripts
from .redis_lease import LeaseScripts
from .redis_lock import FairLocks, Held, LockSettings
from .redis_support import (
    Connection,
    FailureLog,
    drop_pool,
    guarded,
    new_pool,
    pseudonym,
    shared_pool,
    user_hash,
)
from .redis_turn import SAVE_TURN, decode_session, redis_turn

DEFAULT_RETENTION = 30 * 24 * 3600.0
DEFAULT_TRANSCRIPT_CAP = 2000
_PURGE_BATCH = 200

# KEYS: index, session, transcript, touch. ARGV: user digest. One atomic step, so that a write
# racing with `forget` cannot leave half a user behind.
_FORGET = """
local keys = redis.call('SMEMBERS', KEYS[1])
for _, k in ipairs(keys) do redis.call('DEL', k) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('ZREM', KEYS[4], ARGV[1])
return #keys
"""

# KEYS: touch. ARGV: cutoff (exclusive, epoch s), batch size, user key prefix ("jifen:u:").
# Returns {users seen, rows removed}. The score check and the deletion are one atomic step, so a
# user who writes meanwhile is either purged before the write or kept. Rows are counted as in
# SQL: one per session, one per transcript line. (Keys are built in the script from the touch
# set, which is fine on a single Redis; on a cluster every key of a user shares its slot.)
_PURGE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, ARGV[2])
local rows = 0
for _, id in ipairs(ids) do
  local base = ARGV[3] .. '{' .. id .. '}:'
  rows = rows + redis.call('EXISTS', base .. 'sess') + redis.call('LLEN', base .. 'tr')
  local keys = redis.call('SMEMBERS', base .. 'keys')
  for _, k in ipairs(keys) do redis.call('DEL', k) end
  redis.call('DEL', base .. 'sess', base .. 'tr', base .. 'keys')
  redis.call('ZREM', KEYS[1], id)
end
return {#ids, rows}
"""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RedisStore(Store):
    """Store on Redis >= 6 (scripts read TIME and publish); see the module docstring."""

    leases = True  # claim_lease / renew_lease / settle_lease: redis_lease.py

    def __init__(
        self,
        url: str,
        *,
        retention: float = DEFAULT_RETENTION,
        transcript_cap: int = DEFAULT_TRANSCRIPT_CAP,
        prefix: str = "jifen:",
        connection: Connection | None = None,
        lock_settings: LockSettings | None = None,
        share_pool: bool = True,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._url = url
        self._retention = retention
        self._cap = transcript_cap
        self._prefix = prefix
        self._conn = connection or Connection()
        self._lock_settings = lock_settings or LockSettings()
        self._share_pool = share_pool
        self._clock = clock
        self._failures = FailureLog()
        self._pool: ConnectionPool | None = None
        self._client: Redis | None = None
        self._locks: FairLocks | None = None

    @property
    def url(self) -> str:
        """The Redis URL, for stores that live beside this one (tickets)."""
        return self._url

    @property
    def prefix(self) -> str:
        """The key namespace, "jifen:" unless given."""
        return self._prefix

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Set up the (shared) pool; connecting is lazy, so a Redis that is down at start-up
        makes requests fail fast instead of keeping the worker from starting."""
        if self._client is not None:
            return
        if self._share_pool:
            self._pool = shared_pool(self._url, self._conn)
        else:
            self._pool = new_pool(self._url, self._conn)
        self._client = Redis(connection_pool=self._pool)
        self._locks = FairLocks(
            self._client, self._lock_settings, self._conn.call, f"{self._prefix}lockwake"
        )
        self._forget = self._client.register_script(_FORGET)
        self._purge = self._client.register_script(_PURGE)
        self._leases = LeaseScripts(self._client)
        self._inbox = InboxScripts(self._client)
        self._save_turn = self._client.register_script(SAVE_TURN)

    async def close(self) -> None:
        client, pool, locks = self._client, self._pool, self._locks
        self._client = self._pool = self._locks = None
        if locks is not None:
            await locks.close()
        if client is not None:
            await client.aclose()
        if pool is not None:
            await drop_pool(pool)

    async def _redis(self) -> Redis:
        if self._client is None:
            await self.open()
        assert self._client is not None
        return self._client

    def _guard(
        self, op: str, who: str = "", extra: float = 0.0
    ) -> AbstractAsyncContextManager[None]:
        return guarded(self._failures, op, who, self._conn.call + extra)

    async def ping(self) -> bool:
        r = await self._redis()
        try:
            async with self._guard("ping"):
                return bool(await r.ping())
        except StoreError:
            return False  # already logged with its reason; /healthz only needs the verdict

    # -- keys ----------------------------------------------------------------------------------

    def _base(self, key: UserKey) -> str:
        return f"{self._prefix}u:{{{user_hash(key)}}}:"

    def _dedupe(self, namespace: str, msg_id: str) -> str:
        return f"{self._prefix}d:{namespace}:{msg_id}"

    def _kv(self, key: str) -> str:
        return f"{self._prefix}kv:{key}"

    def _inbox_keys(self, channel: str) -> list[str]:
        base = f"{self._prefix}ib:{{{channel}}}:"
        return [f"{base}due", f"{base}body", f"{base}takes"]

    def _touch(self, pipe: Pipeline, key: UserKey, data_key: str) -> None:
        """Queue the bookkeeping of a write: index the key, slide the TTLs, note the time."""
        base, now = self._base(key), self._clock().timestamp()
        ttl = max(1, round(self._retention))
        pipe.sadd(f"{base}keys", data_key)
        for suffix in ("sess", "tr", "keys"):
            pipe.expire(f"{base}{suffix}", ttl)
        touch = f"{self._prefix}touch"
        pipe.zadd(touch, {user_hash(key): now})
        # Users whose keys have all expired by TTL leave the set here, so it stays bounded
        # even when nobody runs `purge`.
        pipe.zremrangebyscore(touch, "-inf", f"({now - self._retention}")

    # -- sessions ------------------------------------------------------------------------------

    async def load_session(self, key: UserKey) -> dict[str, Any] | None:
        r = await self._redis()
        async with self._guard("load_session", pseudonym(key)):
            raw = await r.get(f"{self._base(key)}sess")
        return decode_session(key, None if raw is None else _text(raw))

    async def save_session(self, key: UserKey, state: dict[str, Any]) -> None:
        raw = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
        r = await self._redis()
        sess = f"{self._base(key)}sess"
        async with self._guard("save_session", pseudonym(key)), r.pipeline() as pipe:
            pipe.set(sess, raw)
            self._touch(pipe, key, sess)
            await pipe.execute()

    async def delete_session(self, key: UserKey) -> None:
        r = await self._redis()
        base = self._base(key)
        async with self._guard("delete_session", pseudonym(key)), r.pipeline() as pipe:
            pipe.delete(f"{base}sess")
            pipe.srem(f"{base}keys", f"{base}sess")
            await pipe.execute()

    # -- transcripts ---------------------------------------------------------------------------

    async def append_transcript(self, key: UserKey, lines: list[TranscriptLine]) -> None:
        if not lines:
            return
        encoded = [_encode_line(line) for line in lines]
        r = await self._redis()
        tr = f"{self._base(key)}tr"
        async with self._guard("append_transcript", pseudonym(key)), r.pipeline() as pipe:
            pipe.rpush(tr, *encoded)
            pipe.ltrim(tr, -self._cap, -1)
            self._touch(pipe, key, tr)
            await pipe.execute()

    async def transcript(self, key: UserKey, limit: int = 500) -> list[TranscriptLine]:
        if limit <= 0:
            return []
        r = await self._redis()
        async with self._guard("transcript", pseudonym(key)):
            raw = await r.lrange(f"{self._base(key)}tr", -limit, -1)
        try:
            return [_decode_line(_text(item)) for item in raw]
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"transcript of user {pseudonym(key)} is corrupt") from exc

    # -- personal data -------------------------------------------------------------------------

    async def forget(self, key: UserKey) -> None:
        await self._redis()
        base = self._base(key)
        keys = [f"{base}keys", f"{base}sess", f"{base}tr", f"{self._prefix}touch"]
        async with self._guard("forget", pseudonym(key)):
            await self._forget(keys=keys, args=[user_hash(key)])

    async def purge(self, older_than: datetime) -> int:
        await self._redis()
        if older_than.tzinfo is None:
            older_than = older_than.replace(tzinfo=UTC)  # the interface promises UTC
        cutoff = older_than.timestamp()
        removed = 0
        while True:
            async with self._guard("purge"):
                seen, rows = await self._purge(
                    keys=[f"{self._prefix}touch"],
                    args=[repr(cutoff), _PURGE_BATCH, f"{self._prefix}u:"],
                )
            removed += int(rows)
            # Batches keep each atomic step short; Redis serves nobody while a script runs.
            if int(seen) < _PURGE_BATCH:
                return removed

    # -- one message of a user at a time -------------------------------------------------------

    def lock(self, key: UserKey, timeout: float = 10.0) -> AbstractAsyncContextManager[None]:
        return self._locked(key, timeout)

    @contextlib.asynccontextmanager
    async def _locked(self, key: UserKey, wait: float) -> AsyncIterator[None]:
        async with self.held(key, wait):
            yield

    @contextlib.asynccontextmanager
    async def held(
        self, key: UserKey, wait: float, *, load_session: bool = False
    ) -> AsyncIterator[Held]:
        """The user's lock; with `load_session`, `Held.value` is the raw session read in the
        same step as the lock was taken."""
        await self._redis()
        assert self._locks is not None
        who, base = pseudonym(key), self._base(key)
        load = f"{base}sess" if load_session else None
        # The guard's deadline is only a backstop: the lock bounds each of its calls itself.
        async with self._guard("lock", who, extra=wait):
            held = await self._locks.acquire(base, wait, who, load)
        try:
            yield held
        finally:
            await held.release()

    # -- one turn: lock and load, then save and unlock (redis_turn.py) ---------------------

    def turn(
        self, key: UserKey, timeout: float = 10.0, *, exclusive: bool = False
    ) -> AbstractAsyncContextManager[TurnScope]:
        # Always exclusive: the lock is taken in the same round trip as the load anyway.
        return redis_turn(self, key, timeout)

    async def save_turn(
        self, key: UserKey, state: dict[str, Any], lines: list[TranscriptLine]
    ) -> None:
        await self.write_turn(key, state, lines, None)

    async def write_turn(
        self,
        key: UserKey,
        state: dict[str, Any],
        lines: list[TranscriptLine],
        release: Held | None,
    ) -> None:
        """Session, transcript and bookkeeping in one step; and the lock's release with it
        when `release` is given (the turn's last store step)."""
        await self._redis()
        assert self._locks is not None
        base, now = self._base(key), self._clock().timestamp()
        keys = [f"{base}sess", f"{base}tr", f"{base}keys", f"{self._prefix}touch"]
        keys += [f"{base}lock", f"{base}lq"]
        args: list[Any] = [
            json.dumps(state, ensure_ascii=False, separators=(",", ":")),
            max(1, round(self._retention)),
            self._cap,
            user_hash(key),
            now,
            now - self._retention,
            "" if release is None else release.token,
            self._locks.channel,
            *(_encode_line(line) for line in lines),
        ]
        async with self._guard("save_turn", pseudonym(key)):
            await self._save_turn(keys=keys, args=args)

    # -- dedupe of channel retries -------------------------------------------------------------

    async def claim_once(self, namespace: str, msg_id: str, ttl: float) -> bool:
        r = await self._redis()
        async with self._guard("claim_once"):
            return bool(await r.set(self._dedupe(namespace, msg_id), "?", nx=True, px=_ms(ttl)))

    async def set_result(self, namespace: str, msg_id: str, result: str, ttl: float) -> None:
        # Same key as the claim: while the answer is kept, a retry can neither claim again nor
        # miss the answer. The answer's ttl replaces the claim's.
        r = await self._redis()
        async with self._guard("set_result"):
            await r.set(self._dedupe(namespace, msg_id), f"={result}", px=_ms(ttl))

    async def get_result(self, namespace: str, msg_id: str) -> str | None:
        r = await self._redis()
        async with self._guard("get_result"):
            raw = await r.get(self._dedupe(namespace, msg_id))
        if isinstance(raw, str) and raw.startswith("="):
            return raw[1:]
        return None  # unknown, expired, or claimed and still being answered

    # Lease claims (redis_lease.py): a message whose worker died can be taken over.

    async def claim_lease(
        self, namespace: str, msg_id: str, token: str, lease: float, ttl: float
    ) -> bool:
        await self._redis()
        async with self._guard("claim_lease"):
            done = await self._leases.claim(
                keys=[self._dedupe(namespace, msg_id)], args=[token, _ms(lease), _ms(ttl)]
            )
        return bool(done)

    async def renew_lease(self, namespace: str, msg_id: str, token: str, lease: float) -> bool:
        await self._redis()
        async with self._guard("renew_lease"):
            done = await self._leases.renew(
                keys=[self._dedupe(namespace, msg_id)], args=[token, _ms(lease)]
            )
        return bool(done)

    async def settle_lease(
        self, namespace: str, msg_id: str, token: str, result: str, ttl: float
    ) -> bool:
        await self._redis()
        async with self._guard("settle_lease"):
            done = await self._leases.settle(
                keys=[self._dedupe(namespace, msg_id)], args=[token, result, _ms(ttl)]
            )
        return bool(done)

    # -- the inbox (redis_inbox.py) -------------------------------------------------------------

    async def inbox_add(self, channel: str, item: str, body: str, lease: float) -> None:
        await self._redis()
        async with self._guard("inbox_add"):
            await self._inbox.add(keys=self._inbox_keys(channel), args=[item, body, _us(lease)])

    async def inbox_done(self, channel: str, item: str) -> None:
        r = await self._redis()
        due, body, takes = self._inbox_keys(channel)
        # MULTI: a take running meanwhile sees the item either whole or gone.
        async with self._guard("inbox_done"), r.pipeline(transaction=True) as pipe:
            pipe.zrem(due, item)
            pipe.hdel(body, item)
            pipe.hdel(takes, item)
            await pipe.execute()

    async def inbox_take(
        self, channel: str, lease: float, limit: int = 100
    ) -> list[tuple[str, str, int]]:
        if limit <= 0:
            return []  # ZRANGEBYSCORE reads a negative count as "all"
        await self._redis()
        async with self._guard("inbox_take"):
            raw = await self._inbox.take(keys=self._inbox_keys(channel), args=[_us(lease), limit])
        return [(_text(raw[i]), _text(raw[i + 1]), int(raw[i + 2])) for i in range(0, len(raw), 3)]

    # -- small expiring values -----------------------------------------------------------------

    async def kv_get(self, key: str) -> str | None:
        r = await self._redis()
        async with self._guard("kv_get"):
            raw = await r.get(self._kv(key))
        return None if raw is None else str(raw)

    async def kv_set(self, key: str, value: str, ttl: float | None = None) -> None:
        r = await self._redis()
        async with self._guard("kv_set"):
            await r.set(self._kv(key), value, px=None if ttl is None else _ms(ttl))

    async def kv_set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        r = await self._redis()
        async with self._guard("kv_set_if_absent"):
            done = await r.set(self._kv(key), value, nx=True, px=None if ttl is None else _ms(ttl))
        return bool(done)

    async def kv_delete(self, key: str) -> None:
        r = await self._redis()
        async with self._guard("kv_delete"):
            await r.delete(self._kv(key))


def _ms(seconds: float) -> int:
    # Redis rejects PX 0; a positive ttl below a millisecond still means "expire at once".
    return max(1, round(seconds * 1000))


def _us(seconds: float) -> int:
    # Unlike a PX ttl, a lease of 0 is valid: the item is due at once.
    return max(0, round(seconds * 1_000_000))


def _text(item: str | bytes) -> str:
    # The pool decodes replies; bytes only appear if someone passes a pool configured otherwise.
    return item if isinstance(item, str) else item.decode()


def _encode_line(line: TranscriptLine) -> str:
    at = line.at if line.at.tzinfo is not None else line.at.replace(tzinfo=UTC)
    record = {"at": at.astimezone(UTC).isoformat(), "s": line.sender, "t": line.text}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _decode_line(raw: str) -> TranscriptLine:
    record = json.loads(raw)
    return TranscriptLine(
        at=datetime.fromisoformat(record["at"]), sender=str(record["s"]), text=str(record["t"])
    )


__all__ = [
    "DEFAULT_RETENTION",
    "DEFAULT_TRANSCRIPT_CAP",
    "Connection",
    "LockSettings",
    "RedisStore",
]
