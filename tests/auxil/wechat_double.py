"""A double of WeChat's REST API on loopback: `cgi-bin/token` and `message/custom/send`.

It issues numbered tokens, accepts a send only with the current one (else errcode 40001, as
WeChat does after a refresh), and records every call for the tests to inspect.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auxil.live import serving

APPID = "wx0123456789abcdef"
SECRET = "s3cr3t-app-secret-for-tests"


@dataclass
class Sent:
    touser: str
    content: str
    token: str
    raw: bytes


@dataclass
class WeChatDouble:
    appid: str = APPID
    secret: str = SECRET
    tokens_issued: int = 0
    current_token: str | None = None
    sent: list[Sent] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    fail_next_send: int | None = None  # an errcode to answer once (e.g. 45015)
    changed: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""  # where it is served (JIFEN_WECHAT_API_BASE), set by `served_wechat_double`

    def expire_token(self) -> None:
        """WeChat forgot the token (as after another party's refresh)."""
        self.current_token = "expired-" + (self.current_token or "")

    def wait_for_sent(self, count: int, timeout: float = 10.0) -> list[Sent]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.sent) >= count, timeout)
            return list(self.sent)

    async def token(self, request: Request) -> JSONResponse:
        q = request.query_params
        if q.get("grant_type") != "client_credential":
            return JSONResponse({"errcode": 40002, "errmsg": "invalid grant_type"})
        if q.get("appid") != self.appid or q.get("secret") != self.secret:
            return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
        self.tokens_issued += 1
        self.current_token = f"TOKEN-{self.tokens_issued}"
        return JSONResponse({"access_token": self.current_token, "expires_in": 7200})

    async def send(self, request: Request) -> JSONResponse:
        raw = await request.body()
        token = request.query_params.get("access_token", "")
        if token != self.current_token:
            self.refused.append({"token": token, "errcode": 40001})
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        if self.fail_next_send is not None:
            code, self.fail_next_send = self.fail_next_send, None
            self.refused.append({"token": token, "errcode": code})
            return JSONResponse({"errcode": code, "errmsg": "refused by the double"})
        data = json.loads(raw)
        assert data["msgtype"] == "text"
        with self.changed:
            self.sent.append(Sent(data["touser"], data["text"]["content"], token, raw))
            self.changed.notify_all()
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/cgi-bin/token", self.token, methods=["GET"]),
                Route("/cgi-bin/message/custom/send", self.send, methods=["POST"]),
            ]
        )


@contextmanager
def served_wechat_double() -> Iterator[WeChatDouble]:
    """A fresh double served on a free loopback port, its `url` set, stopped afterwards."""
    double = WeChatDouble()
    with serving(double.app()) as live:
        double.url = live.url
        yield double
