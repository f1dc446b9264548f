"""GET /wechat (server verification) and POST /wechat (messages).

Checks run cheapest first: query parameters, timestamp (replay window), signature, body size,
then decryption and parsing. A refused request gets a 4xx with a short reason and one log line;
nothing that comes in can produce a 5xx or a traceback in the response.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.wechat.budget import Responder
from bot.channels.wechat.crypto import CryptoError, SafeMode, signature_ok
from bot.channels.wechat.parse import MAX_BODY, Rejected, parse_envelope, parse_message
from bot.channels.wechat.reply import SUCCESS, text_reply

log = logging.getLogger(__name__)
PATH = "/wechat"


class WeChatEndpoint:
    def __init__(
        self,
        token: str,
        responder: Responder,
        safe: SafeMode | None,
        max_skew: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token = token
        self._responder = responder
        self._safe = safe
        self._max_skew = max_skew
        self._clock = clock

    @property
    def routes(self) -> list[BaseRoute]:
        return [
            Route(PATH, self.verify, methods=["GET"]),
            Route(PATH, self.receive, methods=["POST"]),
        ]

    async def verify(self, request: Request) -> Response:
        """WeChat's server check: echo `echostr` when the signature is right."""
        try:
            q = request.query_params
            echostr = q.get("echostr")
            if echostr is None:
                raise Rejected("missing echostr")
            self._check_signature(q.get("signature"), q.get("timestamp"), q.get("nonce"))
        except Rejected as exc:
            return _refuse(exc, "GET")
        return PlainTextResponse(echostr)

    async def receive(self, request: Request) -> Response:
        try:
            return await self._receive(request)
        except Rejected as exc:
            return _refuse(exc, "POST")
        except ClientDisconnect:
            return PlainTextResponse(SUCCESS)
        except Exception:
            # A bug of ours: keep the trace in the log, and give WeChat nothing to retry.
            log.exception("wechat request failed unexpectedly")
            return PlainTextResponse(SUCCESS)

    async def _receive(self, request: Request) -> Response:
        q = request.query_params
        timestamp, nonce = self._check_signature(
            q.get("signature"), q.get("timestamp"), q.get("nonce")
        )
        encrypt_type = q.get("encrypt_type", "raw").lower()
        if encrypt_type not in ("raw", "aes"):
            raise Rejected("unknown encrypt_type")
        body = await _read_body(request)
        if encrypt_type == "aes":
            if self._safe is None:
                raise Rejected("safe mode is not configured (JIFEN_WECHAT_AES_KEY)")
            msg_signature = q.get("msg_signature")
            if not msg_signature:
                raise Rejected("missing msg_signature")
            try:
                inner = self._safe.decrypt(parse_envelope(body), msg_signature, timestamp, nonce)
            except CryptoError as exc:
                raise Rejected(exc.reason, 403) from None
            msg = parse_message(inner.encode("utf-8"))
        else:
            msg = parse_message(body)
        answer = await self._responder.respond(msg)
        if answer.passive is None:
            return PlainTextResponse(SUCCESS)
        now = str(int(self._clock()))
        xml = text_reply(msg, answer.passive, int(now))
        if encrypt_type == "aes" and self._safe is not None:
            xml = self._safe.encrypt(xml, nonce, now)
        task = (
            BackgroundTask(self._responder.send_later, msg.from_user, answer.later)
            if answer.later
            else None
        )
        return Response(xml, media_type="application/xml", background=task)

    def _check_signature(
        self, sig: str | None, timestamp: str | None, nonce: str | None
    ) -> tuple[str, str]:
        if not sig or not timestamp or nonce is None:
            raise Rejected("missing signature, timestamp or nonce")
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise Rejected("timestamp is not a number")
        if abs(self._clock() - int(timestamp)) > self._max_skew:
            raise Rejected("timestamp outside the replay window", 403)
        if not signature_ok((self._token, timestamp, nonce), sig):
            raise Rejected("signature mismatch", 403)
        return timestamp, nonce


async def _read_body(request: Request) -> bytes:
    """The body, refused before parsing when over MAX_BODY (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise Rejected(f"body over {MAX_BODY} bytes", 413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise Rejected(f"body over {MAX_BODY} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse(exc: Rejected, method: str) -> Response:
    log.info("wechat %s refused (%d): %s", method, exc.status, exc.reason)
    return PlainTextResponse(exc.reason, status_code=exc.status)


__all__ = ["PATH", "WeChatEndpoint"]
