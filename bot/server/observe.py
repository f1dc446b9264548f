"""ASGI middleware around the whole app: a request id for the logs, latency and 5xx metrics.

Plain ASGI rather than Starlette's BaseHTTPMiddleware, which costs a task and a stream per
request. The request id comes from an `X-Request-Id` header when a proxy sets one (nginx's
$request_id), otherwise it is made here; either way the response carries it back, so a
complaint about one request can be found in the logs of whichever worker served it.

Latency is taken when the last body chunk is sent: background work after the response (late
WeChat parts) is not the client's wait.

`direct`: endpoints by (method, path) that are called from here, past Starlette's exception
middleware and router (bot/channels/base.py, SelfContained): POST /wechat, where they cost
about as much as the signature check.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import metrics
from bot.logs import REQUEST_ID, new_request_id

HEADER = b"x-request-id"
_MAX_ID = 64  # a longer header is not a request id we want in every log line


class Observe:
    def __init__(
        self, app: ASGIApp, direct: Mapping[tuple[str, str], ASGIApp] | None = None
    ) -> None:
        self.app = app
        self._direct = dict(direct or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _given_id(scope) or new_request_id()
        token = REQUEST_ID.set(rid)
        began = time.perf_counter()
        path: str = scope["path"]
        status = 0
        done = False
        header = (HEADER, rid.encode("latin-1"))

        async def send_observed(message: Message) -> None:
            nonlocal status, done
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                done = True
                metrics.request_done(path, time.perf_counter() - began)
                if status >= 500:
                    metrics.error(metrics.HTTP_5XX)
            await send(message)

        app = self._direct.get((scope["method"], path), self.app)
        try:
            await app(scope, receive, send_observed)
        except Exception:
            if not done:
                metrics.error(metrics.HTTP_5XX)
            raise
        finally:
            if not done:  # the app raised, or the client went away before the end
                metrics.request_done(path, time.perf_counter() - began)
            REQUEST_ID.reset(token)


def _given_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            text: str = value.decode("latin-1")
            if 0 < len(text) <= _MAX_ID and text.isprintable():
                return text
            return None
    return None


__all__ = ["HEADER", "Observe"]
