"""What a channel contributes to the HTTP server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send


class ChannelMount(Protocol):
    """A channel mounted in `jifen-bot serve`: its routes and its start/stop hooks."""

    name: str

    @property
    def routes(self) -> list[BaseRoute]: ...

    async def startup(self) -> None: ...

    async def shutdown(self) -> None: ...


class SelfContained:
    """An ASGI endpoint that answers every request itself, failures included (it catches
    what it raises), so the server may call it straight from its outermost middleware,
    past Starlette's exception middleware and router: for the route that takes nearly every
    request (POST /wechat). Routed as usual otherwise."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


@dataclass
class StaticMount:
    """A mount with routes only (no background work)."""

    name: str
    routes: list[BaseRoute] = field(default_factory=list)

    async def startup(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
