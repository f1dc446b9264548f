"""Grade words (三级, 高级工, 技师, 中级 …) → grade codes, from rules/grades.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal, cast

from bot.errors import RuleDataError
from bot.rules.catalogue import name_key
from bot.rules.model import SKILL_GRADES, TITLE_GRADES, Grade
from bot.rules.yamlfile import Fields, read_yaml

GradeFamily = Literal["skill", "title"]


class Grades:
    """Finds grade words in text. The longest word wins, so 高级技师 is not read as 高级."""

    def __init__(
        self,
        skill: Mapping[str, Grade],
        title: Mapping[str, Grade],
        labels: Mapping[Grade, str],
    ) -> None:
        self._words: dict[GradeFamily, dict[str, Grade]] = {
            "skill": {name_key(w): g for w, g in skill.items()},
            "title": {name_key(w): g for w, g in title.items()},
        }
        self.labels: dict[Grade, str] = dict(labels)

    def label(self, grade: Grade) -> str:
        return self.labels[grade]

    def words(self, family: GradeFamily) -> Mapping[str, Grade]:
        return self._words[family]

    def find_all(self, text: str, family: GradeFamily = "skill") -> list[tuple[Grade, int, int]]:
        """Non-overlapping grade words in normalised `text`, longest first at each position."""
        words = self._words[family]
        key = name_key(text)
        longest = max((len(w) for w in words), default=0)
        found: list[tuple[Grade, int, int]] = []
        i = 0
        while i < len(key):
            for size in range(min(longest, len(key) - i), 0, -1):
                grade = words.get(key[i : i + size])
                if grade is not None:
                    found.append((grade, i, i + size))
                    i += size
                    break
            else:
                i += 1
        return found

    def parse(self, text: str, family: GradeFamily = "skill") -> Grade | None:
        """The one grade `text` names ("三级", "高级工（三级）", "level-3"); None if none or two."""
        stripped = text.strip()
        allowed = SKILL_GRADES if family == "skill" else TITLE_GRADES
        if stripped in allowed:
            return stripped
        grades = {g for g, _, _ in self.find_all(stripped, family)}
        return grades.pop() if len(grades) == 1 else None


def load_grades(path: Path) -> Grades:
    f = Fields(read_yaml(path), str(path), "")
    tables: dict[str, dict[str, Grade]] = {}
    for family, allowed in (("skill", SKILL_GRADES), ("title", TITLE_GRADES)):
        section = f.req_mapping(family)
        table: dict[str, Grade] = {}
        for grade, words in section.items():
            if grade not in allowed:
                raise RuleDataError(str(path), f"{family}.{grade}", "unknown grade")
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise RuleDataError(str(path), f"{family}.{grade}", "expected a list of words")
            for word in words:
                if name_key(word) in {name_key(w) for w in table}:
                    raise RuleDataError(str(path), f"{family}.{grade}", f"word {word!r} twice")
                table[word] = cast(Grade, grade)
        tables[family] = table
    labels_raw = f.req_mapping("labels")
    f.done()
    labels: dict[Grade, str] = {}
    for grade in (*TITLE_GRADES, *SKILL_GRADES):
        label = labels_raw.get(grade)
        if not isinstance(label, str):
            raise RuleDataError(str(path), f"labels.{grade}", "a label is required")
        labels[grade] = label
    extra = set(labels_raw) - set(labels)
    if extra:
        raise RuleDataError(str(path), f"labels.{sorted(extra)[0]}", "unknown grade")
    return Grades(tables["skill"], tables["title"], labels)
