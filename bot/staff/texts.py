"""The staff handoff's sentences, from dialogs/staff.yaml, checked when the console mounts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.dialog.slots import key as normalise
from bot.dialog.texts import check_keys, read_text_table
from bot.errors import DialogDataError
from bot.paths import dialogs_dir
from bot.rules.yamlfile import read_yaml

# Each key the server code formats, with the placeholders it fills. The console's own labels
# (console.*) are formatted in the browser and only need to exist.
KEYS: dict[str, frozenset[str]] = {
    "handoff.hours": frozenset({"hours"}),
    "handoff.hours_default": frozenset(),
    "handoff.timeout": frozenset(),
    "handoff.choice_wait": frozenset(),
    "handoff.choice_bot": frozenset(),
    "handoff.wait_ack": frozenset(),
    "handoff.staff_reply": frozenset({"text"}),
    "handoff.closed": frozenset(),
    **{f"reasons.{r}": frozenset() for r in ("asked", "unclear", "review", "after_result")},
    "group.announce": frozenset({"id", "channel", "reason", "summary"}),
    "group.no_summary": frozenset(),
    "group.summary_line": frozenset({"name", "points"}),
    "group.points": frozenset({"points"}),
    "group.points_unknown": frozenset(),
    "group.last_message": frozenset({"text"}),
    "group.conflict": frozenset({"id", "agent"}),
    "group.closed": frozenset({"id"}),
    "group.failed": frozenset({"id", "why"}),
    "group.window_closed": frozenset(),
    "group.quota_used": frozenset(),
    "group.send_failed": frozenset(),
    "console.title": frozenset(),
}


class StaffTexts:
    def __init__(self, table: Mapping[str, str], wait_words: frozenset[str], file: str) -> None:
        self._table = dict(table)
        self.wait_words = wait_words
        self.file = file

    def __call__(self, key: str, **values: Any) -> str:
        # A KeyError here is a bug the start-up check should have caught; let it surface.
        return self._table[key].format(**values)

    def get(self, key: str, default: str) -> str:
        return self._table.get(key, default)

    def is_wait(self, text: str) -> bool:
        return normalise(text) in self.wait_words

    def section(self, prefix: str) -> dict[str, str]:
        """Every text under `prefix.` (the console's labels, channel names), unformatted."""
        start = prefix + "."
        return {k[len(start) :]: v for k, v in self._table.items() if k.startswith(start)}


def load_staff_texts(path: Path | None = None) -> StaffTexts:
    path = path or dialogs_dir() / "staff.yaml"
    raw: Any = read_yaml(path, DialogDataError)
    words = raw.pop("wait_words", None) if isinstance(raw, dict) else None
    if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
        raise DialogDataError(str(path), "wait_words", "expected a list of words")
    table = read_text_table(raw, str(path))
    check_keys(table, str(path), KEYS)
    return StaffTexts(table, frozenset(normalise(w) for w in words), str(path))


__all__ = ["KEYS", "StaffTexts", "load_staff_texts"]
