"""Tickets in SQLite: tables of their own in the bot's database file (WAL), own connection.

Each change is one `BEGIN IMMEDIATE` transaction: a claim is a check-and-set two workers cannot
both win. A partial unique index keeps one active ticket per user (`create` returns it).
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from .cs_window import from_us, to_us
from .sqlite_worker import SqliteWorker
from .tickets import (
    Flag,
    Status,
    Ticket,
    TicketClosed,
    TicketConflict,
    TicketMessage,
    TicketNotFound,
    TicketStore,
    Window,
    check_status,
    ticket_number,
    utcnow,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS staff_tickets(
  id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, user TEXT NOT NULL,
  reason TEXT NOT NULL, status TEXT NOT NULL, claimed_by TEXT,
  opened_us INTEGER NOT NULL, updated_us INTEGER NOT NULL, closed_us INTEGER, closed_by TEXT,
  transcript TEXT NOT NULL, slots TEXT NOT NULL, assessment TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS staff_tickets_status ON staff_tickets(status, id);
CREATE UNIQUE INDEX IF NOT EXISTS staff_tickets_active
  ON staff_tickets(channel, user) WHERE status != 'closed';
CREATE TABLE IF NOT EXISTS staff_messages(
  id INTEGER PRIMARY KEY AUTOINCREMENT, ticket INTEGER NOT NULL, at_us INTEGER NOT NULL,
  sender TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS staff_messages_ticket ON staff_messages(ticket, id);
CREATE TABLE IF NOT EXISTS staff_flags(ticket INTEGER NOT NULL, flag TEXT NOT NULL,
  PRIMARY KEY (ticket, flag));
CREATE TABLE IF NOT EXISTS staff_window(channel TEXT NOT NULL, user TEXT NOT NULL,
  last_us INTEGER NOT NULL, sent INTEGER NOT NULL, PRIMARY KEY (channel, user));
CREATE TABLE IF NOT EXISTS staff_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_COLUMNS = (
    "id, channel, user, reason, status, claimed_by, opened_us, updated_us, closed_us, "
    "closed_by, transcript, slots, assessment"
)
_ACTIVE = "channel = ? AND user = ? AND status != 'closed'"
_INSERT = (
    "INSERT INTO staff_tickets(channel, user, reason, status, opened_us, updated_us, "
    "transcript, slots, assessment) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)"
)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class SqliteTickets(TicketStore):
    """Parameters: `path` of the database file (the bot store's); `clock`; `busy_timeout`."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], datetime] = utcnow,
        busy_timeout: float = 5.0,
    ) -> None:
        super().__init__(clock)
        self.path = str(path)
        self._db = SqliteWorker(path, _SCHEMA, busy_timeout=busy_timeout, name="tickets")

    async def connect(self) -> None:
        await self._db.connect()

    async def disconnect(self) -> None:
        await self._db.disconnect()

    # Reading (inside transactions, so that a ticket and its messages agree) --------------------

    def _load(self, conn: sqlite3.Connection, where: str, *params: Any) -> builtins.list[Ticket]:
        sql = f"SELECT {_COLUMNS} FROM staff_tickets WHERE {where}"  # noqa: S608 - fixed SQL
        tickets = []
        for row in conn.execute(sql, params).fetchall():
            messages = conn.execute(
                "SELECT at_us, sender, text FROM staff_messages WHERE ticket = ? ORDER BY id",
                (row[0],),
            ).fetchall()
            tickets.append(_ticket(row, messages))
        return tickets

    def _one(self, conn: sqlite3.Connection, number: int) -> Ticket:
        found = self._load(conn, "id = ?", number)
        if not found:
            raise TicketNotFound(str(number))
        return found[0]

    async def get(self, ticket_id: str) -> Ticket | None:
        try:
            number = ticket_number(ticket_id)
        except TicketNotFound:
            return None
        found = await self._db.tx(lambda c: self._load(c, "id = ?", number))
        return found[0] if found else None

    async def list(self, status: Status, limit: int = 100) -> builtins.list[Ticket]:
        order = "DESC" if check_status(status) == "closed" else "ASC"
        where = f"status = ? ORDER BY id {order} LIMIT ?"
        return await self._db.tx(lambda c: self._load(c, where, status, limit))

    async def open_ticket_for(self, channel: str, user: str) -> Ticket | None:
        found = await self._db.tx(lambda c: self._load(c, _ACTIVE, channel, user))
        return found[0] if found else None

    async def revision(self) -> int:
        sql = "SELECT value FROM staff_meta WHERE key = 'rev'"
        rows = await self._db.tx(lambda c: c.execute(sql).fetchall())
        return int(rows[0][0]) if rows else 0

    # Changing -------------------------------------------------------------------------------

    def _bump(self, conn: sqlite3.Connection, number: int | None = None) -> None:
        conn.execute(
            "INSERT INTO staff_meta(key, value) VALUES ('rev', 1) "
            "ON CONFLICT(key) DO UPDATE SET value = value + 1"
        )
        if number is not None:
            now = to_us(self.clock())
            conn.execute("UPDATE staff_tickets SET updated_us = ? WHERE id = ?", (now, number))

    async def create(
        self,
        channel: str,
        user: str,
        reason: str,
        transcript: builtins.list[TicketMessage],
        slots: dict[str, Any],
        assessment: builtins.list[dict[str, Any]],
    ) -> Ticket:
        lines = _json([m.to_dict() for m in transcript])

        def write(conn: sqlite3.Connection) -> Ticket:
            active = self._load(conn, _ACTIVE, channel, user)
            if active:
                return active[0]
            now = to_us(self.clock())
            values = (channel, user, reason, now, now, lines, _json(slots), _json(assessment))
            number = conn.execute(_INSERT, values).lastrowid
            assert number is not None
            self._bump(conn)
            return self._one(conn, number)

        return await self._db.tx(write)

    def _take(self, conn: sqlite3.Connection, number: int, agent: str) -> None:
        """Claim inside a transaction: the check and the write are one step."""
        ticket = self._one(conn, number)
        if ticket.status == "closed":
            raise TicketClosed(ticket.id)
        if ticket.status == "claimed" and ticket.claimed_by != agent:
            raise TicketConflict(ticket.id, ticket.claimed_by or "?")
        if ticket.status == "open":
            sql = "UPDATE staff_tickets SET status = 'claimed', claimed_by = ? WHERE id = ?"
            conn.execute(sql, (agent, number))
            self._bump(conn, number)

    def _append(self, conn: sqlite3.Connection, number: int, sender: str, text: str) -> Ticket:
        conn.execute(
            "INSERT INTO staff_messages(ticket, at_us, sender, text) VALUES (?, ?, ?, ?)",
            (number, to_us(self.clock()), sender, text),
        )
        self._bump(conn, number)
        return self._one(conn, number)

    async def claim(self, ticket_id: str, agent: str) -> Ticket:
        number = ticket_number(ticket_id)

        def write(conn: sqlite3.Connection) -> Ticket:
            self._take(conn, number, agent)
            return self._one(conn, number)

        return await self._db.tx(write)

    async def reply(self, ticket_id: str, agent: str, text: str) -> Ticket:
        number = ticket_number(ticket_id)

        def write(conn: sqlite3.Connection) -> Ticket:
            self._take(conn, number, agent)
            return self._append(conn, number, f"staff:{agent}", text)

        return await self._db.tx(write)

    async def add_user_message(self, channel: str, user: str, text: str) -> Ticket | None:
        def write(conn: sqlite3.Connection) -> Ticket | None:
            active = self._load(conn, _ACTIVE, channel, user)
            return self._append(conn, int(active[0].id), "user", text) if active else None

        return await self._db.tx(write)

    async def close(self, ticket_id: str, agent: str, *, force: bool = False) -> Ticket:
        number = ticket_number(ticket_id)

        def write(conn: sqlite3.Connection) -> Ticket:
            ticket = self._one(conn, number)
            if ticket.status == "closed":
                raise TicketClosed(ticket.id)
            if ticket.status == "claimed" and ticket.claimed_by != agent and not force:
                raise TicketConflict(ticket.id, ticket.claimed_by or "?")
            sql = "UPDATE staff_tickets SET status = 'closed', closed_us = ?, closed_by = ? "
            conn.execute(sql + "WHERE id = ?", (to_us(self.clock()), agent, number))
            self._bump(conn, number)
            return self._one(conn, number)

        return await self._db.tx(write)

    async def mark_once(self, ticket_id: str, flag: Flag) -> bool:
        number = ticket_number(ticket_id)
        sql = "INSERT OR IGNORE INTO staff_flags(ticket, flag) VALUES (?, ?)"
        return await self._db.tx(lambda c: c.execute(sql, (number, flag)).rowcount == 1)

    async def forget(self, channel: str, user: str) -> int:
        who = (channel, user)

        def erase(conn: sqlite3.Connection) -> int:
            mine = "SELECT id FROM staff_tickets WHERE channel = ? AND user = ?"
            for table in ("staff_messages", "staff_flags"):
                conn.execute(f"DELETE FROM {table} WHERE ticket IN ({mine})", who)  # noqa: S608
            gone = conn.execute("DELETE FROM staff_tickets WHERE channel = ? AND user = ?", who)
            conn.execute("DELETE FROM staff_window WHERE channel = ? AND user = ?", who)
            self._bump(conn)
            return int(gone.rowcount)

        return await self._db.tx(erase)

    async def purge(self, older_than: datetime) -> int:
        cutoff = to_us(older_than)

        def erase(conn: sqlite3.Connection) -> int:
            old = "SELECT id FROM staff_tickets WHERE updated_us < ?"
            for table in ("staff_messages", "staff_flags"):
                conn.execute(f"DELETE FROM {table} WHERE ticket IN ({old})", (cutoff,))  # noqa: S608
            gone = conn.execute("DELETE FROM staff_tickets WHERE updated_us < ?", (cutoff,))
            conn.execute("DELETE FROM staff_window WHERE last_us < ?", (cutoff,))
            if gone.rowcount:
                self._bump(conn)
            return int(gone.rowcount)

        return await self._db.tx(erase)

    # The customer-service window -------------------------------------------------------------

    async def note_user_message(self, channel: str, user: str, at: datetime | None = None) -> None:
        sql = (
            "INSERT INTO staff_window(channel, user, last_us, sent) VALUES (?, ?, ?, 0) "
            "ON CONFLICT(channel, user) DO UPDATE SET last_us = excluded.last_us, sent = 0 "
            "WHERE excluded.last_us >= staff_window.last_us"  # a late older message: no change
        )
        when = to_us(at or self.clock())
        await self._db.tx(lambda c: c.execute(sql, (channel, user, when)))

    def _window(self, conn: sqlite3.Connection, channel: str, user: str) -> Window:
        sql = "SELECT last_us, sent FROM staff_window WHERE channel = ? AND user = ?"
        row = conn.execute(sql, (channel, user)).fetchone()
        return Window(None) if row is None else Window(from_us(row[0]), int(row[1]))

    async def window(self, channel: str, user: str) -> Window:
        return await self._db.tx(lambda c: self._window(c, channel, user))

    async def reserve_message(self, channel: str, user: str) -> Window:
        def write(conn: sqlite3.Connection) -> Window:
            window = self._window(conn, channel, user)
            window.check(self.clock())
            sql = "UPDATE staff_window SET sent = sent + 1 WHERE channel = ? AND user = ?"
            conn.execute(sql, (channel, user))
            return Window(window.last_user_at, window.sent + 1)

        return await self._db.tx(write)

    async def release_message(self, channel: str, user: str) -> None:
        sql = "UPDATE staff_window SET sent = sent - 1 WHERE channel = ? AND user = ? AND sent > 0"
        await self._db.tx(lambda c: c.execute(sql, (channel, user)))


def _ticket(row: tuple[Any, ...], messages: builtins.list[tuple[Any, ...]]) -> Ticket:
    (number, channel, user, reason, status, claimed_by, opened, updated, closed, closed_by,
     transcript, slots, assessment) = row  # fmt: skip
    return Ticket(
        id=str(number),
        channel=channel,
        user=user,
        reason=reason,
        opened_at=from_us(opened),
        status=check_status(status),
        claimed_by=claimed_by,
        transcript=tuple(TicketMessage.from_dict(m) for m in json.loads(transcript)),
        slots=json.loads(slots),
        assessment=json.loads(assessment),
        messages=tuple(TicketMessage(from_us(at), s, t) for at, s, t in messages),
        updated_at=from_us(updated),
        closed_at=None if closed is None else from_us(closed),
        closed_by=closed_by,
    )


__all__ = ["SqliteTickets"]
