"""Tickets in Redis, for several workers on several machines.

Layout (prefix `jifen:staff:` by default; `<u>` is the user digest of bot/store/redis_support):
  seq, rev          counters: ticket ids, and the revision every change bumps
  t:<id>            hash: channel, user, reason, status, claimed_by, times, JSON fields
  t:<id>:m          list of JSON messages (user and staff) since the ticket opened
  t:<id>:f          set of flags already acted on (announced, apologised)
  s:<status>        sorted set of ticket ids in that status, scored by id (= age order)
  a:<u>             the id of the user's active ticket
  u:<u>             set of all the user's ticket ids, so that `forget` misses none
  w:<u>             hash last (µs since epoch) and sent: the WeChat customer-service window
Every change is one Lua script, so a claim is a check-and-set no other worker can interleave.
Scripts build ticket keys from ids, which is fine on one Redis (not on a cluster).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from .base import StoreError, UserKey
from .cs_window import from_us, to_us
from .redis_support import user_hash
from .tickets import (
    QUOTA,
    WINDOW,
    Flag,
    QuotaUsed,
    Status,
    Ticket,
    TicketClosed,
    TicketConflict,
    TicketMessage,
    TicketNotFound,
    TicketStore,
    Window,
    WindowClosed,
    check_status,
    parse_time,
    ticket_number,
    utcnow,
)
from .tickets_lua import ADD_USER, CLOSE, CREATE, FORGET, NOTE, PURGE, RELEASE, RESERVE, TAKE


def _number(ticket_id: str) -> str:
    return str(ticket_number(ticket_id))


class RedisTickets(TicketStore):
    """Parameters: Redis `url`; key `prefix`; `clock`."""

    def __init__(
        self, url: str, *, prefix: str = "jifen:staff:", clock: Callable[[], datetime] = utcnow
    ) -> None:
        super().__init__(clock)
        self.url = url
        self.prefix = prefix
        self._client: Redis | None = None

    async def connect(self) -> None:
        if self._client is None:
            self._client = Redis.from_url(
                self.url, decode_responses=True, socket_connect_timeout=1.0, socket_timeout=2.0
            )

    async def disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _r(self) -> Redis:
        if self._client is None:
            raise StoreError("the ticket store is not open")
        return self._client

    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _u(self, channel: str, user: str) -> str:
        return user_hash(UserKey(channel, user))

    async def _run(self, script: str, keys: builtins.list[str], args: builtins.list[Any]) -> Any:
        try:
            return await self._r().eval(script, len(keys), *keys, *args)
        except RedisError as exc:
            raise StoreError(f"redis tickets: {type(exc).__name__}: {exc}") from exc

    # Reading --------------------------------------------------------------------------------

    async def _fetch(self, ids: builtins.list[str]) -> builtins.list[Ticket]:
        if not ids:
            return []
        try:
            async with self._r().pipeline(transaction=False) as pipe:
                for number in ids:
                    pipe.hgetall(self._k("t", number))
                    pipe.lrange(self._k("t", number, "m"), 0, -1)
                raw = await pipe.execute()
        except RedisError as exc:
            raise StoreError(f"redis tickets: {type(exc).__name__}: {exc}") from exc
        tickets = []
        for number, fields, messages in zip(ids, raw[::2], raw[1::2], strict=True):
            if fields:
                tickets.append(_ticket(number, fields, messages))
        return tickets

    async def get(self, ticket_id: str) -> Ticket | None:
        try:
            number = _number(ticket_id)
        except TicketNotFound:
            return None
        found = await self._fetch([number])
        return found[0] if found else None

    async def list(self, status: Status, limit: int = 100) -> builtins.list[Ticket]:
        key = self._k("s", check_status(status))
        try:
            if status == "closed":
                ids = await self._r().zrevrange(key, 0, limit - 1)
            else:
                ids = await self._r().zrange(key, 0, limit - 1)
        except RedisError as exc:
            raise StoreError(f"redis tickets: {type(exc).__name__}: {exc}") from exc
        return await self._fetch([str(i) for i in ids])

    async def open_ticket_for(self, channel: str, user: str) -> Ticket | None:
        try:
            number = await self._r().get(self._k("a", self._u(channel, user)))
        except RedisError as exc:
            raise StoreError(f"redis tickets: {type(exc).__name__}: {exc}") from exc
        return None if number is None else await self.get(str(number))

    async def revision(self) -> int:
        try:
            return int(await self._r().get(self._k("rev")) or 0)
        except RedisError as exc:
            raise StoreError(f"redis tickets: {type(exc).__name__}: {exc}") from exc

    async def _must(self, ticket_id: str) -> Ticket:
        found = await self.get(ticket_id)
        if found is None:
            raise TicketNotFound(ticket_id)
        return found

    # Changing -------------------------------------------------------------------------------

    async def create(
        self,
        channel: str,
        user: str,
        reason: str,
        transcript: builtins.list[TicketMessage],
        slots: dict[str, Any],
        assessment: builtins.list[dict[str, Any]],
    ) -> Ticket:
        u = self._u(channel, user)
        keys = [self._k("a", u), self._k("seq"), self._k("rev"), self._k("u", u)]
        keys.append(self._k("s", "open"))
        args = [
            self.prefix, channel, user, reason, self.clock().isoformat(),
            _dump([m.to_dict() for m in transcript]), _dump(slots), _dump(assessment),
        ]  # fmt: skip
        number = await self._run(CREATE, keys, args)
        return await self._must(str(number))

    async def _take(self, ticket_id: str, agent: str, message: str) -> Ticket:
        number = _number(ticket_id)
        t = self._k("t", number)
        keys = [t, self._k("rev"), self._k("s", "open"), self._k("s", "claimed"), f"{t}:m"]
        verdict = await self._run(TAKE, keys, [number, agent, self.clock().isoformat(), message])
        _raise(number, verdict)
        return await self._must(number)

    async def claim(self, ticket_id: str, agent: str) -> Ticket:
        return await self._take(ticket_id, agent, "")

    async def reply(self, ticket_id: str, agent: str, text: str) -> Ticket:
        message = TicketMessage(self.clock(), f"staff:{agent}", text)
        return await self._take(ticket_id, agent, _dump(message.to_dict()))

    async def add_user_message(self, channel: str, user: str, text: str) -> Ticket | None:
        now = self.clock()
        message = _dump(TicketMessage(now, "user", text).to_dict())
        keys = [self._k("a", self._u(channel, user)), self._k("rev")]
        number = await self._run(ADD_USER, keys, [self.prefix, message, now.isoformat()])
        return None if not number else await self.get(str(number))

    async def close(self, ticket_id: str, agent: str, *, force: bool = False) -> Ticket:
        ticket = await self._must(ticket_id)
        t = self._k("t", ticket.id)
        keys = [t, self._k("rev"), *(self._k("s", s) for s in ("open", "claimed", "closed"))]
        keys.append(self._k("a", self._u(ticket.channel, ticket.user)))
        args = [ticket.id, agent, self.clock().isoformat(), "1" if force else "0"]
        _raise(ticket.id, await self._run(CLOSE, keys, args))
        return await self._must(ticket.id)

    async def mark_once(self, ticket_id: str, flag: Flag) -> bool:
        try:
            return bool(await self._r().sadd(self._k("t", _number(ticket_id), "f"), flag))
        except RedisError as exc:
            raise StoreError(f"redis tickets: {type(exc).__name__}: {exc}") from exc

    async def forget(self, channel: str, user: str) -> int:
        u = self._u(channel, user)
        keys = [self._k("u", u), self._k("a", u), self._k("w", u), self._k("rev")]
        args = [self.prefix, *(self._k("s", s) for s in ("open", "claimed", "closed"))]
        return int(await self._run(FORGET, keys, args))

    async def purge(self, older_than: datetime) -> int:
        # Every ticket id is in one of the status sets; windows expire by themselves (PEXPIRE).
        statuses = [self._k("s", s) for s in ("open", "claimed", "closed")]
        removed = 0
        try:
            r = self._r()
            for status in statuses:
                for number in await r.zrange(status, 0, -1):
                    removed += await self._purge_one(r, str(number), statuses, older_than)
        except RedisError as exc:
            raise StoreError(f"redis tickets: {type(exc).__name__}: {exc}") from exc
        return removed

    async def _purge_one(
        self, r: Redis, number: str, statuses: builtins.list[str], older_than: datetime
    ) -> int:
        t = self._k("t", number)
        updated, channel, user = await r.hmget(t, "updated_at", "channel", "user")
        if updated is None or channel is None or user is None:
            return 0
        if parse_time(str(updated)) >= older_than:
            return 0
        u = self._u(str(channel), str(user))
        keys = [t, self._k("rev"), *statuses, self._k("a", u), self._k("u", u)]
        return int(await r.eval(PURGE, len(keys), *keys, number, str(updated)))

    # The customer-service window -------------------------------------------------------------

    async def note_user_message(self, channel: str, user: str, at: datetime | None = None) -> None:
        ttl = int((WINDOW + timedelta(hours=1)) / timedelta(milliseconds=1))
        when = to_us(at or self.clock())
        await self._run(NOTE, [self._k("w", self._u(channel, user))], [when, ttl])

    async def window(self, channel: str, user: str) -> Window:
        try:
            raw = await self._r().hgetall(self._k("w", self._u(channel, user)))
        except RedisError as exc:
            raise StoreError(f"redis tickets: {type(exc).__name__}: {exc}") from exc
        if not raw:
            return Window(None)
        return Window(from_us(int(raw["last"])), int(raw.get("sent", 0)))

    async def reserve_message(self, channel: str, user: str) -> Window:
        span = WINDOW // timedelta(microseconds=1)
        key = self._k("w", self._u(channel, user))
        verdict, _, sent = await self._run(RESERVE, [key], [to_us(self.clock()), span, QUOTA])
        if verdict == "closed":
            raise WindowClosed("the user has not written within 48 hours")
        if verdict == "quota":
            raise QuotaUsed(f"{QUOTA} messages already sent since the user last wrote")
        window = await self.window(channel, user)
        return Window(window.last_user_at, int(sent))

    async def release_message(self, channel: str, user: str) -> None:
        await self._run(RELEASE, [self._k("w", self._u(channel, user))], [])


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _raise(ticket_id: str, verdict: builtins.list[Any]) -> None:
    if verdict[0] == "missing":
        raise TicketNotFound(ticket_id)
    if verdict[0] == "closed":
        raise TicketClosed(ticket_id)
    if verdict[0] == "conflict":
        raise TicketConflict(ticket_id, str(verdict[1]))


def _ticket(number: str, f: dict[str, str], messages: builtins.list[str]) -> Ticket:
    def when(name: str) -> datetime | None:
        return parse_time(f[name]) if f.get(name) else None

    return Ticket(
        id=number,
        channel=f["channel"],
        user=f["user"],
        reason=f["reason"],
        opened_at=parse_time(f["opened_at"]),
        status=check_status(f["status"]),
        claimed_by=f.get("claimed_by") or None,
        transcript=tuple(TicketMessage.from_dict(m) for m in json.loads(f["transcript"])),
        slots=json.loads(f["slots"]),
        assessment=json.loads(f["assessment"]),
        messages=tuple(TicketMessage.from_dict(json.loads(m)) for m in messages),
        updated_at=when("updated_at"),
        closed_at=when("closed_at"),
        closed_by=f.get("closed_by") or None,
    )


__all__ = ["RedisTickets"]
