"""The words answers are read with (dialogs/lexicon.yaml): yes/no/unknown, numerals, units."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.dialog.state import Answer
from bot.errors import DialogDataError
from bot.paths import dialogs_dir
from bot.rules.catalogue import name_key
from bot.rules.yamlfile import Fields, read_yaml


@dataclass(frozen=True, slots=True)
class Lexicon:
    answers: Mapping[str, Answer]  # normalised word -> answer
    hedges: tuple[str, ...]
    particles: tuple[str, ...]
    digits: Mapping[str, int]
    units: Mapping[str, int]
    money_units: Mapping[str, int]
    month_units: tuple[str, ...]
    month_words: Mapping[str, int]
    ordinal_prefix: tuple[str, ...]
    ordinal_suffix: tuple[str, ...]
    greetings: frozenset[str]
    thanks: frozenset[str]
    exit_words: frozenset[str]
    # Derived from the above once, for the readers that use them on every message.
    hedges_longest_first: tuple[str, ...] = field(init=False, repr=False, compare=False)
    ordinal_prefix_keys: tuple[str, ...] = field(init=False, repr=False, compare=False)
    ordinal_suffix_keys: tuple[str, ...] = field(init=False, repr=False, compare=False)
    numeral_chars: frozenset[str] = field(init=False, repr=False, compare=False)  # 一 … 万
    money_units_longest_first: tuple[tuple[str, int], ...] = field(
        init=False, repr=False, compare=False
    )
    money_unit_words: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_length = sorted(self.money_units.items(), key=lambda kv: -len(kv[0]))
        derived = {
            "hedges_longest_first": tuple(sorted(self.hedges, key=len, reverse=True)),
            "ordinal_prefix_keys": _keys(self.ordinal_prefix),
            "ordinal_suffix_keys": _keys(self.ordinal_suffix),
            "numeral_chars": frozenset(self.digits) | frozenset(self.units),
            "money_units_longest_first": tuple(by_length),
            "money_unit_words": tuple(self.money_units),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)


def load_lexicon(path: Path | None = None) -> Lexicon:
    path = path or dialogs_dir() / "lexicon.yaml"
    file = str(path)
    f = Fields(read_yaml(path, DialogDataError), file, "", DialogDataError)
    answers: dict[str, Answer] = {}
    section = f.mapping("answers")
    assert section is not None
    a = Fields(section, file, "answers", DialogDataError)
    answer: Answer
    for answer in ("yes", "no", "unknown"):
        for word in a.str_list(answer, required=True):
            key = name_key(word)
            if key in answers:
                raise a.fail(answer, f"{word!r} is listed twice")
            answers[key] = answer
    a.done()
    numerals = Fields(f.mapping("numerals"), file, "numerals", DialogDataError)
    lexicon = Lexicon(
        answers=answers,
        hedges=_keys(f.str_list("hedges")),
        particles=_keys(f.str_list("particles")),
        digits=_ints(numerals, "digits"),
        units=_ints(numerals, "units"),
        money_units=_ints(f, "money_units"),
        month_units=f.str_list("month_units", required=True),
        month_words={name_key(k): v for k, v in _ints(f, "month_words").items()},
        ordinal_prefix=f.str_list("ordinal_prefix"),
        ordinal_suffix=f.str_list("ordinal_suffix"),
        greetings=frozenset(_keys(f.str_list("greetings", required=True))),
        thanks=frozenset(_keys(f.str_list("thanks", required=True))),
        exit_words=frozenset(_keys(f.str_list("exit", required=True))),
    )
    numerals.done()
    f.done()
    return lexicon


def _keys(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name_key(w) for w in words)


def _ints(f: Fields, key: str) -> dict[str, int]:
    raw: Mapping[Any, Any] | None = f.mapping(key)
    assert raw is not None
    out: dict[str, int] = {}
    for word, value in raw.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise f.fail(f"{key}.{word}", f"expected a whole number, got {value!r}")
        out[str(word)] = value
    return out


__all__ = ["Lexicon", "load_lexicon"]
