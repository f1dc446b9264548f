"""The JSON API the staff console uses, under /staff/api.

POST /staff/api/login                    {"username", "password"} → {"csrf", "username"} + cookie
POST /staff/api/logout
GET  /staff/api/session                  {"csrf", "username"} for a signed-in page reloading
GET  /staff/api/revision                 {"revision"}: grows with every ticket change (polling)
GET  /staff/api/handoffs?status=open|claimed|closed   {"handoffs": [...], "revision"}
GET  /staff/api/handoffs/{id}
POST /staff/api/handoffs/{id}/claim | /reply {"text"} | /close

No or a bad cookie → 401; a state-changing call without the right X-CSRF-Token → 403;
another agent's ticket (or a closed one) → 409; a WeChat window that is closed or used up, or a
channel not reachable from here → 422; the channel's API refusing → 502; store down → 503.
Errors are {"error": code, ...}; the page words them from dialogs/staff.yaml.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.store.base import StoreError
from bot.store.tickets import (
    STATUSES,
    Ticket,
    TicketClosed,
    TicketConflict,
    TicketNotFound,
    TicketStore,
    WindowError,
    check_status,
    utcnow,
)

from .accounts import Accounts
from .actions import MAX_REPLY, StaffActions, problem_code
from .auth import COOKIE, CSRF_HEADER, LoginLimiter, Session, Sessions
from .config import StaffSettings
from .relay import NoChannel, RelayError

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
_NO_STORE = {"Cache-Control": "no-store"}


class Refused(Exception):
    def __init__(self, status: int, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.status = status
        self.body = {"error": error, **extra}


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=_NO_STORE)


Handler = Callable[[Request, Session], Awaitable[Response]]


class StaffAPI:
    def __init__(
        self,
        settings: StaffSettings,
        accounts: Accounts,
        sessions: Sessions,
        limiter: LoginLimiter,
        tickets: TicketStore,
        actions: StaffActions,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.accounts = accounts
        self.sessions = sessions
        self.limiter = limiter
        self.tickets = tickets
        self.actions = actions
        self.clock = clock

    @property
    def routes(self) -> list[BaseRoute]:
        base = "/staff/api"
        one = base + "/handoffs/{id}"
        return [
            Route(base + "/login", self._open(self.login), methods=["POST"]),
            Route(base + "/logout", self._guard(self.logout, csrf=True), methods=["POST"]),
            Route(base + "/session", self._guard(self.session), methods=["GET"]),
            Route(base + "/revision", self._guard(self.revision), methods=["GET"]),
            Route(base + "/handoffs", self._guard(self.handoffs), methods=["GET"]),
            Route(one, self._guard(self.handoff), methods=["GET"]),
            Route(one + "/claim", self._guard(self.claim, csrf=True), methods=["POST"]),
            Route(one + "/reply", self._guard(self.reply, csrf=True), methods=["POST"]),
            Route(one + "/close", self._guard(self.close, csrf=True), methods=["POST"]),
        ]

    # Plumbing ---------------------------------------------------------------------------------

    def _open(self, fn: Callable[[Request], Awaitable[Response]]) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return await fn(request)
            except Refused as exc:
                return _json(exc.body, exc.status)
            except StoreError as exc:
                log.warning("staff api: store unavailable (%s)", exc)
                return _json({"error": "unavailable"}, 503)

        return endpoint

    def _guard(self, fn: Handler, *, csrf: bool = False) -> Any:
        async def endpoint(request: Request) -> Response:
            session = self.sessions.read(request.cookies.get(COOKIE))
            if session is None or await self.accounts.get(session.username) is None:
                # A removed account's cookies stop working at once.
                raise Refused(401, "unauthenticated")
            if csrf and not self.sessions.csrf_ok(session, request.headers.get(CSRF_HEADER)):
                raise Refused(403, "csrf")
            try:
                return await fn(request, session)
            except TicketNotFound:
                raise Refused(404, "not_found") from None
            except TicketConflict as exc:
                raise Refused(409, "conflict", claimed_by=exc.claimed_by) from None
            except TicketClosed:
                raise Refused(409, "closed") from None
            except (WindowError, NoChannel) as exc:
                raise Refused(422, problem_code(exc)) from None
            except RelayError as exc:
                raise Refused(502, "send_failed", detail=str(exc)) from None

        return self._open(endpoint)

    async def _body(self, request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            # Also keeps plain cross-site HTML forms out: they cannot send JSON.
            raise Refused(415, "json_required")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise Refused(413, "too_large")
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise Refused(413, "too_large")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise Refused(400, "bad_json") from None
        if not isinstance(body, dict):
            raise Refused(400, "bad_json")
        return body

    async def _view(self, ticket: Ticket) -> dict[str, Any]:
        view = ticket.to_dict()
        view["reachable"] = self.actions.relay.can_reach(ticket.channel)
        view["window"] = None
        if ticket.channel == "wechat":
            window = await self.tickets.window(ticket.channel, ticket.user)
            view["window"] = window.to_dict(self.clock())
        return view

    # Sign-in ----------------------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        body = await self._body(request)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise Refused(400, "bad_request")
        username = username.strip()[:64]
        address = request.client.host if request.client else "?"
        if await self.limiter.blocked(username, address):
            log.warning("staff sign-in refused (too many failures): %r from %s", username, address)
            raise Refused(429, "rate_limited")
        account = await self.accounts.verify(username, password)
        if account is None:
            await self.limiter.failed(username, address)
            log.info("staff sign-in failed: %r from %s", username, address)
            raise Refused(401, "bad_credentials")
        await self.limiter.succeeded(username, address)
        cookie, session = self.sessions.issue(account.name)
        log.info("staff %s signed in from %s", account.name, address)
        response = _json({"csrf": self.sessions.csrf(session), "username": account.name})
        secure = self.settings.cookie_secure
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=int(self.sessions.lifetime),
            path="/staff",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https" if secure is None else secure,
        )
        return response

    async def logout(self, request: Request, session: Session) -> Response:
        response = _json({"ok": True})
        response.delete_cookie(COOKIE, path="/staff", httponly=True, samesite="strict")
        return response

    async def session(self, request: Request, session: Session) -> Response:
        return _json({"csrf": self.sessions.csrf(session), "username": session.username})

    # Tickets ----------------------------------------------------------------------------------

    async def revision(self, request: Request, session: Session) -> Response:
        return _json({"revision": await self.tickets.revision()})

    async def handoffs(self, request: Request, session: Session) -> Response:
        raw = request.query_params.get("status", "open")
        try:
            status = check_status(raw)
        except ValueError:
            raise Refused(400, "bad_status", allowed=list(STATUSES)) from None
        revision = await self.tickets.revision()
        tickets = await self.tickets.list(status, limit=50 if status == "closed" else 200)
        views = [await self._view(t) for t in tickets]
        return _json({"handoffs": views, "revision": revision})

    async def handoff(self, request: Request, session: Session) -> Response:
        ticket = await self.tickets.get(request.path_params["id"])
        if ticket is None:
            raise TicketNotFound(request.path_params["id"])
        return _json(await self._view(ticket))

    async def claim(self, request: Request, session: Session) -> Response:
        ticket = await self.actions.claim(request.path_params["id"], session.username)
        return _json(await self._view(ticket))

    async def reply(self, request: Request, session: Session) -> Response:
        text = (await self._body(request)).get("text")
        if not isinstance(text, str) or not text.strip():
            raise Refused(400, "empty")
        if len(text) > MAX_REPLY:
            raise Refused(400, "too_long", limit=MAX_REPLY)
        ticket = await self.actions.reply(request.path_params["id"], session.username, text.strip())
        return _json(await self._view(ticket))

    async def close(self, request: Request, session: Session) -> Response:
        closed = await self.actions.close(request.path_params["id"], session.username)
        view = await self._view(closed.ticket)
        view["handback_problem"] = closed.handback_problem
        return _json(view)


__all__ = ["StaffAPI"]
