"""Choices as an inline keyboard, and a pressed button back to the text the dialog expects.

Telegram limits callback_data to 64 bytes. A choice's value usually fits and travels as
"v:<value>"; a longer one travels as "i:<n>" and is read back from the pressed message's own
keyboard as the button's label, which the dialog accepts as well as the value. Neither needs
any state on our side, so a press handled by another worker reads the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import InlineKeyboardButtonLimit

from bot.dialog.replies import Choice

MAX_DATA = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64 bytes
_VALUE = "v:"
_INDEX = "i:"


def keyboard(choices: Sequence[Choice]) -> InlineKeyboardMarkup | None:
    """One button per row: labels are Chinese phrases that would be cut off side by side."""
    if not choices:
        return None
    rows = [
        [InlineKeyboardButton(choice.label, callback_data=callback_data(n, choice))]
        for n, choice in enumerate(choices)
    ]
    return InlineKeyboardMarkup(rows)


def callback_data(index: int, choice: Choice) -> str:
    data = _VALUE + choice.value
    if len(data.encode("utf-8")) <= MAX_DATA:
        return data
    return f"{_INDEX}{index}"


def pressed_text(data: str | None, message: Message | None) -> str | None:
    """What the user "typed" by pressing the button; None when the data cannot be read."""
    if data is None:
        return None
    if data.startswith(_VALUE) and len(data) > len(_VALUE):
        return data[len(_VALUE) :]
    if data.startswith(_INDEX) and message is not None and message.reply_markup is not None:
        try:
            index = int(data[len(_INDEX) :])
        except ValueError:
            return None
        buttons = [b for row in message.reply_markup.inline_keyboard for b in row]
        if 0 <= index < len(buttons):
            return buttons[index].text
    return None


def pressed_label(data: str | None, message: Message | None) -> str | None:
    """The label of the button that carried `data`, to show which answer was given."""
    if data is None or message is None or message.reply_markup is None:
        return None
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


__all__ = ["MAX_DATA", "callback_data", "keyboard", "pressed_label", "pressed_text"]
