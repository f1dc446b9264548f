"""The sessions this process saved last, kept in memory so that the next turn need not read
them back.

An optimistic SQLite turn (sqlite.py) checks, in the one transaction that saves it, that the
stored session is still the text the turn started from. So a copy kept here may go out of
date (another worker, the staff console, `jifen-bot forget` in another process) without harm:
the check fails, nothing is written, and the turn runs again exclusively on what the file
holds. A hit saves the read of a session, a few kilobytes of JSON, its decoding, and the
caller's own decoding, which it leaves here as `memo` when it saves (TurnScope.memo).

Bounded, and erased with the user's data (forget, purge), since sessions are personal data.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .base import UserKey

# About 18 KB a user with the decoded state (19 MB when full, bench/README.md); a thousand
# users in the middle of a conversation at once is more than one consultancy sees.
LIMIT = 1024


@dataclass(frozen=True, slots=True)
class Recent:
    raw: bytes  # the session's text as stored (UTF-8): what the saving transaction compares
    loaded: dict[str, Any]  # shared by every turn that uses it, so nobody may change it
    memo: object | None
    touched: int | None  # when this process last touched the user (sqlite.py, µs), if known


class RecentSessions:
    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._entries: OrderedDict[UserKey, Recent] = OrderedDict()

    def get(self, key: UserKey) -> Recent | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: UserKey, recent: Recent) -> None:
        self._entries[key] = recent
        self._entries.move_to_end(key)
        if len(self._entries) > self._limit:
            self._entries.popitem(last=False)

    def drop(self, key: UserKey) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


__all__ = ["LIMIT", "Recent", "RecentSessions"]
