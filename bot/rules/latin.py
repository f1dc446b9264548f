"""Queries typed in Latin letters: pinyin (yijian, gaoji gongchengshi), initials (yjjzs) and
Latin aliases (CPA). Compared with the dictionary pinyin of every name and alias; the level
words of the grades data are read as pinyin too (diangong sanji = 电工三级)."""

from __future__ import annotations

from rapidfuzz import fuzz, process

from bot.rules.levels import LevelWords
from bot.rules.model import Grade
from bot.rules.nameindex import NameIndex
from bot.rules.pinyin import name_pinyin
from bot.rules.scoring import (
    CONTAIN_BASE,
    CONTAIN_SPAN,
    FUZZY_CUTOFF,
    FUZZY_LIMIT,
    MAX_CONTAINERS,
    Hit,
    Hits,
    add_hit,
    cap_fragment,
    level_conflict,
    unique_grade,
)

__all__ = ["LatinMatcher"]

MIN_LETTERS = 3
MIN_PINYIN_CONTAIN = 5
# Letters carry less information than characters (jiangshi is one letter from jianshi), so a
# fuzzy pinyin score is discounted; exact pinyin and pinyin containment are not.
FUZZY_PENALTY = 6.0


def _as_pinyin(words: LevelWords) -> LevelWords:
    return LevelWords({name_pinyin(w): g for w, g in words.words.items() if not w.isascii()})


class LatinMatcher:
    def __init__(self, index: NameIndex, skill: LevelWords, every: LevelWords) -> None:
        self.index = index
        self.skill = _as_pinyin(skill)
        self.every = _as_pinyin(every)
        self.key_words = [frozenset(h.word for h in self.every.scan(py)) for py in index.pinyin]

    def grade(self, s: str) -> Grade | None:
        return unique_grade(self.skill.scan(s))

    def decisive(self, s: str) -> Hits:
        """Exact pinyin or initials of a name; or an occupation's pinyin plus a level word."""
        index = self.index
        out: Hits = {}
        for table, how in ((index.pinyin_exact, "pinyin"), (index.initials_exact, "initials")):
            for ki in table.get(s, ()):
                for ei in index.key_entries[ki]:
                    out[ei] = Hit(100.0, how)
            if out:
                return out
        levels = self.skill.scan(s)
        residual = self.skill.remove(s, levels)
        if levels and residual:
            for ki in index.pinyin_exact.get(residual, ()):
                for ei in index.key_entries[ki]:
                    if index.entries[ei].is_occupation:
                        out[ei] = Hit(100.0, "pinyin+level", unique_grade(levels))
        return out

    def score(self, s: str) -> Hits:
        hits: Hits = {}
        if len(s) < MIN_LETTERS or not any(ch.isalpha() for ch in s):
            return hits
        index = self.index
        qwords = frozenset(h.word for h in self.every.scan(s))
        found = process.extract(
            s, index.pinyin, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=FUZZY_LIMIT
        )
        for _, score, ki in found:
            penalty = FUZZY_PENALTY + level_conflict(index, ki, self.key_words[ki], qwords, None)
            for ei in index.key_entries[ki]:
                add_hit(hits, ei, float(score) - penalty, "pinyin")
        # Names whose pinyin lies inside the query (yijian in yijianshi): every substring of
        # the query is looked up, which costs the same whatever the size of the catalogue.
        for i in range(len(s)):
            for j in range(i + MIN_PINYIN_CONTAIN, len(s) + 1):
                if j - i == len(s):
                    continue  # the whole query: an exact hit, decided earlier
                for ki in index.pinyin_exact.get(s[i:j], ()):
                    score = CONTAIN_BASE + CONTAIN_SPAN * (j - i) / len(s)
                    for ei in index.key_entries[ki]:
                        add_hit(hits, ei, score, "pinyin-contains")
        within = index.pinyin_finder.containing(s, MAX_CONTAINERS)
        containers = [ki for ki in within if index.pinyin[ki] != s]
        cap_fragment(index, s, containers, index.pinyin, hits)
        return hits
