"""The engine's handler for each state of flow.yaml, and the check that the two agree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.dialog import find, questions, render
from bot.dialog.context import Ctx
from bot.dialog.flow import Flow, StateKind
from bot.dialog.replies import Reply
from bot.errors import DialogDataError


@dataclass(frozen=True, slots=True)
class Step:
    kind: StateKind
    outcomes: frozenset[str]
    ask: Callable[[Ctx], Reply] | None = None
    read: Callable[[Ctx, str], str | None] | None = None
    run: Callable[[Ctx], str] | None = None  # decide and say states


def _ask(
    outcomes: str, ask: Callable[[Ctx], Reply], read: Callable[[Ctx, str], str | None]
) -> Step:
    return Step("ask", frozenset(outcomes.split()), ask=ask, read=read)


STEPS: dict[str, Step] = {
    "certificate": _ask("found choose none", find.ask_certificate, find.read_certificate),
    "choose": _ask("picked none_of_these", find.ask_choose, find.read_choose),
    "occupation": _ask("found choose unknown", find.ask_occupation, find.read_occupation),
    "grade": _ask("picked unknown", find.ask_grade, find.read_grade),
    "condition": _ask("answered", questions.ask_condition, questions.read_condition),
    "insurance": _ask("answered", questions.ask_insurance, questions.read_insurance),
    "route": Step(
        "decide",
        frozenset(
            ["needs_occupation", "needs_grade", "ask_condition", "ask_insurance", "zero", "done"]
        ),
        run=questions.decide_route,
    ),
    "result": Step("say", frozenset({"next"}), run=render.say_result),
    "another": _ask("more finish found choose", find.ask_another, find.read_another),
    "summary": Step("say", frozenset({"next"}), run=render.say_summary),
    "closed": _ask("found choose none thanks", find.ask_closed, find.read_closed),
}


def check_flow(flow: Flow) -> None:
    """Fail at start-up unless each state has a handler producing exactly its transitions."""
    for name in sorted(set(STEPS) | set(flow.states)):
        where = f"states.{name}"
        if name not in flow.states:
            raise DialogDataError(flow.file, where, "missing: the engine has a handler for it")
        spec, step = flow.states[name], STEPS.get(name)
        if step is None:
            raise DialogDataError(flow.file, where, "no handler in bot/dialog/steps.py")
        if spec.kind != step.kind:
            raise DialogDataError(flow.file, f"{where}.kind", f"the handler is a {step.kind} step")
        missing, extra = step.outcomes - set(spec.on), set(spec.on) - step.outcomes
        if missing:
            raise DialogDataError(
                flow.file, f"{where}.transitions", f"outcome {sorted(missing)[0]} missing"
            )
        if extra:
            raise DialogDataError(
                flow.file, f"{where}.transitions.{sorted(extra)[0]}", "never produced"
            )
    # A loop through decide/say states only would never wait for the user.
    for name, spec in flow.states.items():
        if spec.kind != "ask":
            seen: set[str] = set()
            todo = [name]
            while todo:
                for target in flow.states[todo.pop()].on.values():
                    if target == name:
                        raise DialogDataError(flow.file, f"states.{name}", "loops without asking")
                    if flow.states[target].kind != "ask" and target not in seen:
                        seen.add(target)
                        todo.append(target)


__all__ = ["STEPS", "Step", "check_flow"]
