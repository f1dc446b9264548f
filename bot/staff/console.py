"""GET /staff: the console page, its two static files, and its labels from dialogs/staff.yaml.

The page is plain HTML, CSS and JavaScript shipped in bot/staff/static (no build step). A strict
Content-Security-Policy allows only these files: even if some text were ever put into the page
as HTML, no inline script or handler it carried would run.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .texts import StaffTexts

STATIC = Path(__file__).resolve().parent / "static"
_FILES = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class Console:
    def __init__(self, texts: StaffTexts) -> None:
        title = html.escape(texts("console.title"))
        self._page = (STATIC / "index.html").read_text(encoding="utf-8").replace("{{title}}", title)
        self._files = {name: (STATIC / name).read_bytes() for name in _FILES}
        labels: dict[str, Any] = dict(texts.section("console"))
        labels["channels"] = texts.section("channels")
        labels["reasons"] = texts.section("reasons")
        self._labels = labels

    @property
    def routes(self) -> list[BaseRoute]:
        return [
            Route("/staff", self.page, methods=["GET"]),
            Route("/staff/", self.page, methods=["GET"]),
            Route("/staff/static/{name}", self.static, methods=["GET"]),
            Route("/staff/api/texts", self.labels, methods=["GET"]),
        ]

    async def page(self, request: Request) -> Response:
        return HTMLResponse(self._page, headers=HEADERS)

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in self._files:
            return Response(status_code=404)
        return Response(self._files[name], media_type=_FILES[name], headers=HEADERS)

    async def labels(self, request: Request) -> Response:
        return JSONResponse(self._labels, headers=HEADERS)


__all__ = ["Console"]
