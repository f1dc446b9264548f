"""`from_env`: the WeChat channel as mounted by `jifen-bot serve`, or None when not configured."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.routing import BaseRoute

from bot.channels.texts import ChannelTexts, load_channel_texts
from bot.channels.wechat.api import WeChatAPI
from bot.channels.wechat.budget import Responder
from bot.channels.wechat.config import WeChatConfig, read_config
from bot.channels.wechat.crypto import SafeMode
from bot.channels.wechat.dedupe import LEASE, Dedupe, LocalDedupe
from bot.channels.wechat.handler import TEXT_KEYS, Handler, ServiceLike
from bot.channels.wechat.quota import CountedSender, Window
from bot.channels.wechat.routes import WeChatEndpoint
from bot.store.base import Store

log = logging.getLogger(__name__)
DRAIN_SECONDS = 10.0  # how long shutdown waits for late answers still being sent


@dataclass
class WeChatMount:
    config: WeChatConfig
    endpoint: WeChatEndpoint
    responder: Responder
    api: WeChatAPI | None
    name: str = "wechat"

    @property
    def routes(self) -> list[BaseRoute]:
        return self.endpoint.routes

    def summary(self) -> str:
        return self.config.summary()

    def count_sends(self, window: Window) -> None:
        """From now on the bot's own customer-service messages are counted in `window` (the
        staff console's, which keeps WeChat's quota per user: quota.py)."""
        if self.api is not None:
            self.responder.sender = CountedSender(self.api, window)

    async def startup(self) -> None:
        return None

    async def shutdown(self) -> None:
        await self.responder.drain(DRAIN_SECONDS)
        if self.api is not None:
            await self.api.aclose()


def build_mount(
    config: WeChatConfig, service: ServiceLike, store: Store, texts: ChannelTexts | None = None
) -> WeChatMount:
    texts = texts or load_channel_texts(TEXT_KEYS)
    api = None
    if config.app_id is not None and config.secret is not None:
        api = WeChatAPI(config.api_base, config.app_id, config.secret, store)
    safe = None
    if config.aes_key is not None and config.app_id is not None:
        safe = SafeMode(config.token.reveal(), config.aes_key.reveal(), config.app_id)
    dedupe: Dedupe
    if store.leases:
        # A retry must be able to outwait the claim of a dead worker within its own budget, or
        # it would answer `success` while nobody answers the user.
        dedupe = Dedupe(store, lease=min(LEASE, 0.75 * config.budget))
    else:
        dedupe = LocalDedupe(store)
    responder = Responder(Handler(service, texts), dedupe, api, config.budget)
    endpoint = WeChatEndpoint(config.token.reveal(), responder, safe, config.max_skew)
    return WeChatMount(config, endpoint, responder, api)


def from_env(env: Mapping[str, str], service: ServiceLike, store: Store) -> WeChatMount | None:
    config = read_config(env)
    if config is None:
        return None
    return build_mount(config, service, store)


__all__ = ["WeChatMount", "build_mount", "from_env"]
