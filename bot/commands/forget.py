"""`jifen-bot forget` and `jifen-bot purge`: erase one user's data, or everything too old."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.errors import ConfigError
from bot.store.base import Store, StoreError, UserKey


def register(sub: Any) -> None:
    p = sub.add_parser("forget", help="erase everything kept about one user")
    p.add_argument("--channel", required=True, help="terminal, wechat, telegram …")
    p.add_argument("--user", required=True, help="the user id on that channel")
    p.add_argument("--store", default=None, help="store URL (default: $JIFEN_STORE or SQLite)")
    p.set_defaults(func=forget)
    p = sub.add_parser(
        "purge", help="erase sessions, transcripts and staff tickets older than the retention"
    )
    p.add_argument(
        "--days",
        type=_days,
        default=None,
        help="keep this many days (default: session.retention_days of flow.yaml)",
    )
    p.add_argument("--store", default=None, help="store URL (default: $JIFEN_STORE or SQLite)")
    p.set_defaults(func=purge)  # fmt: skip


def _days(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("a whole number of days, at least 1")
    return int(text)


def _with_store(url: str | None, work: Any, name: str) -> int:
    from bot.store.factory import open_store

    async def run() -> int:
        store: Store = open_store(url)
        await store.open()
        try:
            result: int = await work(store)
            return result
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except (ConfigError, StoreError) as exc:
        print(f"jifen-bot {name}: {exc}", file=sys.stderr)
        return 2


def forget(args: argparse.Namespace) -> int:
    from bot.service import forget_user

    key = UserKey(args.channel, args.user)

    async def work(store: Store) -> int:
        await forget_user(store, key)
        print(f"forgot {key}")
        return 0

    return _with_store(args.store, work, "forget")


def purge(args: argparse.Namespace) -> int:
    from bot.dialog.flow import load_flow

    days = args.days or load_flow().session.retention_days
    cutoff = datetime.now(UTC) - timedelta(days=days)

    async def work(store: Store) -> int:
        from bot.store.tickets import purge_tickets

        removed = await store.purge(cutoff)
        tickets = await purge_tickets(store, cutoff)
        print(
            f"removed {removed} rows and {tickets} staff tickets last touched before "
            f"{cutoff:%Y-%m-%d %H:%M} UTC"
        )
        return 0

    return _with_store(args.store, work, "purge")
