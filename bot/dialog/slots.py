"""Reading answers: yes/no/不清楚, choices by number or label, figures and month counts.

Pure functions over a `Lexicon`; each returns None when the text does not answer the question,
so the engine can count it as unclear and ask again.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.dialog.lexicon import Lexicon
from bot.dialog.replies import Choice
from bot.dialog.state import Answer
from bot.rules.catalogue import name_key

# Where a reply's first phrase ends: "是的，已经注册了" answers with "是的".
_PHRASE_END = re.compile(r"[\s,，。.!！;；、~～…]+")
_ARABIC = re.compile(r"\d+(?:\.\d+)?")
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3})")  # 12,434


@functools.lru_cache(maxsize=4096)
def key(text: str) -> str:
    """Normalised form for comparing words: width, case, spaces and punctuation folded.
    Cached: each message folds the same labels, lexicon words and its own text many times."""
    return name_key(text)


def first_phrase(text: str) -> str:
    parts = [p for p in _PHRASE_END.split(text.strip()) if p]
    return parts[0] if parts else ""


def parse_answer(text: str, lex: Lexicon) -> Answer | None:
    """是 / 否 / 不清楚 in their many spellings; None when the text is not such an answer."""
    for candidate in dict.fromkeys((key(text), key(first_phrase(text)))):
        for variant in _variants(candidate, lex):
            if variant in lex.answers:
                return lex.answers[variant]
        # "已经注册了", "不清楚怎么查": the longest word of two or more characters opening the
        # reply (its prefixes looked up, longest first: not every word tried against it).
        for end in range(len(candidate), 1, -1):
            found = lex.answers.get(candidate[:end])
            if found is not None:
                return found
    return None


def _variants(word: str, lex: Lexicon) -> list[str]:
    """The word, then without a hedge (应该是 → 是), then without trailing particles."""
    out = [word]
    hedges = lex.hedges_longest_first
    while True:  # "我也不知道" → "也不知道" → "不知道"
        last = out[-1]
        hedge = next((h for h in hedges if last.startswith(h) and len(last) > len(h)), None)
        if hedge is None:
            break
        out.append(last[len(hedge) :])
    for base in list(out):
        while len(base) > 1 and base[-1] in lex.particles:
            base = base[:-1]
            out.append(base)
    return out


def parse_choice(
    text: str, offered: Sequence[Choice], lex: Lexicon, partial: bool = True
) -> str | None:
    """The value of the offered choice the text names: by number, value, or label text.

    With `partial`, a unique label that contains the text (or, for labels of three characters
    or more, is contained in it) also counts; "不是" never picks "是" that way.
    """
    if not offered:
        return None
    number = parse_ordinal(text, lex)
    if number is not None:
        return offered[number - 1].value if 1 <= number <= len(offered) else None
    k = key(text)
    if not k:
        return None
    for choice in offered:
        parts = {key(choice.label), key(choice.value), *(key(p) for p in choice.label.split("/"))}
        if k in parts:
            return choice.value
    if not partial or len(k) < 2:
        return None
    hits = [
        c for c in offered if k in key(c.label) or (len(key(c.label)) >= 3 and key(c.label) in k)
    ]
    return hits[0].value if len(hits) == 1 else None


def parse_ordinal(text: str, lex: Lexicon) -> int | None:
    """'2', '２', '二', '第2个', '2.' → 2; anything else → None."""
    k = key(text)
    prefixes, suffixes = lex.ordinal_prefix_keys, lex.ordinal_suffix_keys
    if k.startswith(prefixes):  # one test first: most numbers come bare
        for prefix in prefixes:
            k = k.removeprefix(prefix)
    if k.endswith(suffixes):
        for suffix in suffixes:
            k = k.removesuffix(suffix)
    if k.isascii() and k.isdigit() and len(k) <= 2:
        return int(k)
    if len(k) == 1 and k in lex.digits:
        return lex.digits[k]
    return None


@dataclass(frozen=True, slots=True)
class Figure:
    value: float
    unit: Literal["money", "months"] | None  # what the words around it say it is


def parse_figure(text: str, lex: Lexicon) -> Figure | None:
    """The first number in the text, with its unit: '12434元', '1.2万', '一万二', '六个月'."""
    s = unicodedata.normalize("NFKC", text).casefold()
    s = _THOUSANDS.sub("", s).replace(" ", "")
    arabic = _ARABIC.search(s)
    cn_chars = lex.numeral_chars
    cn_start = next((i for i, ch in enumerate(s) if ch in lex.digits), None)
    if arabic is not None and (cn_start is None or arabic.start() <= cn_start):
        value, end = float(arabic.group()), arabic.end()
    elif cn_start is not None:
        end = cn_start
        while end < len(s) and s[end] in cn_chars:
            end += 1
        value = float(chinese_number(s[cn_start:end], lex))
    else:
        return None
    rest = s[end:]
    # A multiplier right after the number: 1.2万, 15k; "1万2" is 12000.
    for unit, factor in lex.money_units_longest_first:
        if factor > 1 and rest.startswith(unit):
            value *= factor
            tail = _ARABIC.match(rest[len(unit) :])
            if tail is not None:
                digits = tail.group()
                value += float(digits) * (factor / 10 if len(digits) == 1 else 1)
            return Figure(value, "money")
    if rest.startswith(lex.money_unit_words):
        return Figure(value, "money")
    if rest.startswith(lex.month_units):
        return Figure(value, "months")
    return Figure(value, None)


def chinese_number(text: str, lex: Lexicon) -> int:
    """一万二 → 12000, 十二 → 12, 一百零五 → 105, 两百五 → 250."""
    total = section = number = 0
    last_unit = 1
    zero = False
    for ch in text:
        if ch in lex.digits:
            number = lex.digits[ch]
            zero = zero or number == 0
        else:
            unit = lex.units[ch]
            if unit >= 10000:
                total += (section + number) * unit
                section = 0
            else:
                section += (number or (1 if unit == 10 else 0)) * unit
            number, last_unit, zero = 0, unit, False
    if number and last_unit > 10 and not zero and text[-2:-1] and text[-2] in lex.units:
        # Spoken shorthand: the digit after the last unit counts in the next unit down.
        number *= last_unit // 10
    return total + section + number


Insurance = (
    tuple[Literal["months"], int] | tuple[Literal["base"], float] | tuple[Literal["unknown"], None]
)


def parse_insurance(text: str, lex: Lexicon, window: int = 12) -> Insurance | None:
    """A month count (0..window) or a monthly contribution base; '不清楚' → unknown."""
    answer = parse_answer(text, lex)
    if answer == "unknown":
        return ("unknown", None)
    k = key(text)
    if k in lex.month_words:
        return ("months", min(lex.month_words[k], window))
    figure = parse_figure(text, lex)
    if figure is None:
        return None
    if figure.unit == "money" or (figure.unit is None and figure.value >= 100):
        return ("base", figure.value) if figure.value > 0 else None
    if figure.value.is_integer() and 0 <= figure.value <= window:
        return ("months", int(figure.value))
    return None


__all__ = [
    "Figure",
    "Insurance",
    "chinese_number",
    "first_phrase",
    "key",
    "parse_answer",
    "parse_choice",
    "parse_figure",
    "parse_insurance",
    "parse_ordinal",
]
