"""`jifen-bot serve`: the HTTP server (WeChat, Telegram, health, rules API) under uvicorn."""

from __future__ import annotations

import argparse
import copy
import logging
import sys
from typing import Any

from bot.errors import ConfigError, DataError

log = logging.getLogger(__name__)
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the HTTP server (channels, /healthz, /api)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="worker processes (default 1; more need a shared store such as Redis)",
    )
    p.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    p.set_defaults(func=serve)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.server.app import build_app

    logging.basicConfig(level=args.log_level.upper(), format=FORMAT)
    try:
        # Built here even with several workers: a bad setting fails once, before listening.
        app = build_app()
    except (ConfigError, DataError) as exc:
        print(f"jifen-bot serve: configuration error: {exc}", file=sys.stderr)
        return 2
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "log_config": log_config(args.log_level),
        "proxy_headers": False,
    }
    if args.workers > 1:
        # Each worker builds its own app from the same environment (uvicorn needs a factory).
        uvicorn.run("bot.server.app:create_app", factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(app, **options)
    return 0


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging plus our own loggers. uvicorn applies it in every worker process,
    where a basicConfig made here in the parent would not reach."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["bot"] = {"format": FORMAT}
    config["handlers"]["bot"] = {
        "formatter": "bot",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["bot"] = {"handlers": ["bot"], "level": level.upper(), "propagate": False}
    return config


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
