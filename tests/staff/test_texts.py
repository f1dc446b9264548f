"""dialogs/staff.yaml: every sentence the code formats is there with all its placeholders
(a YAML comment sign inside an unquoted text would silently cut it short)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dialog.texts import placeholders
from bot.errors import DialogDataError
from bot.staff.texts import KEYS, load_staff_texts


def test_every_formatted_text_uses_all_its_placeholders() -> None:
    texts = load_staff_texts()
    for key, allowed in KEYS.items():
        raw = texts.get(key, "")
        assert placeholders(raw) == set(allowed), key


def test_console_labels_and_wait_words() -> None:
    texts = load_staff_texts()
    console = texts.section("console")
    for label in ("title", "claim", "close", "send", "window_closed", "conflict"):
        assert console[label]
    assert texts.is_wait("继续等待")
    assert texts.is_wait(" 继续等待！")
    assert not texts.is_wait("一建")


def test_a_missing_text_or_unknown_placeholder_stops_start_up(tmp_path: Path) -> None:
    good = Path(load_staff_texts().file).read_text(encoding="utf-8")
    broken = tmp_path / "staff.yaml"
    broken.write_text(good.replace("  wait_ack:", "  wait_ack_gone:"), encoding="utf-8")
    with pytest.raises(DialogDataError, match=r"handoff\.wait_ack"):
        load_staff_texts(broken)
    broken.write_text(good.replace("{hours}", "{hour}"), encoding="utf-8")
    with pytest.raises(DialogDataError, match="unknown placeholder"):
        load_staff_texts(broken)
