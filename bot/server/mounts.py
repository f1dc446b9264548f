"""The channel registry: which channels `jifen-bot serve` may mount.

Each entry is "module:function" with `function(env, service, store) -> ChannelMount | None`;
None means the channel's settings are absent and it stays off. Modules are imported lazily so a
channel's dependencies are only loaded when the server starts. A mount that works with others
has a `join(mounts)` method, called once all are built (the staff console counts the WeChat
channel's own customer-service messages, for one).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from bot.channels.base import ChannelMount
from bot.store.base import Store

log = logging.getLogger(__name__)

MOUNTS: tuple[str, ...] = (
    "bot.channels.wechat.mount:from_env",
    "bot.channels.telegram.mount:from_env",
    # Last: it attaches the handoff desk to the service and starts after the channels.
    "bot.staff.mount:from_env",
)


def load_mounts(
    env: Mapping[str, str], service: Any, store: Store, registry: Sequence[str] = MOUNTS
) -> list[ChannelMount]:
    """The mounts whose settings are present. ConfigError propagates: start-up must stop."""
    mounts: list[ChannelMount] = []
    for spec in registry:
        module_name, _, func_name = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # Only the channel module itself being absent is skipped (a channel not built
            # yet); a missing dependency inside it is a real error and must surface.
            if exc.name is None or not (
                exc.name == module_name or module_name.startswith(exc.name + ".")
            ):
                raise
            log.info("channel %s not available (module %s not found)", spec, module_name)
            continue
        mount = getattr(module, func_name)(env, service, store)
        if mount is not None:
            mounts.append(mount)
    for mount in mounts:
        join = getattr(mount, "join", None)
        if callable(join):
            join(mounts)
    return mounts


def describe(mounts: Sequence[ChannelMount]) -> str:
    on = [f"{m.name} ({m.summary()})" if hasattr(m, "summary") else m.name for m in mounts]
    return "channels on: " + (", ".join(on) if on else "none")


__all__ = ["MOUNTS", "describe", "load_mounts"]
