"""Free text → catalogue entry, with honest uncertainty: match, choose, or none.

Order of evidence, strongest first:
1. decisive: the query (or a form of it with fillers stripped) IS a name or alias; or it is one
   once a trailing level word is moved to the front (建造师一级); or once level words are taken
   out, what is left is exactly an occupation (电工三级) or a title of that grade (会计师中级);
   for Latin input, the exact pinyin or initials of a name (yijian, yjjzs); then the text
   without a bracketed part, or the part alone (一级建造师（市政）, 有高级职称（高级工程师）).
2. the same on look-alike variants of the query (rules/typos.yaml: 建照师 → 建造师), a little
   below exact;
3. graded scores (scoring.py), decided by the MARGIN between the two best entries.
A confident wrong answer costs an applicant a year, so anything short of a clear winner becomes
a short list (choose) or nothing (none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from bot.errors import RuleDataError
from bot.rules.latin import LatinMatcher
from bot.rules.levels import LevelWords, level_words_from
from bot.rules.model import Entry, Grade
from bot.rules.nameindex import NameIndex
from bot.rules.normalise import NormaliseData, Normaliser, default_rules_dir
from bot.rules.pinyin import name_pinyin
from bot.rules.scoring import Hit, Hits, Scorer, unique_grade
from bot.rules.yamlfile import read_yaml

__all__ = ["Candidate", "MatchResult", "Matcher", "Outcome"]

Outcome = Literal["match", "choose", "none"]

MAX_QUERY_CHARS = 40  # cleaned; longer text is a message, not a certificate name
MATCH_MIN = 85.0
MARGIN = 10.0
CHOOSE_MIN = 60.0
LIST_FLOOR = 50.0
LIST_SPAN = 35.0
MAX_CHOICES = 6
TYPO = 96.0
MAX_TYPO_VARIANTS = 6
MIN_LATIN_FILLER = 4
REMEMBERED = 4096  # results kept by each matcher


@dataclass(frozen=True, slots=True)
class Candidate:
    entry: Entry
    score: int  # 0–100


@dataclass(frozen=True, slots=True)
class MatchResult:
    outcome: Outcome
    entry: Entry | None = None
    grade: Grade | None = None
    needs: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    how: str = ""  # the evidence that decided, for eval reports and logs
    query: str = ""  # the text as given


NONE = MatchResult("none")
_BRACKETED = re.compile(r"[(（\[【〔<《]([^()（）\[\]【】〔〕<>《》]*)[)）\]】〕>》]")


def load_typos(path: Path, clean: Any) -> dict[str, tuple[str, ...]]:
    """One character as typed → the characters it may stand for; strict, like every rules file."""
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise RuleDataError(str(path), "", "expected a mapping of character → list of characters")
    table: dict[str, tuple[str, ...]] = {}
    for typed, meant in raw.items():
        key = clean(str(typed))
        if len(key) != 1 or not isinstance(meant, list) or not meant:
            raise RuleDataError(
                str(path), str(typed), "expected one character → a list of characters"
            )
        options = tuple(clean(str(m)) for m in meant)
        if any(len(c) != 1 for c in options):
            raise RuleDataError(str(path), str(typed), "each replacement must be one character")
        table[key] = options
    return table


def _pinyin_words(words: tuple[str, ...]) -> tuple[str, ...]:
    spelled = {name_pinyin(w) for w in words if not w.isascii()}
    return tuple(sorted((p for p in spelled if len(p) >= MIN_LATIN_FILLER), key=lambda p: -len(p)))


class Matcher:
    """Builds its index once from `ruleset.catalogue.entries`; `match` is then pure and fast."""

    def __init__(self, ruleset: Any, rules_dir: Path | None = None) -> None:
        folder = rules_dir or getattr(ruleset, "folder", None) or default_rules_dir()
        # A loaded Ruleset already holds the matcher's data; test fixtures may not.
        loaded = getattr(ruleset, "normaliser", None)
        self.norm = loaded if loaded is not None else Normaliser.from_rules_dir(Path(folder))
        # The same fillers in pinyin strip Latin queries (yijian zhengshu); short ones (a, de,
        # ma) are left out, they would eat the end of a name.
        self.latin_norm = Normaliser(
            NormaliseData(
                prefixes=_pinyin_words(self.norm.data.prefixes),
                suffixes=_pinyin_words(self.norm.data.suffixes),
            )
        )
        typos = getattr(ruleset, "typos", None)
        self.typos = (
            typos if typos is not None else load_typos(Path(folder) / "typos.yaml", self.norm.clean)
        )
        self.skill, self.title = level_words_from(ruleset.grades, self.norm.clean)
        self.every = LevelWords({**self.title.words, **self.skill.words})
        self.index = NameIndex.build(ruleset.catalogue.entries, self.norm.clean, self.every)
        levels = (self.skill, self.title, self.every)
        self.scorer = Scorer(self.index, levels, self.norm.strip)
        self.latin = LatinMatcher(self.index, self.skill, self.every)
        # The latest results by text: a result depends on the text and the data above alone,
        # and most users ask about the same few certificates (一建, 中级会计师).
        self._remembered = lru_cache(maxsize=REMEMBERED)(self._read)

    @cached_property
    def entries(self) -> tuple[Entry, ...]:
        return self.index.entries

    def match(self, text: str) -> MatchResult:
        """The best reading of `text`; never raises, and bounded work for any input."""
        return self._remembered(text)

    def _read(self, text: str) -> MatchResult:
        r = self._match(text)
        # `replace(r, query=text)`, field by field: replace looks up the fields on each call.
        return MatchResult(r.outcome, r.entry, r.grade, r.needs, r.candidates, r.how, text)

    def _match(self, text: str) -> MatchResult:
        cleaned = self.norm.clean(text)
        if not cleaned or len(cleaned) > MAX_QUERY_CHARS:
            return NONE
        if cleaned.isascii():
            return self._match_latin(cleaned)
        stages = self.norm.stages(cleaned)
        s = stages[-1]
        decisive = self._decisive(stages, s) or self._exact_hits(self._bracket_forms(text, cleaned))
        if decisive:
            return self._from_decisive(decisive, s)
        if self.norm.is_filler(s):
            return NONE
        hits = self.scorer.score(s)
        for variant in self._typo_variants(s):
            for ei, hit in self._decisive(self.norm.stages(variant), variant).items():
                if ei not in hits or hits[ei].score < TYPO:
                    hits[ei] = Hit(TYPO, "typo:" + hit.how, hit.grade)
        return self._decide(hits, s)

    def _match_latin(self, cleaned: str) -> MatchResult:
        stages = self.latin_norm.stages(cleaned)
        s = stages[-1]
        for form in stages:
            decisive = self._exact_hits([form]) or self.latin.decisive(form)
            if decisive:
                return self._from_decisive(decisive, s)
        return self._decide(self.latin.score(s), s)

    def _bracket_forms(self, text: str, cleaned: str) -> list[str]:
        """A bracketed part usually qualifies the name (一级建造师（市政）) or is the name itself
        (有高级职称（高级工程师）): both the text without it and the part alone are tried, after
        everything on the full text (注册土木工程师(岩土) is itself a name)."""
        raw = text[: 4 * MAX_QUERY_CHARS]
        parts = [_BRACKETED.sub("", raw), *(m.group(1) for m in _BRACKETED.finditer(raw))]
        forms: list[str] = []
        for part in parts:
            form = self.norm.clean(part)
            if len(form) >= 2 and form != cleaned:
                forms += [f for f in self.norm.stages(form) if f not in forms]
        return forms

    # -- decisive evidence ------------------------------------------------------------------

    def _exact(self, form: str) -> tuple[int, ...]:
        ki = self.index.exact.get(form)
        return () if ki is None else self.index.key_entries[ki]

    def _exact_hits(self, forms: list[str]) -> Hits:
        """Entries named exactly by the first form (longest first) that names any."""
        for form in forms:
            hits = {ei: Hit(100.0, "exact") for ei in self._exact(form)}
            if hits:
                return hits
        return {}

    def _decisive(self, stages: list[str], s: str) -> Hits:
        out = self._exact_hits(stages)
        if out:
            return out
        words = self.every.scan(s)
        if words and words[-1].end == len(s) and words[-1].start > 0:
            cut = words[-1].start
            for ei in self._exact(s[cut:] + s[:cut]):
                out[ei] = Hit(100.0, "reordered")
            if out:
                return out
        skill_hits = self.skill.scan(s)
        if skill_hits:
            residual = self.skill.remove(s, skill_hits)
            grade = unique_grade(skill_hits)
            for form in self.norm.stages(residual) if len(residual) >= 2 else ():
                for ei in self._exact(form):
                    if self.index.entries[ei].is_occupation:
                        out[ei] = Hit(100.0, "occupation+level", grade)
        title_hits = self.title.scan(s)
        tgrade = unique_grade(title_hits)
        if tgrade is not None:
            residual = self.title.remove(s, title_hits)
            for form in self.norm.stages(residual) if len(residual) >= 2 else ():
                for ei in self._exact(form):
                    entry = self.index.entries[ei]
                    if entry.kind in ("title", "qualification") and entry.grade == tgrade:
                        out[ei] = Hit(100.0, "title+grade")
        return out

    def _typo_variants(self, s: str) -> list[str]:
        spots = [(i, alt) for i, ch in enumerate(s) for alt in self.typos.get(ch, ())]
        variants: dict[str, None] = {}
        for i, alt in spots[:MAX_TYPO_VARIANTS]:
            variants.setdefault(s[:i] + alt + s[i + 1 :], None)
        if len(spots) > 1:
            chars = list(s)
            for i, alt in spots[:MAX_TYPO_VARIANTS]:
                chars[i] = alt
            variants.setdefault("".join(chars), None)
        return list(variants)[: MAX_TYPO_VARIANTS + 1]

    # -- decision ---------------------------------------------------------------------------

    def _skill_grade(self, s: str) -> Grade | None:
        return self.latin.grade(s) if s.isascii() else unique_grade(self.skill.scan(s))

    def _result(self, outcome: Outcome, ranked: list[tuple[int, Hit]], s: str) -> MatchResult:
        candidates = tuple(
            Candidate(self.index.entries[ei], max(0, min(100, round(hit.score))))
            for ei, hit in ranked
        )
        if outcome != "match":
            return MatchResult(
                outcome, candidates=candidates, how=ranked[0][1].how if ranked else ""
            )
        ei, hit = ranked[0]
        entry = self.index.entries[ei]
        if entry.is_occupation:
            grade = hit.grade or self._skill_grade(s)
            needs: tuple[str, ...] = () if grade else ("grade",)
        else:
            grade = entry.grade
            needs = ("occupation",) if entry.is_skill_level else ()
        return MatchResult("match", entry, grade, needs, candidates, hit.how)

    def _from_decisive(self, hits: Hits, s: str) -> MatchResult:
        ranked = sorted(hits.items(), key=lambda item: item[0])
        if len(ranked) == 1:
            return self._result("match", ranked, s)
        return self._result("choose", ranked[:MAX_CHOICES], s)

    def _decide(self, hits: Hits, s: str) -> MatchResult:
        if any(h.how.endswith("+level") and h.score >= CHOOSE_MIN for h in hits.values()):
            # The level word belongs to the occupation found next to it, so the bare level
            # entries it also names are not rivals.
            hits = {ei: h for ei, h in hits.items() if not self.index.entries[ei].is_skill_level}
        ranked = sorted(hits.items(), key=lambda item: (-item[1].score, item[0]))
        if not ranked or ranked[0][1].score < CHOOSE_MIN:
            return self._result("none", ranked[:3], s)
        best = ranked[0][1].score
        second = ranked[1][1].score if len(ranked) > 1 else 0.0
        if best >= MATCH_MIN and best - second >= MARGIN:
            return self._result("match", ranked[:MAX_CHOICES], s)
        floor = max(LIST_FLOOR, best - LIST_SPAN)
        shortlist = [item for item in ranked if item[1].score >= floor][:MAX_CHOICES]
        if len(shortlist) < 2:
            return self._result("none", shortlist, s)
        return self._result("choose", shortlist, s)
