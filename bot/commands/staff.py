"""`jifen-bot staff add NAME` and `jifen-bot staff remove NAME`: accounts of the staff console.

The password is read from standard input (one line), never from the command line, where it
would show in the shell history and in `ps`. On a terminal it is asked twice without echo.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from bot.errors import ConfigError, InputError
from bot.store.base import StoreError


def register(sub: Any) -> None:
    p = sub.add_parser("staff", help="manage accounts of the staff console (/staff)")
    actions = p.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create an account or set a new password (from stdin)")
    add.add_argument("name", help="the staff member's sign-in name")
    add.add_argument("--store", default=None, help="store URL (default: $JIFEN_STORE or SQLite)")
    add.set_defaults(func=add_account)
    remove = actions.add_parser("remove", help="delete an account (its sign-ins end at once)")
    remove.add_argument("name")
    remove.add_argument("--store", default=None, help="store URL (default: $JIFEN_STORE or SQLite)")
    remove.set_defaults(func=remove_account)


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise InputError("the two passwords differ")
        return first
    line = sys.stdin.readline()
    return line[:-1] if line.endswith("\n") else line


def _run(url: str | None, work: Any) -> int:
    from bot.staff.accounts import Accounts
    from bot.store.factory import open_store

    async def run() -> int:
        store = open_store(url)
        await store.open()
        try:
            result: int = await work(Accounts(store))
            return result
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except (ConfigError, StoreError, InputError) as exc:
        print(f"jifen-bot staff: {exc}", file=sys.stderr)
        return 2


def add_account(args: argparse.Namespace) -> int:
    try:
        password = _password()
    except InputError as exc:
        print(f"jifen-bot staff: {exc}", file=sys.stderr)
        return 2

    async def work(accounts: Any) -> int:
        new = await accounts.add(args.name, password)
        print(f"{'added' if new else 'updated the password of'} {args.name.strip()}")
        return 0

    return _run(args.store, work)


def remove_account(args: argparse.Namespace) -> int:
    async def work(accounts: Any) -> int:
        if await accounts.remove(args.name):
            print(f"removed {args.name.strip()}")
            return 0
        print(f"jifen-bot staff: no account named {args.name!r}", file=sys.stderr)
        return 1

    return _run(args.store, work)
