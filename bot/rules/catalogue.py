"""The certificate catalogue: every entry of rules/catalogue/*.yaml, validated and indexed."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from bot.errors import RuleDataError
from bot.rules.model import (
    CONFIDENCES,
    KINDS,
    SKILL_GRADES,
    TITLE_GRADES,
    Confidence,
    Entry,
    Grade,
    Kind,
    Route,
)
from bot.rules.yamlfile import Fields, read_yaml

_ID = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_ENTRY_FIELDS = frozenset(
    (
        "id", "name", "kind", "grade", "rank", "series", "route", "registration", "aliases",
        "shared", "review", "review_reason", "reason", "note", "sources", "confidence",
    )
)  # fmt: skip


def name_key(text: str) -> str:
    """The form under which names and aliases must be unique: width, case, spacing folded."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


class Catalogue:
    """All entries, by id and by normalised name."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        self._by_id = {e.id: e for e in self.entries}
        by_name: dict[str, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            for name in dict.fromkeys(name_key(n) for n in entry.names):
                by_name[name].append(entry)
        self._by_name = dict(by_name)

    def get(self, entry_id: str) -> Entry:
        return self._by_id[entry_id]

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id

    def __len__(self) -> int:
        return len(self.entries)

    def lookup(self, text: str) -> list[Entry]:
        """Entries whose name or alias is exactly `text` once normalised (several if shared)."""
        return list(self._by_name.get(name_key(text), ()))

    def names(self) -> Mapping[str, list[Entry]]:
        return self._by_name


def _entry(raw: Any, defaults: Mapping[str, Any], file: str, index: int) -> Entry:
    merged = {**defaults, **raw} if isinstance(raw, Mapping) else raw
    label = raw.get("id") if isinstance(raw, Mapping) and isinstance(raw.get("id"), str) else None
    f = Fields(merged, file, f"entries[{index}]" + (f"({label})" if label else ""))
    entry_id = f.req_text("id")
    if not _ID.match(entry_id) or len(entry_id) > 40:
        raise f.fail("id", f"{entry_id!r} must match {_ID.pattern} and be at most 40 characters")
    kind = cast(Kind, f.choice("kind", KINDS))
    grade = cast(Grade | None, f.text("grade", required=False))
    if kind in ("title", "qualification"):
        allowed: tuple[str, ...] = TITLE_GRADES if kind == "title" else ("intermediate", "junior")
        if grade not in allowed:
            raise f.fail("grade", f"{grade!r}: a {kind} needs one of {', '.join(allowed)}")
    elif kind == "skill":
        if grade is not None and grade not in SKILL_GRADES:
            raise f.fail("grade", f"{grade!r} is not a skill level ({', '.join(SKILL_GRADES)})")
    elif grade is not None:
        raise f.fail("grade", "an `other` entry has no grade")
    route = cast(Route | None, f.choice("route", ("exam", "review"), required=False))
    if kind == "qualification" and route is None:
        route = "exam"
    if kind == "title" and route is None:
        raise f.fail("route", "a title needs route: exam or review")
    review = f.flag("review")
    review_reason = f.text("review_reason", required=False)
    if review and not review_reason:
        raise f.fail("review_reason", "is required when review is true")
    sources = f.str_list("sources", required=True)
    entry = Entry(
        id=entry_id,
        name=f.req_text("name"),
        kind=kind,
        grade=grade,
        sources=sources,
        confidence=cast(Confidence, f.choice("confidence", CONFIDENCES)),
        file=file,
        rank=f.text("rank", required=False),
        series=f.text("series", required=False),
        route=route,
        registration=f.flag("registration"),
        aliases=f.str_list("aliases"),
        shared=f.str_list("shared"),
        review=review,
        review_reason=review_reason,
        reason=f.text("reason", required=False),
        note=f.text("note", required=False),
    )
    f.done()
    return entry


def load_catalogue(
    folder: Path, source_ids: set[str], zero_grades: set[tuple[str, str]]
) -> Catalogue:
    """Read every catalogue/*.yaml. `zero_grades` are the (kind, grade) pairs worth 0 points,
    whose entries must say why in `reason`."""
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise RuleDataError(str(folder), "", "no catalogue files found")
    entries: list[Entry] = []
    seen_ids: dict[str, str] = {}
    for path in files:
        data = read_yaml(path)
        top = Fields(data, str(path), "")
        defaults = top.mapping("defaults", required=False) or {}
        unknown = [k for k in defaults if k not in _ENTRY_FIELDS]
        if unknown:
            raise top.fail(f"defaults.{unknown[0]}", "unknown field")
        raw_entries = top.raw("entries", required=True)
        top.done()
        if not isinstance(raw_entries, list):
            raise top.fail("entries", "expected a list")
        for i, raw in enumerate(raw_entries):
            entry = _entry(raw, defaults, str(path), i)
            where = f"entries[{i}]({entry.id})"
            if entry.id in seen_ids:
                raise RuleDataError(
                    str(path), f"{where}.id", f"duplicate id, also in {seen_ids[entry.id]}"
                )
            seen_ids[entry.id] = str(path)
            for src in entry.sources:
                if src not in source_ids:
                    raise RuleDataError(str(path), f"{where}.sources", f"unknown source id {src!r}")
            is_zero = entry.kind == "other" or (entry.kind, entry.grade or "") in zero_grades
            if is_zero and not entry.reason:
                raise RuleDataError(str(path), f"{where}.reason", "a 0-point entry must say why")
            entries.append(entry)
    catalogue = Catalogue(entries)
    _check_names(catalogue)
    return catalogue


def _check_names(catalogue: Catalogue) -> None:
    """A name or alias standing for two entries must be declared `shared` by each of them."""
    for key, holders in catalogue.names().items():
        if len(holders) < 2:
            continue
        for entry in holders:
            if key not in {name_key(s) for s in entry.shared}:
                others = ", ".join(e.id for e in holders if e is not entry)
                raise RuleDataError(
                    entry.file,
                    f"{entry.id}.aliases",
                    f"name {key!r} also stands for {others}; declare it in `shared` if intended",
                )
    for entry in catalogue.entries:
        own = {name_key(n) for n in entry.names}
        for name in entry.shared:
            if name_key(name) not in own:
                raise RuleDataError(
                    entry.file, f"{entry.id}.shared", f"{name!r} is not a name of this entry"
                )
