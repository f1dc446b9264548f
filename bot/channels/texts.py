"""The channels' own sentences, from dialogs/channels.yaml, checked when a channel mounts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.dialog.texts import read_text_table
from bot.errors import DialogDataError
from bot.paths import dialogs_dir
from bot.rules.yamlfile import read_yaml


class ChannelTexts:
    """Lookup by dotted key ("wechat.media"); the keys a channel needs are checked up front."""

    def __init__(self, table: Mapping[str, str], file: str) -> None:
        self._table = dict(table)
        self.file = file

    def __getitem__(self, key: str) -> str:
        try:
            return self._table[key]
        except KeyError:
            raise DialogDataError(self.file, key, "missing text") from None

    def require(self, keys: Iterable[str]) -> None:
        for key in keys:
            self[key]


def load_channel_texts(required: Iterable[str] = (), path: Path | None = None) -> ChannelTexts:
    path = path or dialogs_dir() / "channels.yaml"
    texts = ChannelTexts(read_text_table(read_yaml(path, DialogDataError), str(path)), str(path))
    texts.require(required)
    return texts


__all__ = ["ChannelTexts", "load_channel_texts"]
