"""The conversation's shape, from dialogs/flow.yaml, checked when the bot starts.

Rasa-style forms in a small state machine: `ask` states wait for the user, `decide` and `say`
states move on at once. Every error names the file and the key, as the rules loader does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

from bot.dialog import slots
from bot.dialog.state import Answer
from bot.dialog.texts import CODE_KEYS, Texts, placeholders
from bot.errors import DialogDataError
from bot.paths import dialogs_dir
from bot.rules.catalogue import name_key
from bot.rules.model import ConditionCode
from bot.rules.yamlfile import Fields, read_yaml

StateKind = Literal["ask", "decide", "say"]
SlotType = Literal["text", "choice", "yes_no", "insurance"]
Command = Literal["restart", "undo", "help", "human", "resume_bot"]
AnswerType = Literal["yes_no", "insurance"]

STATE_KINDS: tuple[str, ...] = get_args(StateKind)
SLOT_TYPES: tuple[str, ...] = get_args(SlotType)
COMMANDS: tuple[str, ...] = get_args(Command)
CONDITION_CODES: tuple[str, ...] = get_args(ConditionCode)
_DEFAULT_OPTIONS: Mapping[Answer, str] = {
    "yes": "choice.yes",
    "no": "choice.no",
    "unknown": "choice.unknown",
}


@dataclass(frozen=True, slots=True)
class SessionSpec:
    idle_minutes: int
    retention_days: int
    max_input_chars: int
    unclear_before_offer: int
    undo_depth: int
    max_candidates: int
    max_certificates: int
    handoff_pauses_bot: bool


@dataclass(frozen=True, slots=True)
class StateSpec:
    name: str
    kind: StateKind
    on: Mapping[str, str]
    slot: SlotType | None = None
    help: str | None = None  # text key shown with 帮助 in this state


@dataclass(frozen=True, slots=True)
class ConditionSpec:
    code: ConditionCode
    ask: str
    answer: AnswerType
    options: Mapping[Answer, str] = field(default_factory=lambda: dict(_DEFAULT_OPTIONS))

    @property
    def yes_no(self) -> bool:
        """Whether 是 and 否 answer the question: not when its options say something else
        ("which kind is it?"), where 是 would name neither option."""
        return all(self.options[a] == _DEFAULT_OPTIONS[a] for a in ("yes", "no"))


@dataclass(frozen=True, slots=True)
class Flow:
    file: str
    version: int
    session: SessionSpec
    commands: Mapping[str, Command]  # normalised word -> command
    start: str
    conditions: tuple[ConditionSpec, ...]
    states: Mapping[str, StateSpec]
    # `conditions` by code, for the lookups of every turn that asks one.
    _by_code: Mapping[ConditionCode, ConditionSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {c.code: c for c in self.conditions})

    def command(self, text: str) -> Command | None:
        """The global command a whole message names, if any."""
        stripped = text.strip()
        return self.commands.get(slots.key(stripped)) or self.commands.get(stripped)

    def condition(self, code: ConditionCode) -> ConditionSpec:
        return self._by_code[code]

    def text_keys(self) -> set[str]:
        """Every texts.yaml key this flow refers to."""
        keys = {s.help for s in self.states.values() if s.help}
        for c in self.conditions:
            keys |= {c.ask, *c.options.values()}
        return keys

    def check_texts(self, texts: Texts) -> None:
        """Fail unless every key the flow names exists (and, if plain, takes no placeholder)."""
        for key in sorted(self.text_keys()):
            if key not in texts:
                raise DialogDataError(self.file, key, f"no such text in {texts.file}")
            if key not in CODE_KEYS and placeholders(texts(key)):
                raise DialogDataError(texts.file, key, "a flow text takes no placeholders")


def load_flow(path: Path | None = None) -> Flow:
    path = path or dialogs_dir() / "flow.yaml"
    file = str(path)
    f = Fields(read_yaml(path, DialogDataError), file, "", DialogDataError)
    version = f.number("version")
    if version != 1:
        raise f.fail("version", f"unsupported version {version!r}")
    session = _session(Fields(f.mapping("session"), file, "session", DialogDataError))
    commands = _commands(Fields(f.mapping("commands"), file, "commands", DialogDataError))
    start = f.req_text("start")
    conditions = _conditions(f.raw("conditions", required=True), file)
    states = _states(Fields(f.mapping("states"), file, "states", DialogDataError))
    f.done()
    flow = Flow(file, version, session, commands, start, conditions, states)
    _check_graph(flow, f)
    return flow


def _session(f: Fields) -> SessionSpec:
    values = {
        k: f.number(k)
        for k in (
            "idle_minutes",
            "retention_days",
            "max_input_chars",
            "unclear_before_offer",
            "undo_depth",
            "max_candidates",
            "max_certificates",
        )
    }
    for k, v in values.items():
        if v is None or v < 1:
            raise f.fail(k, "must be a whole number of at least 1")
    spec = SessionSpec(
        **cast(dict[str, int], values), handoff_pauses_bot=f.flag("handoff_pauses_bot")
    )
    f.done()
    return spec


def _commands(f: Fields) -> dict[str, Command]:
    out: dict[str, Command] = {}
    for command in COMMANDS:
        for word in f.str_list(command, required=True):
            form = name_key(word) or word  # "?" folds to nothing: keep it as typed
            if out.get(form, command) != command:
                raise f.fail(command, f"{word!r} already belongs to {out[form]}")
            out[form] = cast(Command, command)
    f.done()
    return out


def _conditions(raw: Any, file: str) -> tuple[ConditionSpec, ...]:
    if not isinstance(raw, list):
        raise DialogDataError(file, "conditions", "expected a list")
    out: list[ConditionSpec] = []
    for i, item in enumerate(raw):
        f = Fields(item, file, f"conditions[{i}]", DialogDataError)
        code = cast(ConditionCode, f.choice("code", CONDITION_CODES))
        if any(c.code == code for c in out):
            raise f.fail("code", f"{code} is listed twice")
        answer = cast(AnswerType, f.choice("answer", get_args(AnswerType)))
        options = dict(_DEFAULT_OPTIONS)
        raw_options = f.mapping("options", required=False)
        if raw_options is not None:
            o = Fields(raw_options, file, f"conditions[{i}].options", DialogDataError)
            options = {a: o.req_text(a) for a in _DEFAULT_OPTIONS}
            o.done()
        out.append(ConditionSpec(code, f.req_text("ask"), answer, options))
        f.done()
    missing = set(CONDITION_CODES) - {c.code for c in out}
    if missing:
        raise DialogDataError(file, "conditions", f"{sorted(missing)[0]} is not asked anywhere")
    return tuple(out)


def _states(f: Fields) -> dict[str, StateSpec]:
    out: dict[str, StateSpec] = {}
    for name in list(f.data):
        s = Fields(f.mapping(str(name)), f.file, f"states.{name}", DialogDataError)
        kind = cast(StateKind, s.choice("kind", STATE_KINDS))
        # Not `on:`: YAML 1.1 reads that key as the boolean true.
        on_raw = s.req_mapping("transitions")
        on = {str(k): str(v) for k, v in on_raw.items()}
        if not on or any(not isinstance(v, str) for v in on_raw.values()):
            raise s.fail("transitions", "expected outcome: state pairs")
        slot = cast(SlotType | None, s.choice("slot", SLOT_TYPES, required=kind == "ask"))
        help_key = s.text("help", required=False)
        if kind != "ask" and (slot or help_key):
            raise s.fail("slot", f"a {kind} state neither asks nor reads a reply")
        out[str(name)] = StateSpec(str(name), kind, on, slot, help_key)
        s.done()
    return out


def _check_graph(flow: Flow, f: Fields) -> None:
    if flow.states.get(flow.start) is None or flow.states[flow.start].kind != "ask":
        raise f.fail("start", f"{flow.start!r} is not an ask state")
    for state in flow.states.values():
        for outcome, target in state.on.items():
            if target not in flow.states:
                raise f.fail(f"states.{state.name}.transitions.{outcome}", f"no state {target!r}")
    seen, todo = {flow.start}, [flow.start]
    while todo:
        for target in flow.states[todo.pop()].on.values():
            if target not in seen:
                seen.add(target)
                todo.append(target)
    unreachable = sorted(set(flow.states) - seen)
    if unreachable:
        raise f.fail(f"states.{unreachable[0]}", "cannot be reached from start")


__all__ = [
    "Command",
    "ConditionSpec",
    "Flow",
    "SessionSpec",
    "SlotType",
    "StateSpec",
    "load_flow",
]
