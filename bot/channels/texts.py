"""The channels' own sentences, from dialogs/channels.yaml, checked when a channel mounts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

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
    data: Any = read_yaml(path, DialogDataError)
    table: dict[str, str] = {}
    _flatten(data, "", str(path), table)
    texts = ChannelTexts(table, str(path))
    texts.require(required)
    return texts


def _flatten(node: Any, prefix: str, file: str, out: dict[str, str]) -> None:
    if not isinstance(node, Mapping):
        raise DialogDataError(file, prefix, "expected a mapping of texts")
    for key, value in node.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            _flatten(value, full, file, out)
        elif isinstance(value, str) and value.strip():
            out[full] = value.strip()
        else:
            raise DialogDataError(file, full, f"expected a non-empty text, got {value!r}")


__all__ = ["ChannelTexts", "load_channel_texts"]
