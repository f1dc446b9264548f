"""dialogs/ is checked at start-up: a mistake names the file and the key, before anyone chats."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from auxil.conversation import engine

from bot.dialog.engine import DialogEngine
from bot.dialog.flow import SLOT_TYPES, load_flow
from bot.dialog.lexicon import load_lexicon
from bot.dialog.state import SCHEMA_VERSION, CertSlots, SessionState, StateError
from bot.dialog.texts import CODE_KEYS, load_texts
from bot.errors import DialogDataError
from bot.paths import dialogs_dir

Edit = Callable[[str], str]


@pytest.fixture
def dialogs(tmp_path: Path) -> Path:
    folder = tmp_path / "dialogs"
    shutil.copytree(dialogs_dir(), folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_dialogs_load() -> None:
    flow = load_flow()
    assert flow.start == "certificate"
    assert flow.session.idle_minutes == 30
    assert flow.command("重新开始") == "restart"
    assert flow.command("？") == "help"
    assert flow.command("人工智能训练师") is None
    load_lexicon()
    engine()  # flow, texts and handlers agree


def test_every_text_is_used() -> None:
    from bot.channels.terminal import TEXT_KEYS

    used = set(CODE_KEYS) | load_flow().text_keys() | set(TEXT_KEYS)
    assert set(load_texts().keys()) - used == set()
    assert {f"unclear.{slot}" for slot in SLOT_TYPES} <= set(CODE_KEYS)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("  idle_minutes: 30", "  idle_minutes: soon", "session.idle_minutes"),
        ("  undo_depth: 20", "  undo_depth: 0", "session.undo_depth"),
        ("start: certificate", "start: route", "start"),
        ("    transitions: {answered: route}\n", "    transitions: {answered: nowhere}\n",
         "states.condition.transitions.answered"),
        ("    kind: decide", "    kind: wonder", "states.route.kind"),
        ("  - {code: registration, ask: condition.registration, answer: yes_no}\n", "",
         "conditions"),
        ("code: post_match", "code: post_mach", "conditions[4].code"),
        ("  summary:\n    kind: say", "  summary:\n    kind: say\n    colour: blue",
         "states.summary.colour"),
        ("  help: [帮助,", "  help: [返回, 帮助,", "commands.help"),
    ],
)  # fmt: skip
def test_flow_errors_name_file_and_key(dialogs: Path, old: str, new: str, key: str) -> None:
    path = dialogs / "flow.yaml"
    edit(path, old, new)
    with pytest.raises(DialogDataError) as err:
        load_flow(path)
    assert err.value.file == str(path)
    assert err.value.key.startswith(key)


def test_duplicate_keys_are_refused(dialogs: Path) -> None:
    edit(dialogs / "flow.yaml", "start: certificate", "start: certificate\nstart: choose")
    with pytest.raises(DialogDataError, match="duplicate key"):
        load_flow(dialogs / "flow.yaml")


def test_a_flow_the_engine_cannot_run_is_refused(dialogs: Path) -> None:
    path = dialogs / "flow.yaml"
    edit(path, "transitions: {picked: route, unknown: route}", "transitions: {picked: route}")
    rs = engine().cfg
    with pytest.raises(DialogDataError, match="outcome unknown missing"):
        DialogEngine(rules=rs.rules, matcher=rs.matcher, flow=load_flow(path))


def test_a_loop_without_question_is_refused(dialogs: Path) -> None:
    path = dialogs / "flow.yaml"
    edit(path, "    transitions: {next: another}", "    transitions: {next: route}")
    edit(path, "      done: result", "      done: result\n")
    cfg = engine().cfg
    with pytest.raises(DialogDataError):
        DialogEngine(rules=cfg.rules, matcher=cfg.matcher, flow=load_flow(path))


def test_a_missing_text_fails_at_start(dialogs: Path) -> None:
    edit(dialogs / "texts.yaml", "  undo_none: 已经是第一步了。\n", "")
    with pytest.raises(DialogDataError) as err:
        load_texts(dialogs / "texts.yaml")
    assert err.value.key == "command.undo_none"


def test_a_text_the_flow_names_must_exist(dialogs: Path) -> None:
    edit(dialogs / "texts.yaml", "  grade: 等级写在证书上", "  grades: 等级写在证书上")
    texts = load_texts(dialogs / "texts.yaml")
    cfg = engine().cfg
    with pytest.raises(DialogDataError, match="no such text"):
        DialogEngine(rules=cfg.rules, matcher=cfg.matcher, texts=texts)


def test_an_unknown_placeholder_fails_at_start(dialogs: Path) -> None:
    edit(dialogs / "texts.yaml", "现在可得：{points} 分", "现在可得：{point} 分")
    with pytest.raises(DialogDataError, match="unknown placeholder"):
        load_texts(dialogs / "texts.yaml")


def test_a_broken_brace_fails_at_start(dialogs: Path) -> None:
    edit(dialogs / "texts.yaml", "现在可得：{points} 分", "现在可得：{points 分")
    with pytest.raises(DialogDataError, match="placeholder"):
        load_texts(dialogs / "texts.yaml")


def test_lexicon_errors(dialogs: Path) -> None:
    edit(dialogs / "lexicon.yaml", "否, 不是,", "否, 是,")
    with pytest.raises(DialogDataError, match="twice"):
        load_lexicon(dialogs / "lexicon.yaml")


# State ------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_state_round_trip() -> None:
    state = SessionState.new("condition", NOW)
    state.cert = CertSlots(
        query="电工", entry_id="skill.electrician", grade="level-3", grade_asked=True,
        answers={"post_match": "unknown"}, insurance_base=15000.0, pending="appointment",
    )  # fmt: skip
    state.done.append(CertSlots(entry_id="qual.constructor-2"))
    state.history.append(SessionState.new("certificate", NOW).snapshot())
    assert SessionState.from_dict(state.to_dict()) == state
    assert state.to_dict()["version"] == SCHEMA_VERSION


@pytest.mark.parametrize(
    "damage",
    [
        {"version": 99},
        {"step": 3},
        {"mode": "paused"},
        {"started_at": "yesterday"},
        {"unclear": True},
        {"cert": {"answers": {"post_match": "maybe"}}},
        {"cert": {"grade": "level-9"}},
        {"offered": [["是"]]},
        {"history": ["x"]},
    ],
)
def test_damaged_state_is_refused(damage: dict[str, object]) -> None:
    data = SessionState.new("certificate", NOW).to_dict()
    data.update(damage)
    with pytest.raises(StateError):
        SessionState.from_dict(data)
