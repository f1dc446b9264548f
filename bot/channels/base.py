"""What a channel contributes to the HTTP server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from starlette.routing import BaseRoute


class ChannelMount(Protocol):
    """A channel mounted in `jifen-bot serve`: its routes and its start/stop hooks."""

    name: str

    @property
    def routes(self) -> list[BaseRoute]: ...

    async def startup(self) -> None: ...

    async def shutdown(self) -> None: ...


@dataclass
class StaticMount:
    """A mount with routes only (no background work)."""

    name: str
    routes: list[BaseRoute] = field(default_factory=list)

    async def startup(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
