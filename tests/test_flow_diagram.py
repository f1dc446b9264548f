"""dialogs/flow.mmd is the picture of dialogs/flow.yaml: the same states, the same transitions."""

from __future__ import annotations

import re
from pathlib import Path

from bot.dialog.flow import Flow, load_flow
from bot.paths import dialogs_dir

_EDGE = re.compile(r"^\s*(\[\*\]|\w+)\s*-->\s*(\w+)\s*(?::\s*(\w+))?\s*$")
_CHOICE = re.compile(r"^\s*state\s+(\w+)\s+<<choice>>\s*$")


def _diagram(text: str) -> tuple[str | None, set[tuple[str, str, str]], set[str]]:
    start: str | None = None
    edges: set[tuple[str, str, str]] = set()
    choices: set[str] = set()
    for line in text.splitlines():
        if m := _EDGE.match(line):
            source, target, label = m.groups()
            if source == "[*]":
                start = target
            else:
                assert label, f"flow.mmd: {line.strip()!r} needs its outcome as a label"
                edges.add((source, target, label))
        elif m := _CHOICE.match(line):
            choices.add(m.group(1))
    return start, edges, choices


def disagreements(flow: Flow, diagram: str) -> list[str]:
    start, edges, choices = _diagram(diagram)
    expected = {
        (name, target, outcome)
        for name, state in flow.states.items()
        for outcome, target in state.on.items()
    }
    problems = [f"only in flow.mmd: {e}" for e in sorted(edges - expected)]
    problems += [f"only in flow.yaml: {e}" for e in sorted(expected - edges)]
    if start != flow.start:
        problems.append(f"starts at {start}, flow.yaml at {flow.start}")
    decide = {n for n, s in flow.states.items() if s.kind == "decide"}
    if choices != decide:
        problems.append(f"choice states {sorted(choices)} but decide states {sorted(decide)}")
    return problems


def _shipped() -> str:
    return (dialogs_dir() / "flow.mmd").read_text(encoding="utf-8")


def test_diagram_matches_flow() -> None:
    assert disagreements(load_flow(), _shipped()) == []


def test_a_missing_or_extra_arrow_is_reported() -> None:
    flow = load_flow()
    without = _shipped().replace("    closed --> closed : thanks\n", "")
    assert disagreements(flow, without) == ["only in flow.yaml: ('closed', 'closed', 'thanks')"]
    extra = _shipped() + "    grade --> result : skipped\n"
    assert disagreements(flow, extra) == ["only in flow.mmd: ('grade', 'result', 'skipped')"]


def test_a_renamed_state_is_reported(tmp_path: Path) -> None:
    renamed = _shipped().replace("state route <<choice>>", "state decide <<choice>>")
    assert any("choice states" in p for p in disagreements(load_flow(), renamed))
