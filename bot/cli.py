"""The `jifen-bot` command: one sub-command per module in bot.commands."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module defines `register(subparsers)`, adding its sub-command(s) with
# `set_defaults(func=...)`; func(args) returns the exit status.
COMMAND_MODULES = (
    "bot.commands.rules",
    "bot.commands.match",
    "bot.commands.serve",
    "bot.commands.chat",
    "bot.commands.forget",
    "bot.commands.telegram",
    "bot.commands.staff",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jifen-bot",
        description="上海居住证积分 certificate assistant: rules, matching, chat and server.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Chinese output must survive a pipe whatever the locale.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8", errors="replace")
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except BrokenPipeError:  # `jifen-bot catalogue --json | head`: the reader left, not an error
        sys.stderr.close()
        return 0
    return status


if __name__ == "__main__":
    raise SystemExit(main())
