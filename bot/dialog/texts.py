"""Every sentence a user reads, from dialogs/texts.yaml, checked when the bot starts.

The code names texts by dotted key ("ask.certificate"). `CODE_KEYS` lists each key the code
uses with the placeholders it fills; `load_texts` refuses a file that lacks one of them or
whose text asks for a placeholder the code does not fill, so a typo fails at start-up and
never in the middle of someone's conversation.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bot.errors import DialogDataError
from bot.paths import dialogs_dir
from bot.rules.yamlfile import read_yaml

_KEYS: dict[str, tuple[str, ...]] = {
    "greeting": (),
    "ask.certificate": (),
    "ask.certificate_next": (),
    "ask.choose": ("query",),
    "ask.occupation": ("level",),
    "ask.grade": ("name",),
    "ask.another": (),
    "ask.closed": (),
    "closing.thanks": (),
    "ask.insurance": ("window", "figures"),
    "ask.insurance_partial": ("start", "end", "months", "figures", "unpublished"),
    "insurance.month": ("year", "month"),
    "insurance.figure": ("value",),
    "insurance.change": ("year", "month", "value"),
    "insurance.changes": ("changes",),
    "insurance.separator": (),
    "insurance.figure_unknown": (),
    "help.general": (),
    "input.empty": (),
    "input.emoji": (),
    "input.sticker": (),
    "input.media": (),
    "input.too_long": ("limit",),
    "unclear.occupation": ("query",),
    "unclear.offer_human": (),
    "certificate.not_found": ("query",),
    "found.entry": ("name",),
    "session.expired": ("minutes",),
    "session.welcome_back": (),
    "session.store_unavailable": (),
    "session.error": (),
    "result.title": ("name",),
    "name.with_grade": ("name", "grade"),
    "name.with_series": ("name", "series"),
    "result.points_now": ("points",),
    "result.points_pending": (),
    "result.points_full": ("points",),
    "result.need_grade": (),
    "result.met": ("label",),
    "result.missing": ("label", "explanation"),
    "result.unknown": ("label", "explanation"),
    "result.review": ("reason",),
    "result.zero": ("name", "reason"),
    "result.zero_plain": ("name",),
    "result.education": (),
    "result.disclaimer": (),
    "result.offer_human": (),
    "summary.header": ("count",),
    "summary.line": ("name", "points"),
    "summary.points": ("points",),
    "summary.pending": ("points",),
    "summary.unknown": (),
    "summary.best": ("name", "points"),
    "summary.best_pending": ("name", "points"),
    "summary.none": (),
    "summary.bye": (),
}
_PLAIN = (
    *(f"choice.{k}" for k in ("yes", "no", "unknown", "human", "none_of_these")),
    *(f"choice.another_{k}" for k in ("yes", "no")),
    *(f"grade.level-{n}" for n in range(1, 6)),
    *(f"command.{k}" for k in ("restart", "undo", "undo_none", "human", "human_continue")),
    *(f"command.{k}" for k in ("human_paused", "resume_bot")),
    # The engine's default answer to an unusable reply, by slot type (flow.py SLOT_TYPES).
    *(f"unclear.{k}" for k in ("text", "choice", "yes_no", "insurance")),
)
# Keys the dialog code formats, with the placeholders it fills.
CODE_KEYS: Mapping[str, tuple[str, ...]] = {**_KEYS, **dict.fromkeys(_PLAIN, ())}


class Texts:
    """Formatted lookup of user-facing sentences."""

    def __init__(self, table: Mapping[str, str], file: str) -> None:
        self._table = dict(table)
        self.file = file

    def __call__(self, key: str, **values: Any) -> str:
        return self.fill(key, values)

    def fill(self, key: str, values: Mapping[str, Any]) -> str:
        """The same with the values as a mapping, for callers that hold them as one."""
        # A KeyError here is a bug the start-up check should have caught; let it surface.
        return self._table[key].format_map(values)

    def __contains__(self, key: object) -> bool:
        return key in self._table

    def keys(self) -> Iterable[str]:
        return self._table.keys()

    def require(self, keys: Mapping[str, Iterable[str]]) -> None:
        """Fail unless every key is present and uses only the placeholders allowed for it."""
        check_keys(self._table, self.file, keys)


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def load_texts(path: Path | None = None) -> Texts:
    """Read texts.yaml (default: the shipped one) and check it against `CODE_KEYS`."""
    path = path or dialogs_dir() / "texts.yaml"
    texts = Texts(read_text_table(read_yaml(path, DialogDataError), str(path)), str(path))
    texts.require(CODE_KEYS)
    return texts


def read_text_table(data: Any, file: str) -> dict[str, str]:
    """A YAML tree of sentences as {dotted key: text}; every leaf a non-empty, well-formed
    template. Shared by every file of user-facing text under dialogs/."""
    table: dict[str, str] = {}
    _flatten(data, "", file, table)
    return table


def check_keys(table: Mapping[str, str], file: str, keys: Mapping[str, Iterable[str]]) -> None:
    """Every key the code uses is present and asks only for placeholders the code fills."""
    for key, allowed in keys.items():
        if key not in table:
            raise DialogDataError(file, key, "missing text")
        unknown = placeholders(table[key]) - set(allowed)
        if unknown:
            raise DialogDataError(file, key, f"unknown placeholder {{{sorted(unknown)[0]}}}")


def _flatten(node: Any, prefix: str, file: str, out: dict[str, str]) -> None:
    if not isinstance(node, Mapping):
        raise DialogDataError(file, prefix, "expected a mapping of texts")
    for key, value in node.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            _flatten(value, full, file, out)
        elif isinstance(value, str) and value.strip():
            try:
                placeholders(value)
            except ValueError as exc:  # an unbalanced brace
                raise DialogDataError(file, full, f"bad placeholder: {exc}") from None
            out[full] = value.strip()
        else:
            raise DialogDataError(file, full, f"expected a non-empty text, got {value!r}")


__all__ = ["CODE_KEYS", "Texts", "check_keys", "load_texts", "placeholders", "read_text_table"]
