"""Where the shipped data lives: inside the wheel, or beside the package in a checkout."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str, env: str) -> Path:
    override = os.environ.get(env)
    if override:
        return Path(override)
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    # Source checkout or editable install: rules/ and dialogs/ sit beside bot/.
    return _PACKAGE.parent / name


def rules_dir() -> Path:
    return _data_dir("rules", "JIFEN_RULES_DIR")


def dialogs_dir() -> Path:
    return _data_dir("dialogs", "JIFEN_DIALOGS_DIR")
