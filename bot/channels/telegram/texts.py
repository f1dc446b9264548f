"""The Telegram channel's own sentences, from dialogs/telegram.yaml, checked at start-up."""

from __future__ import annotations

from pathlib import Path

from bot.channels.texts import ChannelTexts, load_channel_texts
from bot.dialog.texts import placeholders
from bot.errors import DialogDataError
from bot.paths import dialogs_dir

# Each key the code reads, with the placeholders it fills.
KEYS: dict[str, frozenset[str]] = {
    "busy": frozenset(),
    "chosen": frozenset({"label"}),
    "stale_button": frozenset(),
}


def load_telegram_texts(path: Path | None = None) -> ChannelTexts:
    """Fail loudly (DialogDataError naming file and key) on a missing key or a placeholder
    the code does not fill, so that a typo never surfaces in a user's chat."""
    texts = load_channel_texts(KEYS, path or dialogs_dir() / "telegram.yaml")
    for key, allowed in KEYS.items():
        unknown = placeholders(texts[key]) - allowed
        if unknown:
            raise DialogDataError(texts.file, key, f"unknown placeholder {{{sorted(unknown)[0]}}}")
    return texts


__all__ = ["KEYS", "load_telegram_texts"]
