"""A Bot API test double: the few methods jifen-bot uses, at the URL shape python-telegram-bot
calls with base_url (`http://127.0.0.1:PORT/bot<TOKEN>/<method>`), served on loopback.

It records every call, checks what the real API checks where a mistake would hide (text
length, empty text, callback_data size, editing an unknown message), keeps a queue for
getUpdates, and answers with 429 + retry_after or an error on demand:

    double.fail_next("sendMessage", status=429, retry_after=1)

Serve it with tests.auxil.live.serving(double.asgi()) and set `double.url`; build the
updates to deliver with tests.auxil.telegram_updates.UpdateFactory.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_ID = 7000001
BOT_USERNAME = "jifen_test_bot"
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "积分助手", "username": BOT_USERNAME}
JSON_FIELDS = {"reply_markup", "allowed_updates", "entities", "link_preview_options"}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections"}
BOOL_FIELDS = {"drop_pending_updates", "show_alert", "disable_notification"}
ERRORS = {400: "Bad Request: injected", 403: "Forbidden: bot was blocked by the user"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200  # what the double answered
    result: Any = None  # the "result" of a successful answer (e.g. the sent message)

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    description: str | None


@dataclass
class BotApiDouble:
    token: str
    url: str = ""  # set once served: http://127.0.0.1:PORT
    calls: list[Call] = field(default_factory=list)
    webhook: dict[str, Any] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _failures: dict[str, deque[_Failure]] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))

    @property
    def api_base(self) -> str:
        """What JIFEN_TELEGRAM_API_BASE should be to reach this double."""
        return f"{self.url}/bot"

    # ---- test-side API (called from the test's thread) ----

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """The next `times` calls of `method` fail with `status` (429 → retry_after)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            queue = self._failures.setdefault(method, deque())
            queue.extend(_Failure(status, retry_after, description) for _ in range(times))

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (long polling)."""
        with self._lock:
            self._updates.append(update)

    def calls_of(self, method: str, *, ok_only: bool = True) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Successful sendMessage calls, in order (to one chat when given)."""
        calls = self.calls_of("sendMessage")
        return [c for c in calls if chat_id in (None, c.params["chat_id"])]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [c.params["text"] for c in self.sent(chat_id)]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """A message as the chat shows it now (after edits)."""
        with self._lock:
            return json.loads(json.dumps(self._messages[(chat_id, message_id)]))

    def last_message(self, chat_id: int) -> dict[str, Any]:
        with self._lock:
            mine = [m for (c, _), m in self._messages.items() if c == chat_id]
        return json.loads(json.dumps(mine[-1]))

    async def wait_for(
        self, predicate: Callable[[BotApiDouble], bool], within: float = 10.0
    ) -> None:
        """Wait until predicate(self) holds; the app under test answers in the background."""
        deadline = time.monotonic() + within
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls so far: {self.summary()}")
            await asyncio.sleep(0.02)

    async def wait_sent(self, count: int, chat_id: int | None = None, within: float = 10.0) -> None:
        await self.wait_for(lambda d: len(d.sent(chat_id)) >= count, within)

    def summary(self) -> list[tuple[str, int, str]]:
        return [(c.method, c.status, str(c.params.get("text", ""))[:40]) for c in self.calls]

    # ---- the HTTP side (runs in the server's thread) ----

    def asgi(self) -> Starlette:
        return Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params = await _params(request)
        if request.path_params["token"] != self.token:
            return self._record(method, params, _error(401, "Unauthorized"))
        with self._lock:
            queue = self._failures.get(method)
            failure = queue.popleft() if queue else None
        if failure is not None:
            return self._record(method, params, _failure(failure))
        if method == "getUpdates":  # the one method that waits (long polling)
            return self._record(method, params, await self._get_updates(params))
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return self._record(method, params, _error(404, "Not Found: method not found"))
        with self._lock:
            result = handler(params)
        return self._record(method, params, result)

    def _record(self, method: str, params: dict[str, Any], response: JSONResponse) -> JSONResponse:
        result = json.loads(bytes(response.body)).get("result")
        with self._lock:
            self.calls.append(Call(method, params, response.status_code, result))
        return response

    def _api_getMe(self, _: dict[str, Any]) -> JSONResponse:
        return _ok({**BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False})

    def _api_setWebhook(self, params: dict[str, Any]) -> JSONResponse:
        self.webhook = params
        return _ok(True)

    def _api_deleteWebhook(self, _: dict[str, Any]) -> JSONResponse:
        self.webhook = None
        return _ok(True)

    async def _get_updates(self, params: dict[str, Any]) -> JSONResponse:
        if self.webhook is not None:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset", 0))
        # Long poll, capped so that a stopping client is never kept waiting long.
        deadline = time.monotonic() + min(float(params.get("timeout", 0)), 1.0)
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates)
            if ready or time.monotonic() >= deadline:
                return _ok(ready)
            await asyncio.sleep(0.02)

    def _api_sendMessage(self, params: dict[str, Any]) -> JSONResponse:
        problem = _check_text(params.get("text")) or _check_markup(params.get("reply_markup"))
        if problem:
            return _error(400, problem)
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "用户"},
            "from": BOT_USER,
            "text": params["text"],
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self._messages[(chat_id, message["message_id"])] = message
        return _ok(message)

    def _api_editMessageText(self, params: dict[str, Any]) -> JSONResponse:
        problem = _check_text(params.get("text"))
        return _error(400, problem) if problem else self._edit(params, params["text"])

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> JSONResponse:
        return self._edit(params, None)

    def _edit(self, params: dict[str, Any], text: str | None) -> JSONResponse:
        key = (int(params.get("chat_id", 0)), int(params.get("message_id", 0)))
        message = self._messages.get(key)
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup") or None
        problem = _check_markup(markup)
        if problem:
            return _error(400, problem)
        if (text is None or text == message["text"]) and message.get("reply_markup") == markup:
            return _error(400, "Bad Request: message is not modified")
        message["text"] = message["text"] if text is None else text
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return _ok(message)

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> JSONResponse:
        if not params.get("callback_query_id"):
            return _error(400, "Bad Request: query is too old and response timeout expired")
        return _ok(True)


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, callback_data) of a message's inline keyboard, row by row."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def _params(request: Request) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        if request.headers.get("content-type", "").startswith("application/json"):
            raw.update(json.loads(await request.body() or b"{}"))
        else:
            # PTB posts application/x-www-form-urlencoded (multipart only for file uploads,
            # which the bot never makes); parsed here to avoid needing python-multipart.
            raw.update(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and key in JSON_FIELDS:
            value = json.loads(value)
        elif isinstance(value, str) and key in INT_FIELDS:
            value = int(value) if value.lstrip("-").isdigit() else value
        elif isinstance(value, str) and key in BOOL_FIELDS:
            value = value == "true"
        params[key] = value
    return params


def _check_text(text: Any) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return "Bad Request: message text is empty"
    if len(text.encode("utf-16-le")) // 2 > 4096:
        return "Bad Request: message is too long"
    return None


def _check_markup(markup: Any) -> str | None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            if len(button.get("callback_data", "").encode()) > 64:
                return "Bad Request: BUTTON_DATA_INVALID"
    return None


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(status: int, description: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error_code": status, "description": description}, status)


def _failure(failure: _Failure) -> JSONResponse:
    if failure.status == 429:
        body = {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {failure.retry_after}",
            "parameters": {"retry_after": failure.retry_after},
        }
        return JSONResponse(body, 429)
    default = ERRORS.get(failure.status) or HTTPStatus(failure.status).phrase
    return _error(failure.status, failure.description or default)
