"""`jifen-bot telegram set-webhook URL` and `jifen-bot telegram poll`.

set-webhook runs once at deploy time, not in every worker's start-up: with several workers
each would register again on every restart. poll runs the same bot (same handlers, service
and store as `serve`) with getUpdates, for development without a public HTTPS URL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import Any
from urllib.parse import urlsplit

from bot.errors import ConfigError, DataError

log = logging.getLogger(__name__)

# The update types the bot handles; Telegram then doesn't send (or bill us for) the rest.
ALLOWED_UPDATES = ["message", "callback_query"]
# Telegram delivers webhooks to these ports only (telegram.constants.SUPPORTED_WEBHOOK_PORTS).
WEBHOOK_PORTS = (443, 80, 88, 8443)


def register(sub: Any) -> None:
    p = sub.add_parser("telegram", help="Telegram: register the webhook, or run with polling")
    tg = p.add_subparsers(dest="telegram_command", required=True, metavar="ACTION")

    s = tg.add_parser(
        "set-webhook",
        help="register URL (ending in /telegram) with JIFEN_TELEGRAM_SECRET; once per deploy",
    )
    s.add_argument("url", metavar="URL", help="public HTTPS URL of POST /telegram")
    s.add_argument(
        "--drop-pending-updates",
        action="store_true",
        help="discard updates Telegram queued while no webhook answered",
    )
    s.set_defaults(func=set_webhook)

    poll = tg.add_parser("poll", help="run the bot with long polling (local development)")
    poll.add_argument("--log-level", default="info", choices=["error", "warning", "info", "debug"])
    poll.set_defaults(func=run_poll)


def set_webhook(args: argparse.Namespace) -> int:
    from bot.channels.telegram.settings import TOKEN, TelegramSettings

    try:
        settings = TelegramSettings.from_env(os.environ, need_secret=True)
        if settings is None:
            raise ConfigError(f"{TOKEN} is not set")
        _check_webhook_url(args.url)
    except ConfigError as exc:
        print(f"jifen-bot telegram set-webhook: {exc}", file=sys.stderr)
        return 2
    if not urlsplit(args.url).path.endswith("/telegram"):
        print(f"note: the server answers at /telegram; {args.url} must reach it", file=sys.stderr)
    return asyncio.run(_set_webhook(settings, args.url, args.drop_pending_updates))


async def _set_webhook(settings: Any, url: str, drop: bool) -> int:
    from telegram import Bot
    from telegram.error import TelegramError

    try:
        async with Bot(settings.token, base_url=settings.api_base) as bot:
            await bot.set_webhook(
                url,
                secret_token=settings.secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=drop,
            )
    except TelegramError as exc:
        print(f"jifen-bot telegram set-webhook: the Bot API refused: {exc}", file=sys.stderr)
        return 1
    print(f"webhook set: {url} (updates: {', '.join(ALLOWED_UPDATES)})")
    return 0


def _check_webhook_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(f"{url!r}: Telegram delivers webhooks to https:// URLs only")
    try:
        port = parts.port or 443
    except ValueError:
        raise ConfigError(f"{url!r}: the port is not a number") from None
    if port not in WEBHOOK_PORTS:
        ports = ", ".join(map(str, WEBHOOK_PORTS))
        raise ConfigError(f"{url!r}: Telegram delivers webhooks to ports {ports} only")


def run_poll(args: argparse.Namespace) -> int:
    from bot.channels.telegram.settings import TOKEN, TelegramSettings

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every getUpdates request at INFO; that is noise in a development console.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = TelegramSettings.from_env(os.environ, need_secret=False)
        if settings is None:
            raise ConfigError(f"{TOKEN} is not set")
        return asyncio.run(_poll(settings))
    except (ConfigError, DataError) as exc:
        print(f"jifen-bot telegram poll: {exc}", file=sys.stderr)
        return 2


async def _poll(settings: Any) -> int:
    from bot.channels.telegram.inbox import Inbox
    from bot.channels.telegram.mount import build_application, start_application, stop_application
    from bot.rules.ruleset import load_ruleset
    from bot.server.settings import ServerSettings
    from bot.server.wiring import make_matcher, make_service, make_store

    rules = load_ruleset()
    store = make_store(ServerSettings.from_env(os.environ).store_url)
    service = make_service(store, rules, make_matcher(rules))
    # Updates confirmed to Telegram but not yet processed are kept in the store's inbox, so
    # that stopping (or killing) the poller loses none: the next run processes them.
    inbox = Inbox(store)
    app, _ = build_application(settings, service, store, polling=True, inbox=inbox)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    replaying: asyncio.Task[None] | None = None
    await store.open()
    try:
        await start_application(app, settings)
        assert app.updater is not None  # build_application(polling=True) gives one
        # getUpdates and a webhook exclude each other: PTB removes the webhook first.
        log.warning("polling: the bot's webhook is removed; run set-webhook again to deploy")
        await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        replaying = asyncio.create_task(inbox.run(app))
        log.info("polling as @%s; Ctrl-C to stop", app.bot.username)
        await stop.wait()
    finally:
        if replaying is not None:
            replaying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await replaying
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        await stop_application(app)
        await store.close()
    return 0


__all__ = ["ALLOWED_UPDATES", "register", "run_poll", "set_webhook"]
