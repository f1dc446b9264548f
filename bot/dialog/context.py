"""One turn's working set: the configuration, the state being changed, what to say."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeVar

from bot.dialog.flow import Flow
from bot.dialog.lexicon import Lexicon
from bot.dialog.messages import Event, EventKind
from bot.dialog.ports import MatcherPort, RulesPort
from bot.dialog.replies import Reply
from bot.dialog.state import SessionState, StateError
from bot.dialog.texts import Texts
from bot.rules.model import Entry, Grade

# Policy dates are Shanghai dates; China has had no daylight saving since 1991.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
# Entries `Config.once` keeps: the fixed ones and a few weeks of dated ones.
_REMEMBERED = 64

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Config:
    """What the engine is built from; shared by every turn."""

    flow: Flow
    texts: Texts
    lexicon: Lexicon
    rules: RulesPort
    matcher: MatcherPort
    # What turns work out from the above and the date alone: see `once`.
    memo: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    def once(self, key: Hashable, make: Callable[[], T]) -> T:
        """`make()`, worked out on first use and remembered. Only for what depends on this
        configuration alone, and on the date when `key` holds it (a question's reply, the
        insurance figures of a day), so that turns do not redo it."""
        try:
            found: T = self.memo[key]
            return found
        except KeyError:
            pass
        if len(self.memo) > _REMEMBERED:
            self.memo.clear()  # a long-running process: yesterday's answers are not needed
        value = self.memo[key] = make()
        return value


@dataclass(slots=True)
class Ctx:
    cfg: Config
    state: SessionState
    now: datetime
    replies: list[Reply] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # Set by a reader that explains itself why it could not use the reply.
    unclear_note: str | None = None
    # The Shanghai date of `now`, the date the rules are applied on; several steps a turn ask.
    on: date = field(init=False)

    def __post_init__(self) -> None:
        self.on = self.now.astimezone(SHANGHAI).date()

    def t(self, key: str, **values: Any) -> str:
        return self.cfg.texts.fill(key, values)

    def say(self, text: str) -> None:
        self.replies.append(Reply(text))

    def emit(self, kind: EventKind, **data: Any) -> None:
        self.events.append(Event(kind, data))

    def entry(self, entry_id: str | None = None) -> Entry:
        """The current certificate's entry (or the one named). A stale id is a damaged state."""
        wanted = entry_id or self.state.cert.entry_id
        if wanted is None:
            raise StateError("no certificate in this state")
        try:
            return self.cfg.rules.catalogue.get(wanted)
        except KeyError:
            raise StateError(f"unknown entry {wanted!r}") from None

    def grade_label(self, grade: Grade | None) -> str:
        return self.cfg.rules.grades.label(grade) if grade else ""

    def cert_name(self, entry: Entry, grade: Grade | None = None) -> str:
        """讲师（技校教师） for a name several series share; 电工·三级（高级工） for an
        occupation with its level; the entry's own name otherwise."""
        name = entry.name
        if entry.series and name in entry.shared:
            name = self.t("name.with_series", name=name, series=entry.series)
        if entry.is_occupation and grade:
            name = self.t("name.with_grade", name=name, grade=self.grade_label(grade))
        return name


__all__ = ["SHANGHAI", "Config", "Ctx"]
