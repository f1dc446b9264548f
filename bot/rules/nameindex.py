"""The matcher's index over catalogue names and aliases, built once per ruleset.

Every name and alias becomes a "key" (its cleaned text) pointing at the entries that carry it.
Around the keys: an exact table, the pinyin and initials of each key, a char → keys inverted
index (for "which names contain this text"), and per-kind key lists so that fuzzy scoring of a
residual (电工 once 三级 is taken out) runs over a short list only.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.rules.levels import LevelWords
from bot.rules.model import Entry, Grade
from bot.rules.pinyin import name_initials, name_syllables

__all__ = ["NameIndex"]

# A qualifier in brackets at the end of a printed name: 建造师(一级), 注册安全工程师（中级）.
_QUALIFIED = re.compile(r"^(?P<base>.+?)\s*[(（](?P<qual>[^()（）]{1,6})[)）]\s*$")
# Initials shorter than this collide with ordinary abbreviations too often to be trusted.
MIN_INITIALS = 3


class Substrings:
    """Which of many strings contain a text: `str.find` over them joined, in C, instead of a
    Python loop over every string (the catalogue may grow tenfold). The strings are joined
    shortest first, so that the first hits are the shortest containers, the ones that matter
    (a fragment weighs more in a short name), and a search may stop after `limit` of them."""

    def __init__(self, texts: list[str]) -> None:
        self._order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
        # Cleaned texts hold only letters and digits, so NUL cannot occur inside one.
        self._joined = "\x00".join(texts[i] for i in self._order) + "\x00"
        self._starts: list[int] = []
        pos = 0
        for i in self._order:
            self._starts.append(pos)
            pos += len(texts[i]) + 1
        self._starts.append(pos)

    def containing(self, text: str, limit: int | None = None) -> list[int]:
        """Indices of the texts containing `text`, shortest first."""
        out: list[int] = []
        if not text or "\x00" in text:
            return out
        pos = self._joined.find(text)
        while pos >= 0 and (limit is None or len(out) < limit):
            k = bisect_right(self._starts, pos) - 1
            out.append(self._order[k])
            pos = self._joined.find(text, self._starts[k + 1])
        return out


@dataclass(slots=True)
class NameIndex:
    entries: tuple[Entry, ...]
    keys: list[str] = field(default_factory=list)
    key_entries: list[tuple[int, ...]] = field(default_factory=list)
    # False for forms the index derived itself (the qualifier moved to the front).
    key_declared: list[bool] = field(default_factory=list)
    key_words: list[frozenset[str]] = field(default_factory=list)
    exact: dict[str, int] = field(default_factory=dict)
    pinyin: list[str] = field(default_factory=list)
    pinyin_exact: dict[str, list[int]] = field(default_factory=dict)
    initials_exact: dict[str, list[int]] = field(default_factory=dict)
    key_finder: Substrings = field(default_factory=lambda: Substrings([]))
    pinyin_finder: Substrings = field(default_factory=lambda: Substrings([]))
    first_lengths: dict[str, tuple[int, ...]] = field(default_factory=dict)
    occupation_keys: list[int] = field(default_factory=list)
    grade_keys: dict[Grade, list[int]] = field(default_factory=dict)
    level_entries: dict[Grade, list[int]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        entries: Sequence[Entry],
        clean: Callable[[str], str],
        level_words: LevelWords,
    ) -> NameIndex:
        index = cls(tuple(entries))
        for ei, entry in enumerate(index.entries):
            for name in entry.names:
                key = clean(name)
                index._add(key, ei, declared=True)
                qualified = _QUALIFIED.match(name)
                if qualified:
                    front = clean(qualified["qual"] + qualified["base"])
                    index._add(front, ei, declared=False)
            if entry.is_skill_level and entry.grade is not None:
                index.level_entries.setdefault(entry.grade, []).append(ei)
        index._finish(level_words)
        return index

    def _add(self, key: str, ei: int, *, declared: bool) -> None:
        if not key:
            return
        ki = self.exact.get(key)
        if ki is None:
            self.exact[key] = len(self.keys)
            self.keys.append(key)
            self.key_entries.append((ei,))
            self.key_declared.append(declared)
            return
        if ei not in self.key_entries[ki]:
            self.key_entries[ki] = (*self.key_entries[ki], ei)
        self.key_declared[ki] = self.key_declared[ki] or declared

    def _finish(self, level_words: LevelWords) -> None:
        first: dict[str, set[int]] = {}
        for ki, key in enumerate(self.keys):
            syllables = name_syllables(key)
            py = "".join(syllables)
            self.pinyin.append(py)
            self.pinyin_exact.setdefault(py, []).append(ki)
            initials = name_initials(key, syllables)
            if len(initials) >= MIN_INITIALS:
                self.initials_exact.setdefault(initials, []).append(ki)
            first.setdefault(key[0], set()).add(len(key))
            self.key_words.append(frozenset(h.word for h in level_words.scan(key)))
            kinds = {self.entries[ei].is_occupation for ei in self.key_entries[ki]}
            if True in kinds:
                self.occupation_keys.append(ki)
            for ei in self.key_entries[ki]:
                entry = self.entries[ei]
                if entry.kind in ("title", "qualification") and entry.grade is not None:
                    bucket = self.grade_keys.setdefault(entry.grade, [])
                    if not bucket or bucket[-1] != ki:
                        bucket.append(ki)
        self.first_lengths = {ch: tuple(sorted(ls, reverse=True)) for ch, ls in first.items()}
        self.key_finder = Substrings(self.keys)
        self.pinyin_finder = Substrings(self.pinyin)

    def containing(self, text: str, limit: int | None = None) -> list[int]:
        """Keys that contain `text` as a substring, shortest first."""
        return self.key_finder.containing(text, limit)

    def contained(self, text: str, min_len: int = 2) -> list[tuple[int, int, int]]:
        """(start, end, key) for every key of at least `min_len` chars found inside `text`."""
        hits: list[tuple[int, int, int]] = []
        for i, ch in enumerate(text):
            for length in self.first_lengths.get(ch, ()):
                if length < min_len or i + length > len(text):
                    continue
                ki = self.exact.get(text[i : i + length])
                if ki is not None:
                    hits.append((i, i + length, ki))
        return hits
