"""Text normalisation shared by catalogue names and user queries.

Both sides go through the same `clean` so that a comparison never depends on width, script,
case, punctuation or spacing. Filler words around a name ("我有…证书，能加多少分") come from
`rules/normalise.yaml` and are stripped only at the ends; every intermediate form is kept
(`stages`) because some names themselves end in a filler (教师资格证, 驾驶证).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import opencc

from bot.paths import rules_dir
from bot.rules.pinyin import initials_variants, to_pinyin_variants
from bot.rules.yamlfile import Fields, read_yaml

__all__ = [
    "MAX_INPUT_CHARS",
    "NormaliseData",
    "Normaliser",
    "clean",
    "default_normaliser",
    "default_rules_dir",
    "initials_variants",
    "normalise",
    "to_pinyin_variants",
]

# Only the head of a pasted essay is looked at: the matcher must stay fast on any input.
MAX_INPUT_CHARS = 256
# A filler is never stripped if fewer characters than this would remain.
_MIN_REMAINING = 2
_KEPT_CATEGORIES = frozenset({"L", "N"})


@lru_cache(maxsize=1)
def _t2s() -> Any:
    return opencc.OpenCC("t2s")


def default_rules_dir() -> Path:
    return rules_dir()


@dataclass(frozen=True, slots=True)
class NormaliseData:
    """Fillers (longest first) and literal rewrites, as read from rules/normalise.yaml."""

    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    rewrites: tuple[tuple[str, str], ...] = ()

    @classmethod
    def load(cls, path: Path) -> NormaliseData:
        """Read strictly: a duplicate key, an unknown field or a wrong type names file and key."""
        f = Fields(read_yaml(path), str(path), "")
        prefixes = f.str_list("prefixes")
        suffixes = f.str_list("suffixes")
        rewrites = f.mapping("rewrites", required=False) or {}
        f.done()
        for old, new in rewrites.items():
            if not isinstance(old, str) or not isinstance(new, str):
                raise f.fail(f"rewrites.{old}", "expected text → text")
        # Fillers and rewrites are cleaned like queries, so the file may be written loosely.
        pairs = tuple((_clean(k, ()), _clean(v, ())) for k, v in rewrites.items())
        return cls(
            prefixes=_longest_first(list(prefixes), pairs),
            suffixes=_longest_first(list(suffixes), pairs),
            rewrites=pairs,
        )


def _longest_first(words: list[Any], rewrites: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    cleaned = {_clean(str(w), rewrites) for w in words}
    cleaned.discard("")
    return tuple(sorted(cleaned, key=lambda w: (-len(w), w)))


def _clean_once(text: str, rewrites: tuple[tuple[str, str], ...]) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _t2s().convert(text).lower()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] in _KEPT_CATEGORIES)
    for old, new in rewrites:
        if old in text:
            text = text.replace(old, new)
    return text


def _clean(text: str, rewrites: tuple[tuple[str, str], ...]) -> str:
    text = text[:MAX_INPUT_CHARS]
    # Dropping a character can let NFKC or OpenCC combine its neighbours, so repeat to a fixed
    # point; this makes clean (and normalise) idempotent.
    for _ in range(4):
        new = _clean_once(text, rewrites)[:MAX_INPUT_CHARS]
        if new == text:
            break
        text = new
    return text


class Normaliser:
    """Cleans text and strips fillers, with the data of one rules folder."""

    def __init__(self, data: NormaliseData) -> None:
        self.data = data
        # Fillers by their first (prefixes) or last (suffixes) character: a query is checked
        # only against the few that could match at each position.
        self._by_first: dict[str, list[str]] = {}
        self._by_last: dict[str, list[str]] = {}
        for word in data.prefixes:
            self._by_first.setdefault(word[0], []).append(word)
        for word in data.suffixes:
            self._by_last.setdefault(word[-1], []).append(word)
        self._fillers = frozenset(data.prefixes) | frozenset(data.suffixes)

    @classmethod
    def from_rules_dir(cls, rules_dir: Path) -> Normaliser:
        return cls(NormaliseData.load(rules_dir / "normalise.yaml"))

    def clean(self, text: str) -> str:
        return _clean(text, self.data.rewrites)

    def stages(self, cleaned: str) -> list[str]:
        """Every form left by stripping fillers at either end, longest first, shortest last.

        Starts and ends are explored separately and in every order, because layered fillers
        (教师资格证书 → 教师资格 → 教师) and compound ones (能加多少分) need different choices.
        """
        starts = self._reachable(cleaned, forward=True)
        ends = self._reachable(cleaned, forward=False)
        forms = {cleaned[a:b] for a in starts for b in ends if b - a >= _MIN_REMAINING}
        forms.add(cleaned)
        return sorted(forms, key=lambda f: (-len(f), cleaned.find(f), f))

    def _reachable(self, text: str, *, forward: bool) -> set[int]:
        """Offsets where the text may start (forward) or end once fillers are stripped."""
        start = 0 if forward else len(text)
        seen = {start}
        todo = [start]
        while todo:
            pos = todo.pop()
            if forward:
                words = self._by_first.get(text[pos], ()) if pos < len(text) else ()
                found = [pos + len(w) for w in words if text.startswith(w, pos)]
            else:
                words = self._by_last.get(text[pos - 1], ()) if pos > 0 else ()
                found = [pos - len(w) for w in words if text.endswith(w, 0, pos)]
            for nxt in found:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def is_filler(self, cleaned: str) -> bool:
        """True when the whole text is one filler word (证书, 积分): nothing to match."""
        return cleaned in self._fillers

    def strip(self, cleaned: str) -> str:
        return self.stages(cleaned)[-1]

    def normalise(self, text: str) -> str:
        return self.strip(self.clean(text))


@lru_cache(maxsize=1)
def default_normaliser() -> Normaliser:
    return Normaliser.from_rules_dir(default_rules_dir())


def clean(text: str) -> str:
    """NFKC, traditional → simplified, lowercase; keep only letters and digits."""
    return default_normaliser().clean(text)


def normalise(text: str) -> str:
    """`clean`, then strip filler words at both ends (请问…证书能加多少分)."""
    return default_normaliser().normalise(text)
