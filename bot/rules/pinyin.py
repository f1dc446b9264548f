"""Pinyin forms of names and queries, for homophones and for users who type Latin letters.

Names get their dictionary reading (pypinyin's phrase table knows 会计 is kuai ji). Queries get
every reading of every character (a typo like 会记师 loses the phrase context, so 会 would read
hui), with the product capped so that a long query cannot explode. Per-character readings are
read straight from pypinyin's table and cached: `pypinyin.pinyin(heteronym=True)` costs about
0.2 ms per sentence, too slow for the hot path.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from itertools import product

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PINYIN_DICT

__all__ = [
    "initials_variants",
    "name_initials",
    "name_pinyin",
    "name_syllables",
    "readings",
    "to_pinyin_variants",
]

DEFAULT_CAP = 16


def _toneless(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable).replace("u\u0308", "v")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=16384)
def readings(char: str) -> tuple[str, ...]:
    """Toneless readings of one character, most common first; () when it has none."""
    raw = PINYIN_DICT.get(ord(char))
    if not raw:
        return ()
    seen: dict[str, None] = {}
    for syllable in str(raw).split(","):
        seen.setdefault(_toneless(syllable), None)
    return tuple(seen)


def _choices(text: str) -> list[tuple[str, ...]]:
    return [readings(ch) or (ch,) for ch in text]


def _expand(choices: list[tuple[str, ...]], cap: int) -> list[tuple[str, ...]]:
    # Positions keep all their readings while the product stays within the cap; later
    # positions fall back to their most common reading.
    limited: list[tuple[str, ...]] = []
    total = 1
    for options in choices:
        if total * len(options) <= cap:
            limited.append(options)
            total *= len(options)
        else:
            limited.append(options[:1])
    return [tuple(p) for p in product(*limited)]


def to_pinyin_variants(text: str, cap: int = DEFAULT_CAP) -> list[str]:
    """Full pinyin strings of `text` over the heteronyms of its characters (at most `cap`)."""
    return ["".join(parts) for parts in _expand(_choices(text), max(1, cap))]


def initials_variants(text: str, cap: int = DEFAULT_CAP) -> list[str]:
    """First letters of each syllable (yjjzs), over heteronyms; Latin characters kept."""
    out: dict[str, None] = {}
    for parts in _expand(_choices(text), max(1, cap)):
        out.setdefault("".join(p[0] for p in parts), None)
    return list(out)


def name_syllables(name: str) -> list[str]:
    """The dictionary reading of a catalogue name; a Latin or digit run stays one item."""
    return [p.lower() for p in lazy_pinyin(name, style=Style.NORMAL)]


def name_pinyin(name: str) -> str:
    return "".join(name_syllables(name))


def name_initials(name: str, syllables: list[str] | None = None) -> str:
    """Initials of a name's dictionary reading; empty unless the name is all Chinese."""
    if not all(readings(ch) for ch in name):
        return ""
    return "".join(p[0] for p in (syllables or name_syllables(name)) if p)
