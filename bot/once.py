"""Running a redelivered message once: the record of a turn kept inside the session it saved.

When a worker dies after saving a turn but before its answer went out, the message is
delivered again (a WeChat retry, taken over by another worker). Running it again would move
the conversation on twice, and answer a question the user never saw. So a turn run for a
message id (`once`) saves, in the same write as the new state, the id and the replies; a
second run of that id finds them under the user's lock and returns them instead of running
the engine. One write means no window in which the state is saved and the record is not.

The record rides in the session dict under a key SessionState ignores; only the last few ids
are kept (a retry comes within seconds, a user rarely sends more in between).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.dialog.replies import Reply

KEY = "_once"
KEEP = 3


def recorded(loaded: dict[str, Any] | None, once: str) -> list[Reply] | None:
    """The replies saved with message `once`, or None when it has not been run."""
    if loaded is None:
        return None
    for entry in loaded.get(KEY) or ():
        try:
            msg_id, replies = entry
            if msg_id == once:
                return [Reply.from_dict(r) for r in replies]
        except (TypeError, ValueError, KeyError):
            return None  # a damaged record: run the message rather than fail it
    return None


def remember(
    state: dict[str, Any], loaded: dict[str, Any] | None, once: str, replies: Sequence[Reply]
) -> dict[str, Any]:
    """`state` (a fresh dict from SessionState.to_dict) with `once` and its replies recorded."""
    earlier = list((loaded or {}).get(KEY) or ())[-(KEEP - 1) :]
    state[KEY] = [*earlier, [once, [r.to_dict() for r in replies]]]
    return state


__all__ = ["KEEP", "KEY", "recorded", "remember"]
