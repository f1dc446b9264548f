"""`jifen-bot serve`: the HTTP server (WeChat, Telegram, health, rules API) under uvicorn."""

from __future__ import annotations

import argparse
import logging
import logging.config
import os
import sys
from typing import Any

from bot.errors import ConfigError, DataError

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the HTTP server (channels, /healthz, /api, /metrics)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="worker processes (default 1; more need a shared store such as Redis)",
    )
    add_stack_options(p, "")
    p.add_argument(
        "--log-level",
        default=None,
        choices=["critical", "error", "warning", "info", "debug"],
        help="default: JIFEN_LOG_LEVEL, else info",
    )
    p.set_defaults(func=serve)


def add_stack_options(p: argparse.ArgumentParser, whose: str) -> None:
    """--http and --loop, uvicorn's choices of HTTP parser and event loop (also for bench/)."""
    p.add_argument(
        "--http",
        choices=["auto", "httptools", "h11"],
        default="auto",
        help=f"HTTP parser{whose} (default auto: httptools, installed with the bot)",
    )
    p.add_argument(
        "--loop",
        choices=["auto", "uvloop", "asyncio"],
        default="auto",
        help=f"event loop{whose} (default auto: uvloop, installed with the bot)",
    )


def serve(args: argparse.Namespace) -> int:
    from bot import logs
    from bot.server.metrics_dir import ENV as METRICS_ENV
    from bot.server.metrics_dir import multiprocess_dir

    try:
        level, fmt = logs.settings(os.environ, args.log_level)
    except ConfigError as exc:
        print(f"jifen-bot serve: configuration error: {exc}", file=sys.stderr)
        return 2
    if not os.environ.get(logs.KEY_ENV):
        # One random key for this run, shared by the workers, so that a user's lines carry the
        # same pseudonym whichever worker wrote them. Set JIFEN_LOG_KEY to keep it across runs.
        os.environ[logs.KEY_ENV] = os.urandom(32).hex()
    config = logs.log_config(level, fmt)
    logging.config.dictConfig(config)  # this process too: building the app logs already
    if args.workers == 1 and not os.environ.get(METRICS_ENV):
        # One process: its own registry is the whole server's. Multiprocess mode would cost a
        # memory-mapped write and a pid check on every increment, several per message.
        return _run(args, level, config)
    # Before anything imports prometheus_client: it chooses multiprocess mode at import.
    try:
        with multiprocess_dir():
            return _run(args, level, config)
    except ConfigError as exc:  # an unusable PROMETHEUS_MULTIPROC_DIR
        print(f"jifen-bot serve: configuration error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, level: str, config: dict[str, Any]) -> int:
    import uvicorn

    from bot.server.app import build_app

    try:
        # Built here even with several workers: a bad setting fails once, before listening.
        app = build_app()
    except (ConfigError, DataError) as exc:
        print(f"jifen-bot serve: configuration error: {exc}", file=sys.stderr)
        return 2
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": level,
        "log_config": config,
        "proxy_headers": False,
        "http": args.http,
        "loop": args.loop,
    }
    if args.workers > 1:
        # Each worker builds its own app from the same environment (uvicorn needs a factory).
        uvicorn.run("bot.server.app:create_app", factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(app, **options)
    return 0


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError("port must be between 1 and 65535")
    return value


def _workers(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("workers must be between 1 and 64")
    return value
