"""`jifen-bot chat`: talk to the bot in the terminal (no tokens, no server)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from typing import Any

from bot.errors import ConfigError, DataError
from bot.store.base import StoreError


class _NoTraces(logging.Formatter):
    """Log lines without stack traces: the person at the terminal is a user, not a developer."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return ""

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return ""


def register(sub: Any) -> None:
    p = sub.add_parser("chat", help="chat with the bot in this terminal (or from a pipe)")
    p.add_argument("--user", default=None, help="user id; the same id continues the session")
    p.add_argument("--store", default=None, help="store URL (default: $JIFEN_STORE or SQLite)")
    p.set_defaults(func=chat)


def default_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "local"


def chat(args: argparse.Namespace) -> int:
    from bot.channels.terminal import Terminal, use_colour
    from bot.service import build_service
    from bot.store.factory import open_store

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_NoTraces("jifen-bot: %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    with asyncio.Runner() as runner:
        try:
            store = open_store(args.store)
            runner.run(store.open())
        except (ConfigError, StoreError) as exc:
            print(f"jifen-bot chat: cannot open the store: {exc}", file=sys.stderr)
            return 2
        try:
            service = build_service(store)
            terminal = Terminal(
                service,
                args.user or default_user(),
                sys.stdin,
                sys.stdout,
                colour=use_colour(sys.stdout),
            )
            if sys.stdin.isatty():
                return terminal.run_interactive(runner)
            return terminal.run_script(runner)
        except (ConfigError, DataError) as exc:
            print(f"jifen-bot chat: {exc}", file=sys.stderr)
            return 2
        finally:
            runner.run(store.close())
