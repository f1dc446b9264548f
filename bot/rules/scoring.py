"""Graded evidence for the matcher: how well a query fits each catalogue entry (0–100).

Exact hits are decided elsewhere (matcher.py); this is everything weaker: a name inside a longer
query, character similarity (rapidfuzz `ratio`, run over the whole key list in C++), pinyin for
Latin input, exact pinyin for homophones, and the residual of a query once level words are
taken out. Scores are then corrected for level words that contradict each other (一级 vs 二级,
中级 vs a senior title) and capped when the query is only a fragment shared by entries of
different grades (会计, 建造师): the user has not said enough for one answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.rules.levels import LevelHit, LevelWords
from bot.rules.model import Grade
from bot.rules.nameindex import NameIndex
from bot.rules.pinyin import to_pinyin_variants

__all__ = ["Hit", "Hits", "Scorer", "add_hit", "cap_fragment", "unique_grade"]

# Score of a key found inside the query: a floor plus a share for how much of the query it covers.
CONTAIN_BASE = 70.0
CONTAIN_BASE_INNER = 65.0
CONTAIN_SPAN = 30.0
# A key cut short by a longer key that runs past its end (中级工|程师) is not what was meant:
# Chinese puts the head noun last.
OVERLAP_PENALTY = 20.0
PREFIX_BONUS = 5.0
LEVEL_CONFLICT = 25.0
UNEXPLAINED_LEVEL = 10.0
# A query that is part of a name (消防 in 注册消防工程师) makes that name worth offering.
FRAGMENT_START = 50.0
FRAGMENT_END = 45.0
FRAGMENT_INNER = 40.0
FRAGMENT_SPAN = 30.0
MAX_FRAGMENTS = 24
MAX_CONTAINERS = 64
HOMOPHONE = 84.0
FRAGMENT_CAP = 80.0
BARE_LEVEL = 86.0
BARE_LEVEL_AMBIGUOUS = 70.0
FUZZY_CUTOFF = 45.0
FUZZY_LIMIT = 12


@dataclass(slots=True)
class Hit:
    score: float
    how: str
    grade: Grade | None = None


Hits = dict[int, Hit]


def add_hit(hits: Hits, ei: int, score: float, how: str, grade: Grade | None = None) -> None:
    old = hits.get(ei)
    if old is None or score > old.score:
        hits[ei] = Hit(score, how, grade)


def unique_grade(hits: list[LevelHit]) -> Grade | None:
    grades = {h.grade for h in hits}
    return grades.pop() if len(grades) == 1 else None


def level_conflict(
    index: NameIndex, ki: int, kwords: frozenset[str], qwords: frozenset[str], qgrade: Grade | None
) -> float:
    """How much a key's level words contradict the query's (0 when they agree)."""
    if qwords and kwords and not (qwords & kwords):
        return LEVEL_CONFLICT  # 一级 asked, 二级 named
    if kwords or not qwords:
        return 0.0
    for ei in index.key_entries[ki]:
        entry = index.entries[ei]
        if entry.kind not in ("title", "qualification") or entry.grade is None:
            continue
        if qgrade is not None and entry.grade != qgrade:
            return LEVEL_CONFLICT  # 中级 asked, a senior title named without its grade
        if qgrade is None:
            return UNEXPLAINED_LEVEL  # 一级 asked, a title that has no such level
    return 0.0


def cap_fragment(
    index: NameIndex, s: str, containers: list[int], texts: list[str], hits: Hits
) -> None:
    """No confident match from a fragment the user has not finished: when it begins the
    names of two entries (正高 → 正高级工程师, 正高级会计师 …), or sits inside names of
    different grades (会计 → 会计师, 助理会计师; 建造师 → 一级/二级建造师)."""
    starting: set[int] = set()
    inside: set[int] = set()
    grades: set[Grade | None] = set()
    for ki in containers:
        for ei in index.key_entries[ki]:
            if texts[ki].startswith(s):
                starting.add(ei)
            inside.add(ei)
            grades.add(index.entries[ei].grade)
        if len(starting) >= 2 or (len(inside) >= 2 and len(grades) >= 2):
            break
    else:
        return
    for hit in hits.values():
        hit.score = min(hit.score, FRAGMENT_CAP)


class Scorer:
    def __init__(
        self,
        index: NameIndex,
        levels: tuple[LevelWords, LevelWords, LevelWords],
        strip: Callable[[str], str],
    ) -> None:
        self.index = index
        self.strip = strip
        skill, title, every = levels
        self.skill = skill
        self.title = title
        self.every = every
        # Restricted pools for the residual passes, built once: (key ids, their texts, as a set).
        self._occupations = self._pool(index.occupation_keys)
        self._by_grade = {g: self._pool(keys) for g, keys in index.grade_keys.items()}
        self._level_only = frozenset(k for k in range(len(index.keys)) if self._only_levels(k))

    def _pool(self, keys: list[int]) -> tuple[list[int], list[str], set[int]]:
        return keys, [self.index.keys[k] for k in keys], set(keys)

    def score(self, s: str) -> Hits:
        """Graded hits for the cleaned, filler-stripped query `s` (not Latin: see latin.py)."""
        hits: Hits = {}
        if len(s) < 2:
            return hits
        raw: list[tuple[int, float, str]] = []
        raw += self._contained(s, None)
        raw += self._fuzzy(s, None)
        qwords = frozenset(h.word for h in self.every.scan(s))
        qgrade = unique_grade(self.title.scan(s))
        for ki, score, how in raw:
            score -= self._conflict(ki, qwords, qgrade)
            for ei in self.index.key_entries[ki]:
                add_hit(hits, ei, score, how)
        for py in to_pinyin_variants(s):
            for ki in self.index.pinyin_exact.get(py, ()):
                if self.index.keys[ki] != s:
                    for ei in self.index.key_entries[ki]:
                        add_hit(hits, ei, HOMOPHONE, "homophone")
        self._residuals(s, hits)
        self._fragment(s, hits)
        return hits

    def _conflict(self, ki: int, qwords: frozenset[str], qgrade: Grade | None) -> float:
        return level_conflict(self.index, ki, self.index.key_words[ki], qwords, qgrade)

    def _contained(self, s: str, keys: set[int] | None) -> list[tuple[int, float, str]]:
        found = [
            h
            for h in self.index.contained(s)
            if (keys is None or h[2] in keys) and h[2] not in self._level_only
        ]
        out: list[tuple[int, float, str]] = []
        for start, end, ki in found:
            if any(a <= start and end <= b and (a, b) != (start, end) for a, b, _ in found):
                continue  # inside a longer key that was found too: that one explains more
            # Head-final names: words after a name qualify it (一建 市政), words before it may
            # make it another certificate (主治中 医师, 注册电气 工程师).
            base = CONTAIN_BASE if start == 0 else CONTAIN_BASE_INNER
            score = base + CONTAIN_SPAN * (end - start) / len(s)
            if any(start < a < end < b for a, b, _ in found):
                score -= OVERLAP_PENALTY
            kwords = self.index.key_words[ki]
            around = {h.word for part in (s[:start], s[end:]) for h in self.every.scan(part)}
            if kwords and around - kwords:
                score -= LEVEL_CONFLICT  # 一级 还是 二级建造师
            out.append((ki, score, "contains"))
        return out

    def _only_levels(self, ki: int) -> bool:
        # A level word in a longer query (高级工 in 高级工程) is a modifier, not a certificate:
        # only an exact hit or the level parse in _residuals may name a bare level.
        return all(self.index.entries[ei].is_skill_level for ei in self.index.key_entries[ki])

    def _fuzzy(
        self, s: str, restrict: tuple[list[int], list[str], set[int]] | None
    ) -> list[tuple[int, float, str]]:
        keys, pool = (None, self.index.keys) if restrict is None else restrict[:2]
        found = process.extract(
            s, pool, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=FUZZY_LIMIT
        )
        out: list[tuple[int, float, str]] = []
        for key, score, pos in found:
            ki = pos if keys is None else keys[pos]
            if ki in self._level_only:
                continue
            bonus = PREFIX_BONUS if key.startswith(s) else 0.0
            out.append((ki, float(score) + bonus, "fuzzy"))
        return out

    def _residuals(self, s: str, hits: Hits) -> None:
        """Score what is left once the level words are taken out (电工 in 电工三级)."""
        skill_hits = self.skill.scan(s)
        if skill_hits:
            grade = unique_grade(skill_hits)
            residual = self.strip(self.skill.remove(s, skill_hits))
            if len(residual) >= 2:
                pool = self._occupations
                raw = self._contained(residual, pool[2]) + self._fuzzy(residual, pool)
                for ki, score, how in raw:
                    for ei in self.index.key_entries[ki]:
                        if self.index.entries[ei].is_occupation:
                            add_hit(hits, ei, score, how + "+level", grade)
            elif not residual and grade is not None:
                ambiguous = any(h.word in self.title.words for h in skill_hits)
                score = BARE_LEVEL_AMBIGUOUS if ambiguous else BARE_LEVEL
                for ei in self.index.level_entries.get(grade, ()):
                    add_hit(hits, ei, score, "level")
        title_hits = self.title.scan(s)
        tgrade = unique_grade(title_hits)
        if tgrade is not None:
            residual = self.title.remove(s, title_hits)
            graded = self._by_grade.get(tgrade)
            if len(residual) >= 2 and graded:
                raw = self._contained(residual, graded[2]) + self._fuzzy(residual, graded)
                for ki, score, how in raw:
                    for ei in self.index.key_entries[ki]:
                        if self.index.entries[ei].grade == tgrade:
                            add_hit(hits, ei, score, how + "+grade")

    def _fragment(self, s: str, hits: Hits) -> None:
        """Names that contain the query are offered (消防 → 消防员, 注册消防工程师 …).

        Chinese names are head-final compounds: the first part is the specific one (消防, 造价,
        会计), the last is the general head (测试 of 日语能力测试, 工程师), the middle is rarely
        typed alone. A fragment weighs most at the start of a name, least in its middle.
        """
        # The shortest containers score highest; past a few dozen they only cost time, and
        # that many already settle whether the fragment is ambiguous.
        containers = self.index.containing(s, MAX_CONTAINERS)
        for ki in containers[:MAX_FRAGMENTS]:
            key = self.index.keys[ki]
            base = (
                FRAGMENT_START
                if key.startswith(s)
                else FRAGMENT_END
                if key.endswith(s)
                else FRAGMENT_INNER
            )
            score = base + FRAGMENT_SPAN * len(s) / len(key)
            for ei in self.index.key_entries[ki]:
                add_hit(hits, ei, score, "fragment")
        cap_fragment(self.index, s, containers, self.index.keys, hits)
