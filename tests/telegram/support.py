"""What the Telegram tests share besides fixtures: the bot's credentials, the channel mounted
alone in a Starlette app, and delivering updates to an app the way Telegram does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette

from bot.channels.telegram.mount import TelegramMount, from_env

TOKEN = "123456:TEST-token_abc"
SECRET = "s3cret-Token_for-tests"


def channel_app(env: dict[str, str], service: Any, store: Any) -> Starlette:
    """The Telegram mount alone in a Starlette app, started and stopped as the server does."""
    return mounted_app(env, service, store)[0]


def mounted_app(env: dict[str, str], service: Any, store: Any) -> tuple[Starlette, TelegramMount]:
    """`channel_app` and the mount in it, for tests that reach inside the channel."""
    mount = from_env(env, service, store)
    assert mount is not None

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await mount.startup()
        yield
        await mount.shutdown()

    return Starlette(routes=mount.routes, lifespan=lifespan), mount


class Live:
    """An app under test on loopback, receiving updates as Telegram delivers them."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def post(self, update: Any, *, secret: str | None = SECRET) -> httpx.Response:
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            if isinstance(update, bytes | str):
                return await client.post("/telegram", content=update, headers=headers)
            return await client.post("/telegram", json=update, headers=headers)
