"""The Telegram channel as mounted in `jifen-bot serve`, and the Application both modes share.

python-telegram-bot is the transport only: the Application turns JSON into Update objects,
routes them to our handlers and sends with its Bot. Conversation state lives in our store,
never in PTB (its ConversationHandler state is per process; see docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.routing import BaseRoute
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot.channels.telegram.handlers import Conversation, Handlers
from bot.channels.telegram.inbox import Inbox, KeepingQueue
from bot.channels.telegram.ordering import PerChatOrder
from bot.channels.telegram.routes import PATH, Webhook
from bot.channels.telegram.sender import Sender
from bot.channels.telegram.settings import API_BASE, TOKEN, TelegramSettings
from bot.channels.telegram.texts import load_telegram_texts
from bot.channels.texts import ChannelTexts
from bot.dialog.replies import Reply
from bot.errors import ConfigError
from bot.store.base import Store

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]


def build_application(
    settings: TelegramSettings,
    service: Conversation,
    store: Store,
    *,
    polling: bool = False,
    texts: ChannelTexts | None = None,
    inbox: Inbox | None = None,
) -> tuple[App, Handlers]:
    """The bot's Application and its handlers; with `polling` it gets an Updater for
    getUpdates, otherwise updates arrive through the webhook route. Each update processed
    is taken out of `inbox`, if given; when polling, each update is also kept in it as it is
    queued (the webhook does that itself)."""
    builder = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.api_base)
        .concurrent_updates(PerChatOrder(done=None if inbox is None else inbox.done))
    )
    if not polling:
        builder = builder.updater(None)
    elif inbox is not None:
        builder = builder.update_queue(KeepingQueue(inbox))
    app: App = builder.build()
    handlers = Handlers(service, store, Sender(app.bot), texts or load_telegram_texts())
    handlers.install(app)
    return app, handlers


async def start_application(app: App, settings: TelegramSettings) -> None:
    """initialize() + start(); a refused token or an unreachable API stops start-up with a
    message naming the setting to check."""
    try:
        await app.initialize()
    except InvalidToken as exc:
        raise ConfigError(f"{TOKEN}: refused by the Bot API ({exc})") from None
    except TelegramError as exc:
        raise ConfigError(
            f"Telegram Bot API unreachable at {settings.api_base} ({API_BASE}): {exc}"
        ) from None
    await app.start()
    log.info("telegram: bot @%s ready", app.bot.username)


async def stop_application(app: App) -> None:
    # stop() lets updates already queued finish, so a reply being sent is not cut off.
    if app.running:
        await app.stop()
    await app.shutdown()


class TelegramMount:
    """ChannelMount for bot.server: POST /telegram plus the Application's start and stop."""

    name = "telegram"

    def __init__(
        self,
        app: App,
        handlers: Handlers,
        settings: TelegramSettings,
        routes: list[BaseRoute],
        inbox: Inbox | None = None,
    ) -> None:
        self.application = app
        self.handlers = handlers
        self.settings = settings
        self.inbox = inbox
        self._routes = routes
        self._replaying: asyncio.Task[None] | None = None

    @property
    def routes(self) -> list[BaseRoute]:
        return self._routes

    def summary(self) -> str:
        """For the server's start-up line "channels on: ..." (no secrets)."""
        return f"webhook POST {PATH}, Bot API {self.settings.api_base}"

    async def startup(self) -> None:
        await start_application(self.application, self.settings)
        if self.inbox is not None:
            self._replaying = asyncio.create_task(self.inbox.run(self.application))

    async def shutdown(self) -> None:
        if self._replaying is not None:
            self._replaying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replaying
            self._replaying = None
        await stop_application(self.application)

    async def deliver(self, user: str, replies: Sequence[Reply]) -> None:
        """Send replies that come from outside a user's message (a colleague's answer to a
        handoff) to `user`, the chat id the service knows the user by."""
        await self.handlers.deliver(int(user), replies)


def from_env(env: Mapping[str, str], service: Conversation, store: Store) -> TelegramMount | None:
    """The mount, or None when JIFEN_TELEGRAM_TOKEN is absent. Raises ConfigError on a
    malformed setting and DialogDataError on a broken dialogs/telegram.yaml."""
    settings = TelegramSettings.from_env(env, need_secret=True)
    if settings is None:
        return None
    assert settings.secret is not None  # need_secret=True guarantees it
    inbox = Inbox(store)
    app, handlers = build_application(settings, service, store, inbox=inbox)
    # Replies in the staff group (JIFEN_TELEGRAM_STAFF_CHAT) arrive by this webhook too.
    from bot.staff.group import install as install_staff_group

    install_staff_group(app, env, store)
    webhook = Webhook(settings.secret, app, store, inbox)
    return TelegramMount(app, handlers, settings, webhook.routes(), inbox)


__all__ = [
    "App",
    "TelegramMount",
    "build_application",
    "from_env",
    "start_application",
    "stop_application",
]
