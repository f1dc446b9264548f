"""The exception tree. Channels map these to polite answers; nothing reaches a user raw."""

from __future__ import annotations


class BotError(Exception):
    """Base of every error jifen-bot raises on purpose."""


class DataError(BotError):
    """A YAML file under rules/ or dialogs/ is invalid. Names the file and the key."""

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file = file
        self.key = key
        self.message = message
        super().__init__(f"{file}: {key}: {message}" if key else f"{file}: {message}")


class RuleDataError(DataError):
    """Invalid data under rules/."""


class DialogDataError(DataError):
    """Invalid data under dialogs/."""


class ConfigError(BotError):
    """A setting from the environment is missing or malformed."""


class InputError(BotError):
    """A caller's input (JSON line, API body) cannot be read."""
