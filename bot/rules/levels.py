"""Finding level words (三级, 高级工, 技师, 中级 …) anywhere in a normalised query.

The words and what they mean come from the grades data of the ruleset (rules/grades.yaml);
this module only scans for them, leftmost-longest, so that 高级技师 is one word, not 高级 + 技师.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.rules.model import SKILL_GRADES, TITLE_GRADES, Grade

__all__ = ["LevelHit", "LevelWords", "level_words_from"]

_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class LevelHit:
    start: int
    end: int
    word: str
    grade: Grade


class LevelWords:
    """A table of level words (already normalised) and their grades, for one kind of grade."""

    def __init__(self, words: Mapping[str, Grade]) -> None:
        self.words: dict[str, Grade] = {w: g for w, g in words.items() if w}
        by_first: dict[str, set[int]] = {}
        for word in self.words:
            by_first.setdefault(word[0], set()).add(len(word))
        self._lengths = {ch: sorted(ls, reverse=True) for ch, ls in by_first.items()}
        # One query is scanned several times (whole, residuals, by each table user).
        self._cache: dict[str, tuple[LevelHit, ...]] = {}

    def __bool__(self) -> bool:
        return bool(self.words)

    def scan(self, text: str) -> list[LevelHit]:
        """Non-overlapping hits, leftmost first, the longest word at each position."""
        cached = self._cache.get(text)
        if cached is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            cached = self._cache[text] = tuple(self._scan(text))
        return list(cached)

    def _scan(self, text: str) -> list[LevelHit]:
        hits: list[LevelHit] = []
        i = 0
        while i < len(text):
            for length in self._lengths.get(text[i], ()):
                if i + length > len(text):
                    continue
                word = text[i : i + length]
                grade = self.words.get(word)
                if grade is not None:
                    hits.append(LevelHit(i, i + length, word, grade))
                    i += length
                    break
            else:
                i += 1
        return hits

    def remove(self, text: str, hits: Iterable[LevelHit]) -> str:
        """`text` without the spans of `hits`."""
        out: list[str] = []
        pos = 0
        for hit in sorted(hits, key=lambda h: h.start):
            out.append(text[pos : hit.start])
            pos = hit.end
        out.append(text[pos:])
        return "".join(out)


def _pairs(source: Any) -> Iterable[tuple[str, str]]:
    if isinstance(source, Mapping):
        return ((str(k), str(v)) for k, v in source.items())
    return ((str(k), str(v)) for k, v in source)


def level_words_from(grades: Any, normalise: Callable[[str], str]) -> tuple[LevelWords, LevelWords]:
    """(skill words, title words) from a ruleset's grades object.

    Accepts `grades.words(kind)` returning a mapping or pairs of word → grade, or attributes
    `skill_words` / `title_words` holding them. Unknown grade names are ignored.
    """
    tables: list[LevelWords] = []
    for kind, allowed in (("skill", SKILL_GRADES), ("title", TITLE_GRADES)):
        raw: Any
        getter = getattr(grades, "words", None)
        raw = getter(kind) if callable(getter) else getattr(grades, f"{kind}_words", {})
        words: dict[str, Grade] = {}
        for word, grade in _pairs(raw):
            key = normalise(word)
            for known in allowed:
                if known == grade and key:
                    words[key] = known
        tables.append(LevelWords(words))
    return tables[0], tables[1]
