"""GET /wechat (server verification) and POST /wechat (messages).

Checks run cheapest first: query parameters, timestamp (replay window), signature, body size,
then decryption and parsing. A refused request gets a 4xx with a short reason and one log line;
nothing that comes in can produce a 5xx or a traceback in the response.

POST /wechat is a plain ASGI endpoint rather than a Starlette function endpoint: it takes
nearly every request the server gets, and Request, QueryParams and Response objects cost more
than the signature check and the XML together (bench/README.md). The rarely used GET keeps
Starlette's objects.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from bot.channels.base import SelfContained
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
            # An object, not a method: Starlette then calls it as an ASGI app.
            Route(PATH, _Messages(self), methods=["POST"]),
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

    async def receive(self, scope: Scope, receive: Receive, send: Send) -> None:
        """POST /wechat as an ASGI app."""
        try:
            status, content_type, body, later = await self._receive(scope, receive)
        except Rejected as exc:
            log.info("wechat POST refused (%d): %s", exc.status, exc.reason)
            status, content_type, body, later = exc.status, _TEXT, exc.reason.encode(), None
        except _Disconnected:  # nobody will read it; WeChat retries if it still wants one
            status, content_type, body, later = 200, _TEXT, _SUCCESS, None
        except Exception:
            # A bug of ours: keep the trace in the log, and give WeChat nothing to retry.
            log.exception("wechat request failed unexpectedly")
            status, content_type, body, later = 200, _TEXT, _SUCCESS, None
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        if later is not None:  # further parts, after the response (as a background task would)
            await self._responder.send_later(*later)

    async def _receive(
        self, scope: Scope, receive: Receive
    ) -> tuple[int, bytes, bytes, tuple[str, tuple[str, ...]] | None]:
        q = query_params(scope["query_string"])
        timestamp, nonce = self._check_signature(
            q.get("signature"), q.get("timestamp"), q.get("nonce")
        )
        encrypt_type = q.get("encrypt_type", "raw").lower()
        if encrypt_type not in ("raw", "aes"):
            raise Rejected("unknown encrypt_type")
        body = await _read_body(scope, receive)
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
            return 200, _TEXT, _SUCCESS, None
        now = str(int(self._clock()))
        xml = text_reply(msg, answer.passive, int(now))
        if encrypt_type == "aes" and self._safe is not None:
            xml = self._safe.encrypt(xml, nonce, now)
        later = (msg.from_user, answer.later) if answer.later else None
        return 200, _XML, xml.encode(), later

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


class _Messages(SelfContained):
    """POST /wechat, an object so that Starlette routes to it as an ASGI app (`receive`
    answers every failure itself)."""

    def __init__(self, endpoint: WeChatEndpoint) -> None:
        self._endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._endpoint.receive(scope, receive, send)


class _Disconnected(Exception):
    """The client went away before its body arrived."""


_TEXT = b"text/plain; charset=utf-8"
_XML = b"application/xml"
_SUCCESS = SUCCESS.encode()


def query_params(raw: bytes) -> Mapping[str, str]:
    """The query string as Starlette reads it (the last of repeated names wins), without
    percent-decoding when nothing is encoded: WeChat's parameters are hex, digits and letters."""
    if b"%" in raw or b"+" in raw:
        return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    params: dict[str, str] = {}
    for pair in raw.decode("latin-1").split("&"):
        if pair:
            name, _, value = pair.partition("=")
            params[name] = value
    return params


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    """The body, refused before parsing when over MAX_BODY (declared or streamed)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if value.isdigit() and int(value) > MAX_BODY:
                raise Rejected(f"body over {MAX_BODY} bytes", 413)
            break
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Disconnected
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise Rejected(f"body over {MAX_BODY} bytes", 413)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _refuse(exc: Rejected, method: str) -> Response:
    log.info("wechat %s refused (%d): %s", method, exc.status, exc.reason)
    return PlainTextResponse(exc.reason, status_code=exc.status)


__all__ = ["PATH", "WeChatEndpoint"]
