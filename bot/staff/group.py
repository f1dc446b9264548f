"""The optional Telegram staff group (JIFEN_TELEGRAM_STAFF_CHAT).

Each new ticket is announced there with its summary. A colleague who answers an announcement
with Telegram's "reply" has the text relayed to the user exactly like a reply from the console
(claiming the ticket for "tg:@username"). The bot must be a member of the group; with privacy
mode on, Telegram still delivers replies to the bot's own messages, which is all this needs.

The Telegram channel owns the webhook, so it installs `group_handler` into its Application;
the handler finds this mount's StaffGroup through the store both were built on.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from typing import Any

from bot.store.base import Store
from bot.store.tickets import Ticket, TicketClosed, TicketConflict, TicketError, TicketStore

from .actions import StaffActions, problem_code
from .config import SECRET, staff_chat
from .summary import announcement
from .texts import StaffTexts

log = logging.getLogger(__name__)

ANNOUNCEMENT_TTL = 30 * 24 * 3600.0  # a reply to an older announcement is ignored
# Updates handled in the group are remembered this long: an update left unfinished is run
# again within minutes, and the inbox drops what is older than a day.
HANDLED_TTL = 2 * 24 * 3600.0
_GROUPS: weakref.WeakKeyDictionary[Store, StaffGroup] = weakref.WeakKeyDictionary()


class StaffGroup:
    def __init__(
        self,
        bot: Any,
        chat_id: int,
        store: Store,
        tickets: TicketStore,
        actions: StaffActions,
        texts: StaffTexts,
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.store = store
        self.tickets = tickets
        self.actions = actions
        self.texts = texts
        _GROUPS[store] = self

    def _key(self, message_id: int) -> str:
        return f"staff:group:{self.chat_id}:{message_id}"

    async def announce(self, ticket: Ticket) -> None:
        message = await self.bot.send_message(self.chat_id, announcement(ticket, self.texts))
        await self.store.kv_set(self._key(message.message_id), ticket.id, ANNOUNCEMENT_TTL)

    async def on_reply(self, message: Any, once: str | None = None) -> None:
        """A message in the group; acted on only when it replies to an announcement. `once`:
        the update's id. An update is processed again when its worker died before finishing
        it (bot/channels/telegram/inbox.py); a reply it already relayed is not sent twice."""
        original = message.reply_to_message
        if original is None or not message.text:
            return
        ticket_id = await self.store.kv_get(self._key(original.message_id))
        if ticket_id is None:
            return
        if once is not None and await self.store.kv_get(self._done_key(once)) is not None:
            log.info("staff group: update %s was handled before; not relayed again", once)
            return
        who = message.from_user
        agent = f"tg:@{who.username}" if who and who.username else f"tg:{who.id if who else '?'}"
        try:
            await self.actions.reply(ticket_id, agent, message.text)
            await self._handled(once, ticket_id)
            return
        except TicketConflict as exc:
            notice = self.texts("group.conflict", id=ticket_id, agent=exc.claimed_by)
        except TicketClosed:
            notice = self.texts("group.closed", id=ticket_id)
        except TicketError:
            return
        except Exception as exc:  # the window, the quota, the channel's API
            code = problem_code(exc)
            why = self.texts("group.send_failed" if code == "no_channel" else f"group.{code}")
            notice = self.texts("group.failed", id=ticket_id, why=why)
        await message.reply_text(notice)
        await self._handled(once, ticket_id)

    def _done_key(self, once: str) -> str:
        return f"staff:group:{self.chat_id}:done:{once}"

    async def _handled(self, once: str | None, ticket_id: str) -> None:
        # Written after the relay: a worker dying between the two relays the reply twice on
        # the rerun, which is better than never (written before, the rerun would drop it).
        if once is not None:
            await self.store.kv_set(self._done_key(once), ticket_id, HANDLED_TTL)


def group_handler(chat_id: int, store: Store) -> Any:
    """A python-telegram-bot handler for replies in the staff group."""
    from telegram import Update
    from telegram.ext import ContextTypes, MessageHandler, filters

    from bot.channels.telegram.inbox import once_key

    async def on_message(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        group = _GROUPS.get(store)
        if group is not None and update.effective_message is not None:
            await group.on_reply(update.effective_message, once_key(update))

    return MessageHandler(filters.Chat(chat_id) & filters.REPLY & filters.TEXT, on_message)


def install(application: Any, env: Mapping[str, str], store: Store) -> None:
    """For the Telegram mount: listen to the staff group when the console is on and a group
    is configured. Safe to call always."""
    chat = staff_chat(env)
    if chat is not None and env.get(SECRET):
        application.add_handler(group_handler(chat, store))


__all__ = ["StaffGroup", "group_handler", "install"]
