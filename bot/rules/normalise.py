"""Text normalisation shared by catalogue names and user queries.

Both sides go through the same `clean` so that a comparison never depends on width, script,
case, punctuation or spacing. Filler words around a name ("我有…证书，能加多少分") come from
`rules/normalise.yaml` and are stripped only at the ends; every intermediate form is kept
(`stages`) because some names themselves end in a filler (教师资格证, 驾驶证).
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import opencc
import yaml

from bot.rules.pinyin import initials_variants, to_pinyin_variants

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
    """The rules folder: $JIFEN_RULES_DIR, the copy inside the wheel, or the source checkout."""
    env = os.environ.get("JIFEN_RULES_DIR")
    if env:
        return Path(env)
    try:
        from bot import paths  # the lead's locator, once it exists

        found = getattr(paths, "rules_dir", None)
        if callable(found):
            return Path(found())
    except ImportError:
        pass
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_data" / "rules"
    return packaged if packaged.is_dir() else here.parent / "rules"


@dataclass(frozen=True, slots=True)
class NormaliseData:
    """Fillers (longest first) and literal rewrites, as read from rules/normalise.yaml."""

    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    rewrites: tuple[tuple[str, str], ...] = ()

    @classmethod
    def load(cls, path: Path) -> NormaliseData:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a mapping")
        rewrites = raw.get("rewrites") or {}
        # Fillers and rewrites are cleaned like queries, so the file may be written loosely.
        pairs = tuple((_clean(str(k), ()), _clean(str(v), ())) for k, v in rewrites.items())
        return cls(
            prefixes=_longest_first(raw.get("prefixes") or [], pairs),
            suffixes=_longest_first(raw.get("suffixes") or [], pairs),
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

    @classmethod
    def from_rules_dir(cls, rules_dir: Path) -> Normaliser:
        path = rules_dir / "normalise.yaml"
        return cls(NormaliseData.load(path) if path.is_file() else NormaliseData())

    def clean(self, text: str) -> str:
        return _clean(text, self.data.rewrites)

    def stages(self, cleaned: str) -> list[str]:
        """`cleaned`, then each form left after stripping one more filler at either end."""
        out = [cleaned]
        current = cleaned
        while True:
            nxt = self._strip_one(current)
            if nxt is None:
                return out
            out.append(nxt)
            current = nxt

    def _strip_one(self, text: str) -> str | None:
        for word in self.data.suffixes:
            if text.endswith(word) and len(text) - len(word) >= _MIN_REMAINING:
                return text[: -len(word)]
        for word in self.data.prefixes:
            if text.startswith(word) and len(text) - len(word) >= _MIN_REMAINING:
                return text[len(word) :]
        return None

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
