"""Telegram updates into the conversation, and its replies back out.

Only private chats are answered. Text goes to the service as typed; a pressed button acts as
if its choice had been typed; the bot's commands map to the conversation's own words. Groups
get nothing (the bot may be added to one and must not chatter there); stickers, photos and
voice in a private chat go to the dialog as such, which answers politely and asks again.
Nothing here ever shows a user an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram.inbox import once_key
from bot.channels.telegram.keyboard import pressed_label, pressed_text
from bot.channels.telegram.sender import MAX_TEXT, ChatUnreachable, Sender, chat_tag, utf16_len
from bot.channels.texts import ChannelTexts
from bot.dialog.messages import IncomingKind
from bot.dialog.replies import Reply
from bot.store.base import Store, StoreError

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# Bot commands the conversation understands (dialogs/flow.yaml `commands` lists the slash forms
# beside the Chinese words). /start greets like a first message.
COMMANDS = {"start": "/start", "restart": "/restart", "human": "/human", "help": "/help"}
# Buttons stay usable this long; older presses are answered as stale.
BUTTON_TTL = 30 * 24 * 3600.0

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


class Conversation(Protocol):
    """What the channel needs from bot.service.Service."""

    async def handle(
        self, channel: str, user: str, text: str, kind: IncomingKind = "text", *, once: str | None
    ) -> list[Reply]: ...

    async def replies_of(self, channel: str, user: str, once: str) -> list[Reply] | None: ...


class Handlers:
    def __init__(
        self, service: Conversation, store: Store, sender: Sender, texts: ChannelTexts
    ) -> None:
        self.service = service
        self.store = store
        self.sender = sender
        self.texts = texts

    def install(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        # Edited messages and channel posts are left out on purpose: re-answering an edit
        # would advance the conversation a second time.
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        for command, words in COMMANDS.items():
            app.add_handler(CommandHandler(command, self._typed(words), filters=private))
        app.add_handler(MessageHandler(private & filters.TEXT, self.on_text))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, self.on_media))
        app.add_error_handler(self.on_error)

    def _typed(self, words: str) -> Callback:
        async def on_command(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
            if update.effective_chat is not None:
                await self.converse(update.effective_chat.id, words, once=once_key(update))

        return on_command

    async def on_text(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is not None and message.text is not None:
            await self.converse(message.chat.id, message.text, once=once_key(update))

    async def on_media(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice, files, locations: the dialog answers politely and asks its
        question again; the text is what the transcript shows staff."""
        message = update.message
        if message is None:
            return
        if message.sticker is not None:
            await self.converse(message.chat.id, "[Sticker]", "sticker", once=once_key(update))
            return
        attachment = message.effective_attachment
        what = type(attachment).__name__.lower() if attachment else "message"
        if isinstance(attachment, tuple):  # a photo comes as its sizes
            what = "photo"
        shown = f"[{what}] {message.caption}" if message.caption else f"[{what}]"
        await self.converse(message.chat.id, shown, "media", once=once_key(update))

    async def on_button(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        # An old message can come back as InaccessibleMessage (no text, no keyboard).
        message = query.message if isinstance(query.message, Message) else None
        if message is None or message.chat.type != ChatType.PRIVATE:
            await self._answer(query)
            return
        chat_id = message.chat.id
        text = pressed_text(query.data, message)
        if text is None or not await self._first_press(chat_id, message.message_id):
            # This very press may have been run already by a worker that died before it
            # answered (inbox.py processes the update again): then it is not stale, and the
            # user gets the answer that turn had.
            again = await self.service.replies_of(CHANNEL, str(chat_id), once_key(update))
            if again is not None:
                await self._answer(query)
                await self.deliver(chat_id, again)
                return
            await self._answer(query, self.texts["stale_button"])
            await self._close_keyboard(message, None)
            return
        await self._answer(query)  # stops the button's spinner while we think
        await self._close_keyboard(message, pressed_label(query.data, message) or text)
        await self.converse(chat_id, text, once=once_key(update))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram update %s failed", update_id, exc_info=context.error)

    async def converse(
        self, chat_id: int, text: str, kind: IncomingKind = "text", *, once: str | None = None
    ) -> None:
        """One user message through the conversation; the replies sent in order. `once`: the
        update's id, under which the turn is recorded, so that an update processed again
        (inbox.py) gets the same replies instead of moving the conversation twice."""
        try:
            replies = await self.service.handle(CHANNEL, str(chat_id), text, kind, once=once)
        except Exception:
            # The service saves state before answering, so whatever failed, the user can
            # simply send the message again.
            log.exception("telegram chat %s: the conversation failed", chat_tag(chat_id))
            await self._say(chat_id, self.texts["busy"])
            return
        await self.deliver(chat_id, replies)

    async def deliver(self, chat_id: int, replies: Sequence[Reply]) -> None:
        """Send a turn's replies; their last keyboard becomes the one that may be pressed."""
        keyboard_message = await self.sender.send_replies(chat_id, replies)
        await self._remember_keyboard(chat_id, keyboard_message)

    # Buttons: only the keyboard of the bot's latest turn may be pressed, and only once.
    # An older keyboard belongs to a question already answered (the user typed instead);
    # feeding its value to the current question could answer the wrong thing.

    def _keyboard_key(self, chat_id: int) -> str:
        return f"{CHANNEL}:keyboard:{chat_id}"

    async def _remember_keyboard(self, chat_id: int, message: Message | None) -> None:
        try:
            if message is None:
                await self.store.kv_delete(self._keyboard_key(chat_id))
            else:
                await self.store.kv_set(
                    self._keyboard_key(chat_id), str(message.message_id), BUTTON_TTL
                )
        except StoreError:
            # Without the record a press is answered as stale: safe, the user can type.
            log.exception("telegram chat %s: could not record the keyboard", chat_tag(chat_id))

    async def _first_press(self, chat_id: int, message_id: int) -> bool:
        try:
            latest = await self.store.kv_get(self._keyboard_key(chat_id))
            if latest != str(message_id):
                return False
            # Two quick taps arrive as two updates; only the first one answers.
            return await self.store.claim_once(
                f"{CHANNEL}-press", f"{chat_id}:{message_id}", BUTTON_TTL
            )
        except StoreError:
            log.exception("telegram chat %s: could not check a button press", chat_tag(chat_id))
            return False

    async def _close_keyboard(self, message: Message, label: str | None) -> None:
        """Remove the buttons; with `label`, show the chosen answer under the question."""
        chat_id, message_id, bot = message.chat.id, message.message_id, self.sender.bot
        marked = f"{message.text or ''}\n\n{self.texts['chosen'].format(label=label)}"

        async def edit() -> object:
            if label is not None and message.text and utf16_len(marked) <= MAX_TEXT:
                return await bot.edit_message_text(marked, chat_id=chat_id, message_id=message_id)
            # Text untouched: a stale press may come from a snapshot older than the question
            # as it reads now (a double tap after the first one marked the answer).
            return await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)

        try:
            await self.sender.call(edit, f"closing the keyboard of {chat_tag(chat_id)}")
        except ChatUnreachable:
            log.info("telegram chat %s unreachable", chat_tag(chat_id))

    async def _answer(self, query: CallbackQuery, text: str | None = None) -> None:
        bot = self.sender.bot
        try:
            await self.sender.call(
                lambda: bot.answer_callback_query(query.id, text),
                f"answerCallbackQuery {query.id}",
            )
        except ChatUnreachable:
            log.info("telegram callback query %s: chat unreachable", query.id)

    async def _say(self, chat_id: int, text: str) -> None:
        try:
            await self.sender.send_text(chat_id, text)
        except ChatUnreachable:
            log.info("telegram chat %s unreachable", chat_tag(chat_id))


__all__ = ["CHANNEL", "COMMANDS", "Conversation", "Handlers"]
