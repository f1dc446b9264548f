"""The session state: where the user is in the flow and what they told us, JSON-safe.

`to_dict` / `from_dict` are the only way state crosses the store, so the dict carries a schema
version: a state written by an older bot is refused (and the user starts fresh) rather than
misread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, cast, get_args

from bot.dialog.replies import Choice
from bot.errors import BotError
from bot.rules.model import SKILL_GRADES, TITLE_GRADES, ConditionCode, Grade

SCHEMA_VERSION = 1

Answer = Literal["yes", "no", "unknown"]
Mode = Literal["bot", "handoff"]

_ANSWERS: tuple[str, ...] = get_args(Answer)
_MODES: tuple[str, ...] = get_args(Mode)
_CODES: tuple[str, ...] = get_args(ConditionCode)
_GRADES: tuple[str, ...] = (*TITLE_GRADES, *SKILL_GRADES)

T = TypeVar("T")


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
        d = _mapping(data, "cert")
        answers: dict[ConditionCode, Answer] = {}
        for code, answer in _mapping(d.get("answers", {}), "answers").items():
            answers[cast(ConditionCode, _one_of(code, _CODES, "answers"))] = cast(
                Answer, _one_of(answer, _ANSWERS, f"answers.{code}")
            )
        months = _opt(d.get("insurance_months"), int, "insurance_months")
        base = d.get("insurance_base")
        if base is not None and not isinstance(base, int | float):
            raise StateError(f"insurance_base: {base!r}")
        return cls(
            query=_opt(d.get("query", ""), str, "query") or "",
            entry_id=_opt(d.get("entry_id"), str, "entry_id"),
            grade=cast("Grade | None", _opt_one_of(d.get("grade"), _GRADES, "grade")),
            level_entry_id=_opt(d.get("level_entry_id"), str, "level_entry_id"),
            grade_asked=bool(d.get("grade_asked", False)),
            occupation_asked=bool(d.get("occupation_asked", False)),
            candidates=[_req(c, str, "candidates") for c in _list(d.get("candidates", []))],
            answers=answers,
            insurance_months=months,
            insurance_base=None if base is None else float(base),
            pending=cast("ConditionCode | None", _opt_one_of(d.get("pending"), _CODES, "pending")),
            announced=bool(d.get("announced", False)),
        )

    def copy(self) -> CertSlots:
        """The same as `from_dict(to_dict())`, without the checks its own fields passed."""
        base = self.insurance_base
        return CertSlots(
            query=self.query,
            entry_id=self.entry_id,
            grade=self.grade,
            level_entry_id=self.level_entry_id,
            grade_asked=self.grade_asked,
            occupation_asked=self.occupation_asked,
            candidates=list(self.candidates),
            answers=dict(self.answers),
            insurance_months=self.insurance_months,
            insurance_base=None if base is None else float(base),
            pending=self.pending,
            announced=self.announced,
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
    history: list[dict[str, Any]] = field(default_factory=list)  # snapshots for undo, newest last
    version: int = SCHEMA_VERSION

    @classmethod
    def new(cls, step: str, now: datetime) -> SessionState:
        return cls(step=step, started_at=now, updated_at=now)

    def snapshot(self) -> dict[str, Any]:
        """This state without its undo history: what one undo step restores."""
        data = self.to_dict()
        data["history"] = []
        return data

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "step": self.step,
            "mode": self.mode,
            "started_at": self.started_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "cert": self.cert.to_dict(),
            "done": [c.to_dict() for c in self.done],
            "offered": [[c.label, c.value] for c in self.offered],
            "unclear": self.unclear,
            "history": list(self.history),
        }

    @classmethod
    def from_dict(cls, data: Any) -> SessionState:
        d = _mapping(data, "state")
        if d.get("version") != SCHEMA_VERSION:
            raise StateError(f"schema version {d.get('version')!r}, expected {SCHEMA_VERSION}")
        offered: list[Choice] = []
        for item in _list(d.get("offered", [])):
            pair = _list(item)
            if len(pair) != 2:
                raise StateError(f"offered: {item!r}")
            offered.append(Choice(_req(pair[0], str, "offered"), _req(pair[1], str, "offered")))
        history = [_mapping(h, "history") for h in _list(d.get("history", []))]
        return cls(
            step=_req(d.get("step"), str, "step"),
            started_at=_time(d.get("started_at"), "started_at"),
            updated_at=_time(d.get("updated_at"), "updated_at"),
            mode=cast(Mode, _one_of(d.get("mode", "bot"), _MODES, "mode")),
            cert=CertSlots.from_dict(d.get("cert", {})),
            done=[CertSlots.from_dict(c) for c in _list(d.get("done", []))],
            offered=offered,
            unclear=_req(d.get("unclear", 0), int, "unclear"),
            history=[dict(h) for h in history],
        )

    def copy(self) -> SessionState:
        """The same as `from_dict(to_dict())` (the engine copies the state of every turn),
        without re-encoding and re-checking what was checked when the state was made."""
        if self.version != SCHEMA_VERSION:
            raise StateError(f"schema version {self.version!r}, expected {SCHEMA_VERSION}")
        return SessionState(
            step=self.step,
            started_at=_aware(self.started_at),
            updated_at=_aware(self.updated_at),
            mode=self.mode,
            cert=self.cert.copy(),
            done=[c.copy() for c in self.done],
            offered=list(self.offered),
            unclear=self.unclear,
            history=[dict(h) for h in self.history],
        )


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
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise StateError(f"{where}: expected {kind.__name__}, got {value!r}")
    return value


def _opt(value: Any, kind: type[T], where: str) -> T | None:
    return None if value is None else _req(value, kind, where)


def _one_of(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise StateError(f"{where}: {value!r} is not one of {allowed}")
    return cast(str, value)


def _opt_one_of(value: Any, allowed: tuple[str, ...], where: str) -> str | None:
    return None if value is None else _one_of(value, allowed, where)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _time(value: Any, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(_req(value, str, where))
    except ValueError:
        raise StateError(f"{where}: {value!r} is not a time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


__all__ = ["SCHEMA_VERSION", "Answer", "CertSlots", "Mode", "SessionState", "StateError"]
