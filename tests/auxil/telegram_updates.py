"""Real Update JSON as Telegram sends it (messages, commands, stickers, photos, voice,
button presses), for tests that deliver updates to the bot by webhook or getUpdates; and an
update put back in the inbox, as a worker that died before finishing it leaves it."""

from __future__ import annotations

import itertools
import json
import sqlite3
import time
from pathlib import Path
from typing import Any


class UpdateFactory:
    """Real Update JSON as Telegram sends it, with increasing update_ids."""

    def __init__(self, first_id: int = 500_000) -> None:
        self._ids = itertools.count(first_id)
        self._message_ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)

    def _message(self, chat_id: int, chat_type: str, **content: Any) -> dict[str, Any]:
        user = {
            "id": chat_id if chat_type == "private" else 42,
            "is_bot": False,
            "first_name": "小王",
        }
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = "小王"
        else:
            chat["title"] = "积分交流群"
        body = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat}
        body["from"] = user
        body.update(content)
        return {"update_id": self.next_id(), "message": body}

    def text(self, chat_id: int, text: str, chat_type: str = "private") -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._message(chat_id, chat_type, **content)

    def sticker(self, chat_id: int, chat_type: str = "private") -> dict[str, Any]:
        sticker = {
            "file_id": "CAACAgIAAxkBAAIB",
            "file_unique_id": "AgADcQADr8ZRGg",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self._message(chat_id, chat_type, sticker=sticker)

    def photo(self, chat_id: int, chat_type: str = "private") -> dict[str, Any]:
        size = {
            "file_id": "AgACAgUAAxkBAAIC",
            "file_unique_id": "AQADkK4xG",
            "width": 90,
            "height": 67,
        }
        return self._message(chat_id, chat_type, photo=[size], caption="我的证书")

    def voice(self, chat_id: int) -> dict[str, Any]:
        voice = {"file_id": "AwACAgUAAxkBAAID", "file_unique_id": "AgADvQ", "duration": 3}
        return self._message(chat_id, "private", voice=voice)

    def press(self, message: dict[str, Any], data: str) -> dict[str, Any]:
        """A button press on `message` (as the double holds it) carrying `data`."""
        chat_id = message["chat"]["id"]
        query = {
            "id": str(self.next_id()),
            "from": {"id": chat_id, "is_bot": False, "first_name": "小王"},
            "message": message,
            "chat_instance": "-8413229873649112",
            "data": data,
        }
        return {"update_id": self.next_id(), "callback_query": query}


def put_back_in_inbox(db: Path, update: dict[str, Any]) -> None:
    """`update` in the inbox of the SQLite store `db`, due now: what a worker that died before
    finishing it leaves once its lease has run out, written as another process would."""
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO inbox(channel, item, body, due) VALUES ('telegram', ?, ?, 0)",
            (str(update["update_id"]), json.dumps(update)),
        )
