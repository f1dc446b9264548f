"""The conversation, channel-neutral and pure: (state, message, now) -> (state, replies, events).

The flow and every sentence come from dialogs/ (flow.yaml, texts.yaml, lexicon.yaml), checked
at start-up. Nothing here reads a clock, touches the store or knows a channel.
"""

from bot.dialog.engine import DialogEngine
from bot.dialog.flow import Flow, load_flow
from bot.dialog.messages import Event, Incoming, Turn
from bot.dialog.replies import Choice, Reply
from bot.dialog.state import SessionState
from bot.dialog.texts import Texts, load_texts

__all__ = [
    "Choice",
    "DialogEngine",
    "Event",
    "Flow",
    "Incoming",
    "Reply",
    "SessionState",
    "Texts",
    "Turn",
    "load_flow",
    "load_texts",
]
