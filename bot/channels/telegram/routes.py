"""POST /telegram: the webhook Telegram calls with each update.

Checks the secret header in constant time, reads the body defensively, drops repeated
update_ids (Telegram resends an update until it gets a 2xx, and a resend may reach another
worker), keeps the update in the store's inbox until it has been processed (inbox.py: a worker
killed before it finishes loses nothing) and hands it to the Application's queue: the answer
is 200 at once and the conversation runs in the background, so a slow store or a 429 never
makes Telegram resend.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import Update
from telegram.ext import Application

from bot import metrics
from bot.channels.telegram.inbox import Inbox
from bot.store.base import Store, StoreError

log = logging.getLogger(__name__)

PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
DEDUPE_NAMESPACE = "telegram"
# Telegram keeps an undelivered update for 24 hours; a resend can't come later than that.
DEDUPE_TTL = 24 * 3600.0
# Updates are a few KB; anything far larger is not from Telegram.
MAX_BODY = 1 << 20


class Webhook:
    def __init__(
        self,
        secret: str,
        application: Application[Any, Any, Any, Any, Any, Any],
        store: Store,
        inbox: Inbox | None = None,
    ) -> None:
        self._secret = secret.encode()
        self.application = application
        self.store = store
        self.inbox = inbox

    def routes(self) -> list[BaseRoute]:
        return [Route(PATH, self.receive, methods=["POST"], name="telegram")]

    async def receive(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None or not hmac.compare_digest(given.encode("utf-8", "replace"), self._secret):
            log.warning("telegram webhook: wrong or missing secret from %s", _client(request))
            return Response(status_code=403)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return _bad(request, 413, "body too large")
        body = await request.body()
        if len(body) > MAX_BODY:
            return _bad(request, 413, "body too large")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _bad(request, 400, f"body is not JSON: {exc}")
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return _bad(request, 400, "no integer update_id")
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception as exc:  # PTB raises KeyError/TypeError/ValueError on odd shapes
            return _bad(request, 400, f"update {update_id} unreadable: {exc!r}")
        if not self.application.running:
            # Shutting down: a 503 makes Telegram deliver the update again, to a live worker.
            return Response(status_code=503)
        try:
            first = await self.store.claim_once(DEDUPE_NAMESPACE, str(update_id), DEDUPE_TTL)
        except StoreError:
            metrics.error(metrics.DEDUPE)
            log.exception("telegram update %s: dedupe store unavailable", update_id)
            return Response(status_code=503)
        if first:
            if self.inbox is not None:
                await self.inbox.keep(update_id, data)
            await self.application.update_queue.put(update)
        else:
            metrics.dedupe_hit("telegram")
            log.info("telegram update %s: repeated delivery ignored", update_id)
        return Response(status_code=200)


def _bad(request: Request, status: int, reason: str) -> Response:
    log.warning("telegram webhook: %s (%d) from %s", reason, status, _client(request))
    return Response(reason, status_code=status, media_type="text/plain")


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "?"


__all__ = ["DEDUPE_NAMESPACE", "DEDUPE_TTL", "PATH", "SECRET_HEADER", "Webhook"]
