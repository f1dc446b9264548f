"""Input the engine should not try to read: empty, emoji or stickers only, far too long."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Problem = Literal["empty", "emoji", "sticker", "media", "too_long"]

# WeChat and Telegram clients turn stickers into "[表情]", "[动画表情]", "[Sticker]", "[微笑]".
_STICKERS = re.compile(r"^(?:\s*\[[^\[\]\n]{1,12}\]\s*)+$")
# Emoji are symbols (So), modifiers (Sk), joiners and selectors (Cf, Mn).
_EMOJI_CATEGORIES = frozenset({"So", "Sk", "Cf", "Mn", "Me", "Cs", "Co"})


def problem(text: str, limit: int) -> Problem | None:
    stripped = text.strip()
    if len(stripped) > limit:
        return "too_long"
    if stripped.isalnum():
        return None  # the usual message; every letter or digit is of a category read below
    if not stripped:
        return "empty"
    if _STICKERS.match(stripped):
        return "sticker"
    chars = [ch for ch in stripped if not ch.isspace()]
    if all(unicodedata.category(ch)[0] not in "LN" for ch in chars):
        # Nothing to read: pictures of faces, or punctuation alone ("。。。").
        if any(unicodedata.category(ch) in _EMOJI_CATEGORIES for ch in chars):
            return "emoji"
        return "empty"
    return None


__all__ = ["Problem", "problem"]
