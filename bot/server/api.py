"""POST /api/match and POST /api/assess: the rules layer over HTTP, same JSON as the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.errors import InputError
from bot.rules.resolve import MatcherLike, Unresolved, assess_request
from bot.rules.ruleset import Ruleset
from bot.rules.views import assessment_json, match_json

MAX_BODY = 64 * 1024
MAX_QUERY = 500  # characters; the dialog refuses longer messages too


class RulesAPI:
    def __init__(
        self, rules: Ruleset, matcher: MatcherLike, today: Callable[[], date] = date.today
    ) -> None:
        self._rules = rules
        self._matcher = matcher
        self._today = today

    @property
    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/match", self.match, methods=["POST"]),
            Route("/api/assess", self.assess, methods=["POST"]),
        ]

    async def match(self, request: Request) -> Response:
        try:
            data = await _json_object(request)
            query = data.get("query")
            if not isinstance(query, str) or not query.strip():
                raise InputError("query: a non-empty string is required")
            if len(query) > MAX_QUERY:
                raise InputError(f"query: longer than {MAX_QUERY} characters")
        except InputError as exc:
            return _error(400, str(exc))
        return _json(match_json(self._rules, self._matcher.match(query), self._today()))

    async def assess(self, request: Request) -> Response:
        try:
            data = await _json_object(request)
            text = data.get("certificate")
            if isinstance(text, str) and len(text) > MAX_QUERY:
                raise InputError(f"certificate: longer than {MAX_QUERY} characters")
            result = assess_request(self._rules, self._matcher, data, self._today())
        except InputError as exc:
            return _error(400, str(exc))
        except Unresolved as exc:
            # Well-formed, but the certificate does not name one entry: the CLI's error object.
            body = {
                "error": exc.message,
                "certificate": data.get("certificate"),
                "candidates": exc.candidates,
            }
            return _json(body, 422)
        return _json(assessment_json(self._rules, result))


async def _json_object(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise InputError(f"body over {MAX_BODY} bytes")
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise InputError(f"body over {MAX_BODY} bytes")
    except ClientDisconnect:
        raise InputError("body not received") from None
    try:
        data = json.loads(body)
    except UnicodeDecodeError:
        raise InputError("body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"body is not JSON: {exc.msg} at position {exc.pos}") from None
    except RecursionError:
        raise InputError("body is nested too deeply") from None
    if not isinstance(data, dict):
        raise InputError("body must be a JSON object")
    return data


def _json(data: Any, status: int = 200) -> Response:
    # ensure_ascii=False: the CLI prints Chinese as is, and so does the API.
    body = json.dumps(data, ensure_ascii=False)
    return Response(body, status_code=status, media_type="application/json")


def _error(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=status)


__all__ = ["RulesAPI"]
