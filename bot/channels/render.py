"""Plain-text rendering of replies, for channels without buttons (WeChat, the terminal).

Choices become numbered lines; the dialog accepts the number, the label or the text, so a
user can answer "2" as well as the option's words.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.dialog.replies import Reply


def render_reply(reply: Reply) -> str:
    lines = [reply.text.rstrip()] if reply.text.strip() else []
    lines.extend(f"{n}. {choice.label}" for n, choice in enumerate(reply.choices, start=1))
    return "\n".join(lines)


def render_replies(replies: Iterable[Reply]) -> str:
    """Several replies of one turn as one message, separated by a blank line."""
    return "\n\n".join(text for text in map(render_reply, replies) if text)


__all__ = ["render_replies", "render_reply"]
