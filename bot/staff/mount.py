"""`from_env`: the staff console as mounted by `jifen-bot serve`, or None when JIFEN_STAFF_SECRET
is absent. Mounting it also attaches the handoff desk to the conversation service, so that a
request for a colleague opens a ticket and the bot waits while staff have the user."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from starlette.routing import BaseRoute

from bot.errors import ConfigError
from bot.store.base import Store
from bot.store.tickets import TicketStore, ticket_store_for, utcnow

from .accounts import Accounts
from .actions import StaffActions
from .api import StaffAPI
from .auth import LoginLimiter, Sessions
from .config import STAFF_CHAT, StaffSettings
from .console import Console
from .desk import HandoffDesk
from .group import StaffGroup
from .relay import Relay, TelegramOut, relay_from_env
from .texts import load_staff_texts
from .watch import Watcher

log = logging.getLogger(__name__)


class StaffMount:
    name = "staff"

    def __init__(
        self,
        settings: StaffSettings,
        tickets: TicketStore,
        relay: Relay,
        desk: HandoffDesk,
        watcher: Watcher,
        routes: list[BaseRoute],
    ) -> None:
        self.settings = settings
        self.tickets = tickets
        self.relay = relay
        self.desk = desk
        self.watcher = watcher
        self._routes = routes

    @property
    def routes(self) -> list[BaseRoute]:
        return self._routes

    def summary(self) -> str:
        reach = ", ".join(sorted(self.relay.outs)) or "no channel to reply to"
        group = ", staff group on" if self.watcher.group is not None else ""
        return f"/staff, replies to {reach}, timeout {self.settings.timeout:g} s{group}"

    def join(self, mounts: Sequence[object]) -> None:
        """Called by the server once every mount is built: the WeChat channel's own
        customer-service messages (late or long answers) count against the same quota of 5
        per user message as staff replies, so the console shows what is really left."""
        for mount in mounts:
            count_sends = getattr(mount, "count_sends", None)
            if callable(count_sends):
                count_sends(self.tickets)

    async def startup(self) -> None:
        await self.tickets.connect()
        await self.relay.start()
        self.watcher.start()

    async def shutdown(self) -> None:
        await self.watcher.stop()
        await self.desk.drain()
        await self.relay.stop()
        await self.tickets.disconnect()


def build_mount(
    settings: StaffSettings,
    env: Mapping[str, str],
    service: Any,
    store: Store,
    clock: Callable[[], datetime] = utcnow,
) -> StaffMount:
    texts = load_staff_texts()
    tickets = ticket_store_for(store, clock)
    relay = relay_from_env(env, service, store, tickets)
    desk = HandoffDesk(tickets, texts, settings.hours)
    attach = getattr(service, "attach_handoff", None)
    if callable(attach):
        attach(desk)
    else:
        log.warning("staff: the service takes no handoff desk; conversations open no tickets")
    actions = StaffActions(tickets, relay, desk, texts, clock)
    group = None
    if settings.staff_chat is not None:
        out = relay.outs.get("telegram")
        if not isinstance(out, TelegramOut):
            raise ConfigError(f"{STAFF_CHAT} is set but the Telegram channel is not configured")
        group = StaffGroup(out.bot, settings.staff_chat, store, tickets, actions, texts)
    watcher = Watcher(tickets, relay, store, texts, settings.timeout, group, clock)
    desk.listeners.append(watcher.announce)
    api = StaffAPI(
        settings,
        Accounts(store),
        Sessions(settings.secret, settings.session_seconds),
        LoginLimiter(store),
        tickets,
        actions,
        clock,
    )
    routes = [*Console(texts).routes, *api.routes]
    return StaffMount(settings, tickets, relay, desk, watcher, routes)


def from_env(env: Mapping[str, str], service: Any, store: Store) -> StaffMount | None:
    settings = StaffSettings.from_env(env)
    if settings is None:
        return None
    return build_mount(settings, env, service, store)


__all__ = ["StaffMount", "build_mount", "from_env"]
