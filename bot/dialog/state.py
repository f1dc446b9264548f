"""The session state: where the user is in the flow and what they told us, JSON-safe.

`to_dict` / `from_dict` are the only way state crosses the store, so the dict carries a schema
version: a state written by an older bot is refused (and the user starts fresh) rather than
misread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, get_args

from bot.dialog.replies import Choice
from bot.errors import BotError
from bot.rules.model import SKILL_GRADES, TITLE_GRADES, ConditionCode, Grade

SCHEMA_VERSION = 1

Answer = Literal["yes", "no", "unknown"]
Mode = Literal["bot", "handoff"]

_ANSWERS: frozenset[Answer] = frozenset(get_args(Answer))
_MODES: frozenset[Mode] = frozenset(get_args(Mode))
_CODES: frozenset[ConditionCode] = frozenset(get_args(ConditionCode))
_GRADES: frozenset[Grade] = frozenset((*TITLE_GRADES, *SKILL_GRADES))
_TEXT_OR_NONE = (str, type(None))
# The fields CertSlots.from_dict checks at once, in the order it checks them.
_CHECKED = (
    "query",
    "entry_id",
    "level_entry_id",
    "grade",
    "insurance_months",
    "insurance_base",
    "pending",
)

T = TypeVar("T")
S = TypeVar("S", bound=str)

# A time with the text it is stored as (see SessionState._stored_times).
Stamp = tuple[datetime, str]
# Exactly what `isoformat()` writes for an aware time: no zero fraction, no "-00:00" offset.
_ISOFORMAT = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(?!000000)\d{6})?(?!-00:00)[+-]\d\d:\d\d", re.ASCII
)


class StateError(BotError):
    """A stored state cannot be read (other schema version, damaged); start the user afresh."""


@dataclass(slots=True)
class CertSlots:
    """Everything gathered about one certificate."""

    query: str = ""  # what the user typed for it
    entry_id: str | None = None
    grade: Grade | None = None
    # A bare skill level typed first (技师): kept so that "不清楚" for the occupation still
    # assesses something.
    level_entry_id: str | None = None
    grade_asked: bool = False
    occupation_asked: bool = False
    candidates: list[str] = field(default_factory=list)  # entry ids offered to choose from
    answers: dict[ConditionCode, Answer] = field(default_factory=dict)
    insurance_months: int | None = None
    insurance_base: float | None = None
    pending: ConditionCode | None = None  # the condition being asked
    announced: bool = False  # "按【…】来算" said once the certificate is settled

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "entry_id": self.entry_id,
            "grade": self.grade,
            "level_entry_id": self.level_entry_id,
            "grade_asked": self.grade_asked,
            "occupation_asked": self.occupation_asked,
            "candidates": list(self.candidates),
            "answers": dict(self.answers),
            "insurance_months": self.insurance_months,
            "insurance_base": self.insurance_base,
            "pending": self.pending,
            "announced": self.announced,
        }

    @classmethod
    def from_dict(cls, data: Any) -> CertSlots:
        get = _mapping(data, "cert").get
        query = get("query", "")
        entry_id = get("entry_id")
        level_entry_id = get("level_entry_id")
        grade = get("grade")
        months = get("insurance_months")
        base = get("insurance_base")
        pending = get("pending")
        # One test spelt out rather than a helper call a field: this runs for each certificate
        # of every stored state read. (A bool is an int: as a count, it is damage.)
        checks = (
            isinstance(query, _TEXT_OR_NONE),
            isinstance(entry_id, _TEXT_OR_NONE),
            isinstance(level_entry_id, _TEXT_OR_NONE),
            grade is None or (isinstance(grade, str) and grade in _GRADES),
            months is None or (isinstance(months, int) and not isinstance(months, bool)),
            base is None or isinstance(base, int | float),
            pending is None or (isinstance(pending, str) and pending in _CODES),
        )
        if not all(checks):
            # Names only: the values (an insurance base is a salary) end up in a log line.
            wrong = [name for name, ok in zip(_CHECKED, checks, strict=True) if not ok]
            raise StateError(f"cert: {', '.join(wrong)} of the wrong kind")
        return cls(  # positional, in field order: keywords take twice as long
            query or "",
            entry_id,
            grade,
            level_entry_id,
            bool(get("grade_asked", False)),
            bool(get("occupation_asked", False)),
            _strings(get("candidates", []), "candidates"),
            _answers(get("answers", {})),
            months,
            None if base is None else float(base),
            pending,
            bool(get("announced", False)),
        )

    def copy(self) -> CertSlots:
        """The same as `from_dict(to_dict())`, without the checks its own fields passed."""
        base = self.insurance_base
        return CertSlots(  # positional, in field order, as in from_dict
            self.query,
            self.entry_id,
            self.grade,
            self.level_entry_id,
            self.grade_asked,
            self.occupation_asked,
            list(self.candidates),
            dict(self.answers),
            self.insurance_months,
            None if base is None else float(base),
            self.pending,
            self.announced,
        )


@dataclass(slots=True)
class SessionState:
    step: str
    started_at: datetime
    updated_at: datetime
    mode: Mode = "bot"
    cert: CertSlots = field(default_factory=CertSlots)
    done: list[CertSlots] = field(default_factory=list)  # certificates already assessed
    offered: list[Choice] = field(default_factory=list)  # choices of the question last asked
    unclear: int = 0  # unclear inputs in a row
    # Snapshots for undo, newest last. Never changed in place (a turn adds or drops whole ones),
    # so copies and decoded states share them.
    history: list[dict[str, Any]] = field(default_factory=list)
    version: int = SCHEMA_VERSION
    # The stored text of started_at and of updated_at, kept with the time it stands for: an
    # aware time takes longer to format than the rest of the state, and every turn writes out
    # two states (the snapshot for 返回 and the result) mostly with the times it read.
    _started_text: Stamp | None = field(default=None, init=False, repr=False, compare=False)
    _updated_text: Stamp | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def new(cls, step: str, now: datetime) -> SessionState:
        return cls(step=step, started_at=now, updated_at=now)

    def snapshot(self) -> dict[str, Any]:
        """This state without its undo history: what one undo step restores."""
        return self._encode([])

    def to_dict(self) -> dict[str, Any]:
        return self._encode(list(self.history))

    def _encode(self, history: list[dict[str, Any]]) -> dict[str, Any]:
        started, updated = self._stored_times()
        return {
            "version": self.version,
            "step": self.step,
            "mode": self.mode,
            "started_at": started,
            "updated_at": updated,
            "cert": self.cert.to_dict(),
            "done": [c.to_dict() for c in self.done],
            "offered": [[c.label, c.value] for c in self.offered],
            "unclear": self.unclear,
            "history": history,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SessionState:
        get = _mapping(data, "state").get
        if get("version") != SCHEMA_VERSION:
            raise StateError(f"schema version {get('version')!r}, expected {SCHEMA_VERSION}")
        started, started_text = _time(get("started_at"), "started_at")
        updated, updated_text = _time(get("updated_at"), "updated_at")
        state = cls(  # positional, in field order, as in CertSlots.from_dict
            _req(get("step"), str, "step"),
            started,
            updated,
            _in(get("mode", "bot"), _MODES, "mode"),
            CertSlots.from_dict(get("cert", {})),
            [CertSlots.from_dict(c) for c in _list(get("done", []))],
            _choices(get("offered", [])),
            _req(get("unclear", 0), int, "unclear"),
            _snapshots(get("history", [])),
        )
        state._started_text, state._updated_text = started_text, updated_text
        return state

    def copy(self) -> SessionState:
        """The same as `from_dict(to_dict())` (the engine copies the state of every turn),
        without re-encoding and re-checking what was checked when the state was made."""
        if self.version != SCHEMA_VERSION:
            raise StateError(f"schema version {self.version!r}, expected {SCHEMA_VERSION}")
        copied = SessionState(
            self.step,
            _aware(self.started_at),
            _aware(self.updated_at),
            self.mode,
            self.cert.copy(),
            [c.copy() for c in self.done],
            list(self.offered),
            self.unclear,
            list(self.history),
        )
        copied._started_text, copied._updated_text = self._started_text, self._updated_text
        return copied

    def _stored_times(self) -> tuple[str, str]:
        """started_at and updated_at as stored: formatted anew only when the time is another
        object than the one the text was read or last written for."""
        started, updated = self._started_text, self._updated_text
        if started is None or started[0] is not self.started_at:
            started = self._started_text = (self.started_at, self.started_at.isoformat())
        if updated is None or updated[0] is not self.updated_at:
            updated = self._updated_text = (self.updated_at, self.updated_at.isoformat())
        return started[1], updated[1]


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StateError(f"{where}: expected a mapping")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise StateError(f"expected a list, got {type(value).__name__}")
    return list(value)


def _req(value: Any, kind: type[T], where: str) -> T:
    # bool is an int in Python; a boolean where a count belongs is damage, not data.
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise StateError(f"{where}: expected {kind.__name__}, got {value!r}")


def _in(value: Any, allowed: frozenset[S], where: str) -> S:
    # A str first: an unhashable value (a list) is damage like any other, not a TypeError.
    if isinstance(value, str) and value in allowed:
        found: S = value
        return found
    raise StateError(f"{where}: {value!r} is not one of {sorted(allowed)}")


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list | tuple):
        raise StateError(f"{where}: expected a list, got {value!r}")
    for item in value:
        if not isinstance(item, str):
            raise StateError(f"{where}: expected str, got {item!r}")
    return list(value)


def _answers(value: Any) -> dict[ConditionCode, Answer]:
    if not isinstance(value, dict):
        raise StateError(f"answers: expected a mapping, got {value!r}")
    for code, answer in value.items():
        # A str first: an unhashable answer (a list) is damage like any other, not a TypeError.
        if code not in _CODES or not (isinstance(answer, str) and answer in _ANSWERS):
            raise StateError(f"answers: {code!r}: {answer!r}")
    # Checked above; a typed name rather than cast(), which builds its type on every call.
    answers: dict[ConditionCode, Answer] = dict(value)
    return answers


def _choices(value: Any) -> list[Choice]:
    offered: list[Choice] = []
    for item in _list(value):
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise StateError(f"offered: {item!r}")
        label, choice = item
        if not (isinstance(label, str) and isinstance(choice, str)):
            raise StateError(f"offered: {item!r}")
        offered.append(Choice(label, choice))
    return offered


def _snapshots(value: Any) -> list[dict[str, Any]]:
    """The undo snapshots, each kept as the mapping it was saved as: only 返回 reads one (with
    `from_dict`, so a damaged snapshot is then a damaged state), and most never are."""
    history = _list(value)
    for snapshot in history:
        if not isinstance(snapshot, dict):
            raise StateError("history: expected a mapping")
    return history


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _time(value: Any, where: str) -> tuple[datetime, Stamp | None]:
    """The time a stored text stands for; with the text, to write it back as it came, when that
    is what formatting the time would give (always so for texts this module wrote)."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):  # not a text, or no time
        raise StateError(f"{where}: {value!r} is not a time") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC), None
    return parsed, (parsed, value) if _ISOFORMAT.fullmatch(value) else None


__all__ = ["SCHEMA_VERSION", "Answer", "CertSlots", "Mode", "SessionState", "StateError"]
