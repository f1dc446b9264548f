"""Cutting a long answer into parts that fit WeChat's 2048-byte text limit.

Cuts fall, in order of preference, at a blank line, a line end, the end of a sentence, a
comma, and only when nothing else is left inside a character. Parts are measured in UTF-8
bytes because that is what WeChat counts (a Chinese character is 3 bytes).
"""

from __future__ import annotations

LIMIT = 2048

# Boundaries in order of preference; each cut keeps the boundary with the text before it.
_BOUNDARIES: tuple[tuple[str, ...], ...] = (
    ("\n\n",),
    ("\n",),
    ("。", "！", "？", "!", "?", "；", ";", "…"),
    ("，", "、", ",", " "),
)


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Parts of at most `limit` UTF-8 bytes, in order, none empty, blanks trimmed at cuts."""
    if limit < 8:
        raise ValueError("limit too small for a UTF-8 character")
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if _size(rest) <= limit:
            parts.append(rest)
            break
        head = _cut(rest, limit)
        parts.append(head.rstrip())
        rest = rest[len(head) :].lstrip()
    return [p for p in parts if p]


def _cut(text: str, limit: int) -> str:
    """The longest good prefix of `text` that fits in `limit` bytes."""
    window = _fit(text, limit)
    # Don't cut so early that the part is tiny: a boundary in the last 3/4 only.
    floor = len(window) // 4
    for marks in _BOUNDARIES:
        best = max((window.rfind(m) + len(m) for m in marks if window.rfind(m) >= 0), default=-1)
        if best > floor:
            return window[:best]
    return window


def _fit(text: str, limit: int) -> str:
    """The longest prefix of whole characters within `limit` bytes."""
    raw = text.encode("utf-8")[:limit]
    return raw.decode("utf-8", errors="ignore")


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


__all__ = ["LIMIT", "split_text"]
