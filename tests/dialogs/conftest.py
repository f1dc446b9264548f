"""Collects the conversation scripts in this folder: each YAML file holds `cases`, each case a
list of steps "the user says X → the bot's replies contain / offer …".

Step keys:
  user: text the user sends ("" is an empty message)      kind: text | sticker | media
  after: minutes since the previous message (default 0.5)
  says: [substrings the turn's replies must contain]     not_says: [… must not contain]
  offers: [labels of the last reply's choices, in order] ([] = no choices)
  events: [event kinds the turn must emit]                silent: true (no reply at all)
  step: the state the conversation is in afterwards
  answers: {condition: yes|no|unknown} recorded for the latest certificate
Case keys: name, steps, and optionally date (ISO time of the first message) and session
(overrides of flow.yaml's session settings).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.dialog.engine import DialogEngine
from bot.dialog.flow import load_flow
from bot.dialog.messages import Incoming, Turn
from bot.dialog.state import SessionState
from bot.rules.matcher import Matcher
from bot.rules.ruleset import default_ruleset

HERE = Path(__file__).parent
DEFAULT_DATE = "2026-11-20T10:00:00+08:00"
_CASE_KEYS = {"name", "steps", "date", "session"}
_STEP_KEYS = {
    "user",
    "kind",
    "after",
    "says",
    "not_says",
    "offers",
    "events",
    "silent",
    "step",
    "answers",
}


@cache
def _matcher() -> Matcher:
    return Matcher(default_ruleset())


@cache
def engine_with(session: tuple[tuple[str, Any], ...] = ()) -> DialogEngine:
    flow = load_flow()
    if session:
        flow = replace(flow, session=replace(flow.session, **dict(session)))
    return DialogEngine(rules=default_ruleset(), matcher=_matcher(), flow=flow)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".yaml" and file_path.parent == HERE:
        return DialogFile.from_parent(parent, path=file_path)
    return None


class DialogFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        names: set[str] = set()
        for i, case in enumerate(data["cases"]):
            unknown = set(case) - _CASE_KEYS
            assert not unknown, f"{self.path.name} case {i}: unknown keys {unknown}"
            for j, step in enumerate(case["steps"]):
                bad = set(step) - _STEP_KEYS
                assert not bad, f"{self.path.name} {case['name']} step {j}: unknown keys {bad}"
            assert case["name"] not in names, f"{case['name']!r} twice"
            names.add(case["name"])
            yield DialogCase.from_parent(self, name=case["name"], case=case)


class ScriptFailure(AssertionError):
    pass


class DialogCase(pytest.Item):
    def __init__(self, *, case: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.log: list[str] = []

    def runtest(self) -> None:
        session = tuple(sorted((self.case.get("session") or {}).items()))
        engine = engine_with(session)
        now = datetime.fromisoformat(str(self.case.get("date", DEFAULT_DATE)))
        state: SessionState | None = None
        for n, step in enumerate(self.case["steps"], 1):
            now += timedelta(minutes=float(step.get("after", 0.5)))
            msg = Incoming(str(step["user"]), step.get("kind", "text"))
            turn = engine.handle(state, msg, now)
            state = turn.state
            self.log.append(f"[{n}] 用户: {msg.text!r}")
            self.log.extend(
                "    " + _show(r.text, [c.label for c in r.choices]) for r in turn.replies
            )
            self.log.append(f"    (step={state.step} events={[e.kind for e in turn.events]})")
            _check(step, turn, n)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, ScriptFailure):
            return "\n".join([str(excinfo.value), "", "conversation:", *self.log])
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"dialog: {self.name}"


def _show(text: str, labels: list[str]) -> str:
    shown = text.replace("\n", "\n    ")
    return shown + ("".join(f"\n      {i}. {label}" for i, label in enumerate(labels, 1)))


def _check(step: dict[str, Any], turn: Turn, n: int) -> None:
    said = "\n".join(r.text for r in turn.replies)

    def fail(message: str) -> None:
        raise ScriptFailure(f"step {n} ({step['user']!r}): {message}")

    for part in step.get("says", []):
        if str(part) not in said:
            fail(f"the replies do not contain {part!r}")
    for part in step.get("not_says", []):
        if str(part) in said:
            fail(f"the replies contain {part!r}")
    if "offers" in step:
        offered = [c.label for c in turn.replies[-1].choices] if turn.replies else []
        if offered != [str(x) for x in step["offers"]]:
            fail(f"offers {offered}, expected {step['offers']}")
    kinds = [e.kind for e in turn.events]
    for kind in step.get("events", []):
        if kind not in kinds:
            fail(f"no {kind} event (got {kinds})")
    if step.get("silent") and turn.replies:
        fail("expected no reply")
    if not step.get("silent") and not turn.replies:
        fail("no reply at all")
    if "step" in step and turn.state.step != step["step"]:
        fail(f"in step {turn.state.step!r}, expected {step['step']!r}")
    if "answers" in step:
        state = turn.state
        cert = state.cert if state.cert.answers or not state.done else state.done[-1]
        for code, answer in step["answers"].items():
            got = cert.answers.get(code)
            if got != answer:
                fail(f"{code} recorded as {got!r}, expected {answer!r}")
