"""WeChat's request XML → a typed message, or a `Rejected` with a loggable reason.

WeChat's XML is flat and never carries a DTD, so any markup declaration (`<!DOCTYPE`,
`<!ENTITY`, comments; only `<![CDATA[` is allowed) is refused before parsing: no billion
laughs, no external entities. What is left is parsed by ElementTree's C parser, which costs
a fraction of xmltodict per message. Whatever the parser or a missing field raises becomes
`Rejected`, so a malformed body gets a clean 4xx and never a traceback.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # safe here: declarations are refused first
from dataclasses import dataclass

MAX_BODY = 64 * 1024  # WeChat's messages are a few hundred bytes; anything this big is abuse
_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>", re.S)


class Rejected(Exception):
    """The request is not a message we accept; `reason` is safe to log, `status` to answer."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class Message:
    to_user: str  # our account's original id (gh_…)
    from_user: str  # the sender's openid
    create_time: int
    msg_type: str  # lower case: text, image, voice, video, shortvideo, location, link, event
    msg_id: str | None = None
    content: str = ""
    event: str = ""  # lower case: subscribe, unsubscribe, click, view, scan, …
    event_key: str = ""

    @property
    def dedupe_key(self) -> str:
        """MsgId for messages; events have none, so WeChat's advice is sender + CreateTime."""
        if self.msg_id:
            return self.msg_id
        return f"{self.from_user}:{self.create_time}:{self.event}"


def read_fields(body: bytes) -> dict[str, str]:
    """The <xml> root's children as text. Nested or repeated elements are refused."""
    if len(body) > MAX_BODY:
        raise Rejected(f"body over {MAX_BODY} bytes", 413)
    if not body.strip():
        raise Rejected("empty body")
    if b"<!" in _CDATA.sub(b"", body):  # user text inside CDATA may say anything
        raise Rejected("markup declaration (DTD, entity or comment) in body")
    try:
        root = ET.fromstring(body)  # noqa: S314 - see the module docstring
    except Exception as exc:  # ParseError, ValueError, …
        raise Rejected(f"XML does not parse: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise Rejected("root element is not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        name = child.tag if isinstance(child.tag, str) else ""
        if len(child) or name in fields:
            raise Rejected(f"<{_short(name)}> is nested or repeated")
        fields[name] = child.text or ""
    return fields


def parse_message(body: bytes) -> Message:
    f = read_fields(body)
    msg_type = _required(f, "MsgType").lower()
    create = _required(f, "CreateTime")
    if not create.isascii() or not create.isdigit() or len(create) > 12:
        raise Rejected("CreateTime is not a number")
    msg = Message(
        to_user=_required(f, "ToUserName"),
        from_user=_required(f, "FromUserName"),
        create_time=int(create),
        msg_type=msg_type,
        msg_id=f.get("MsgId", "").strip() or None,
        content=f.get("Content", ""),
        event=f.get("Event", "").strip().lower(),
        event_key=f.get("EventKey", "").strip(),
    )
    if msg_type == "event":
        if not msg.event:
            raise Rejected("event without Event")
    elif msg.msg_id is None:
        raise Rejected(f"{_short(msg_type)} message without MsgId")
    if msg_type == "text" and "Content" not in f:
        raise Rejected("text message without Content")
    return msg


def parse_envelope(body: bytes) -> str:
    """The <Encrypt> of a safe-mode request."""
    return _required(read_fields(body), "Encrypt")


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise Rejected(f"missing or empty <{name}>")
    return value


def _short(text: str) -> str:
    """A field name or type, cut short and printable, for a log line."""
    return text[:32].encode("unicode_escape").decode("ascii")


__all__ = ["MAX_BODY", "Message", "Rejected", "parse_envelope", "parse_message", "read_fields"]
