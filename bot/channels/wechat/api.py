"""The two WeChat REST calls the bot makes: `cgi-bin/token` and `message/custom/send`.

The access token is shared by every worker through the store: each fetch invalidates the
previous token, so processes fetching their own would knock each other out (40001 ping-pong).
One process at a time refreshes, holding a short lock taken with `kv_set_if_absent`; the others
wait for the token it writes. A send answered 40001/40014/42001 refreshes once and tries again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bot.server.settings import Secret
from bot.store.base import Store

log = logging.getLogger(__name__)
# httpx logs every request URL at INFO, and the token URL carries the AppSecret.
logging.getLogger("httpx").setLevel(logging.WARNING)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid, malformed, expired access token
_MARGIN = 300.0  # refresh this long before WeChat's expiry, so a token never dies mid-send
_LOCK_TTL = 15.0  # a refresher that dies releases the lock by expiry
_POLL = 0.05


class WeChatAPIError(Exception):
    """WeChat answered with an errcode, or could not be reached."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


@dataclass
class WeChatAPI:
    """Async client for one official account. `base` is JIFEN_WECHAT_API_BASE."""

    base: str
    app_id: str
    secret: Secret
    store: Store
    timeout: float = 10.0
    fetches: int = 0  # tokens this process fetched, for tests and logs

    def __post_init__(self) -> None:
        self._client = httpx.AsyncClient(base_url=self.base, timeout=self.timeout)
        self._key = f"wechat:access_token:{self.app_id}"
        self._lock = f"wechat:access_token_lock:{self.app_id}"
        self._local = asyncio.Lock()  # one refresh at a time inside this process too

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send_text(self, openid: str, content: str) -> None:
        """A customer-service text message; WeChatAPIError when WeChat refuses it."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        await self._post_with_token("/cgi-bin/message/custom/send", body)

    async def _post_with_token(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        token = await self.access_token()
        # WeChat shows \uXXXX escapes literally, so Chinese must go out as raw UTF-8.
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        for attempt in (1, 2):
            data = await self._request(
                "POST", path, params={"access_token": token}, content=payload
            )
            code = int(data.get("errcode", 0) or 0)
            if code == 0:
                return data
            if code in TOKEN_ERRORS and attempt == 1:
                log.info("wechat token rejected (%d); refreshing once", code)
                token = await self.access_token(stale=token)
                continue
            raise WeChatAPIError(code, str(data.get("errmsg", "")))
        raise AssertionError("unreachable")

    async def access_token(self, stale: str | None = None) -> str:
        """The shared token; `stale` is one WeChat just refused, forcing a refresh."""
        deadline = time.monotonic() + _LOCK_TTL + 5.0
        while True:
            token = await self._cached()
            if token is not None and token != stale:
                return token
            async with self._local:
                token = await self._cached()
                if token is not None and token != stale:
                    return token
                if await self.store.kv_set_if_absent(self._lock, str(os.getpid()), _LOCK_TTL):
                    try:
                        return await self._refresh()
                    finally:
                        await self.store.kv_delete(self._lock)
            # Another process is refreshing: wait for its token rather than fetch our own.
            if time.monotonic() > deadline:
                raise WeChatAPIError(-2, "timed out waiting for another process's token refresh")
            await asyncio.sleep(_POLL)

    async def _cached(self) -> str | None:
        raw = await self.store.kv_get(self._key)
        if raw is None:
            return None
        try:
            item = json.loads(raw)
            token, expires_at = str(item["token"]), float(item["expires_at"])
        except (ValueError, KeyError, TypeError):
            return None
        return token if expires_at > time.time() else None

    async def _refresh(self) -> str:
        data = await self._request(
            "GET",
            "/cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": self.app_id,
                "secret": self.secret.reveal(),
            },
        )
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatAPIError(int(data.get("errcode", -1) or -1), str(data.get("errmsg", "")))
        self.fetches += 1
        lifetime = max(60.0, float(data.get("expires_in", 7200)) - _MARGIN)
        item = {"token": token, "expires_at": time.time() + lifetime}
        await self.store.kv_set(self._key, json.dumps(item), ttl=lifetime)
        log.info("wechat access token fetched (valid %.0f s)", lifetime)
        return token

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = await self._client.request(method, path, **kwargs)
            data = resp.json()
        except httpx.HTTPError as exc:
            # The message of an httpx error can carry the URL with the secret: type only.
            raise WeChatAPIError(-1, f"HTTP error {type(exc).__name__}") from None
        except ValueError:
            raise WeChatAPIError(-1, f"not JSON (HTTP {resp.status_code})") from None
        if not isinstance(data, dict):
            raise WeChatAPIError(-1, "unexpected JSON")
        return data


__all__ = ["TOKEN_ERRORS", "WeChatAPI", "WeChatAPIError"]
