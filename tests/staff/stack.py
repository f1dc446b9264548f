"""The whole app with the staff console mounted, on a real SQLite file, for API and browser
tests; staff accounts are created beforehand as `jifen-bot staff add` would."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from bot.server.app import build_app
from bot.service import build_service
from bot.staff.accounts import Accounts
from bot.store.sqlite import SqliteStore

SECRET = "test-staff-secret-0123456789abcdef"
PASSWORDS = {"amy": "amy-password-123", "bob": "bob-password-456"}
CHANNELS = (
    "bot.channels.wechat.mount:from_env",
    "bot.channels.telegram.mount:from_env",
    "bot.staff.mount:from_env",
)


async def create_accounts(path: Path, passwords: dict[str, str] = PASSWORDS) -> None:
    store = SqliteStore(path)
    await store.open()
    try:
        for name, password in passwords.items():
            await Accounts(store).add(name, password)
    finally:
        await store.close()


def add_accounts(path: Path, passwords: dict[str, str] = PASSWORDS) -> None:
    """For plain (sync) tests; async tests await create_accounts. In a thread of its own:
    Playwright's sync API keeps an event loop marked running in the test's thread."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, create_accounts(path, passwords)).result()


def staff_app(
    path: Path, env: dict[str, str], rules: Any, matcher: Any, registry: tuple[str, ...] = CHANNELS
) -> Starlette:
    store = SqliteStore(path)
    service = build_service(store, rules=rules, matcher=matcher)
    full = {"JIFEN_STAFF_SECRET": SECRET, **env}
    return build_app(
        full, store=store, service=service, rules=rules, matcher=matcher, registry=registry
    )
