"""The WeChat channel's settings, from the environment only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.channels.wechat.crypto import AES_KEY_LENGTH, decode_aes_key
from bot.errors import ConfigError
from bot.server.settings import Secret, env_float, env_secret, env_str, env_url

DEFAULT_API_BASE = "https://api.weixin.qq.com"
_TOKEN = re.compile(r"[A-Za-z0-9]{3,32}")  # what the 公众号 console accepts as Token
_APPID = re.compile(r"[A-Za-z0-9_-]{4,64}")


@dataclass(frozen=True, slots=True)
class WeChatConfig:
    token: Secret
    app_id: str | None
    secret: Secret | None
    aes_key: Secret | None  # set → safe mode (encrypt_type=aes) accepted
    api_base: str
    max_skew: float  # seconds a request's timestamp may be from now (replay window)
    budget: float  # seconds before answering `success` and replying by customer-service API

    @property
    def api_enabled(self) -> bool:
        return self.app_id is not None and self.secret is not None

    def summary(self) -> str:
        modes = "plain + safe mode" if self.aes_key else "plain mode"
        api = "customer-service API on" if self.api_enabled else "customer-service API off"
        return f"{modes}, {api}, budget {self.budget:g} s"


def read_config(env: Mapping[str, str]) -> WeChatConfig | None:
    """None when JIFEN_WECHAT_TOKEN is absent; ConfigError naming the variable when malformed."""
    token = env_str(env, "JIFEN_WECHAT_TOKEN")
    if token is None:
        return None
    if not _TOKEN.fullmatch(token):
        raise ConfigError("JIFEN_WECHAT_TOKEN: expected 3 to 32 letters or digits")
    app_id = env_str(env, "JIFEN_WECHAT_APPID")
    if app_id is not None and not _APPID.fullmatch(app_id):
        raise ConfigError(f"JIFEN_WECHAT_APPID: not an AppId: {app_id!r}")
    secret = env_secret(env, "JIFEN_WECHAT_SECRET")
    if secret is not None and app_id is None:
        raise ConfigError("JIFEN_WECHAT_SECRET: set without JIFEN_WECHAT_APPID")
    aes_key = env_secret(env, "JIFEN_WECHAT_AES_KEY")
    if aes_key is not None:
        try:
            decode_aes_key(aes_key.reveal())
        except ValueError as exc:
            raise ConfigError(
                f"JIFEN_WECHAT_AES_KEY: not an EncodingAESKey ({AES_KEY_LENGTH} base64 "
                f"characters): {exc}"
            ) from None
        if app_id is None:
            raise ConfigError("JIFEN_WECHAT_AES_KEY: safe mode needs JIFEN_WECHAT_APPID as well")
    return WeChatConfig(
        token=Secret(token),
        app_id=app_id,
        secret=secret,
        aes_key=aes_key,
        api_base=env_url(env, "JIFEN_WECHAT_API_BASE", DEFAULT_API_BASE),
        max_skew=env_float(env, "JIFEN_WECHAT_MAX_SKEW", 300.0, low=1.0, high=86400.0),
        budget=env_float(env, "JIFEN_WECHAT_BUDGET", 4.0, low=0.05, high=4.5),
    )


__all__ = ["DEFAULT_API_BASE", "WeChatConfig", "read_config"]
