"""What the bot says: a text plus optional choices, rendered by each channel its own way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Choice:
    """One option offered with a reply. `value` is what the engine receives back when the
    channel sends a button press; typing the label or the option's number works too."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "choices": [[c.label, c.value] for c in self.choices]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        return cls(str(data["text"]), tuple(Choice(str(a), str(b)) for a, b in data["choices"]))


__all__ = ["Choice", "Reply"]
