"""WeChat's side of the wire: requests signed and encrypted exactly as WeChat builds them.

Plain mode: `signature` = SHA1 of sorted (token, timestamp, nonce) in the query string.
Safe mode: the message XML is AES-256-CBC encrypted (key = base64 of EncodingAESKey + "=",
IV = key[:16], PKCS#7 to 32 bytes) over random(16) + length(4, network order) + xml + AppId,
wrapped in <xml><ToUserName/><Encrypt/></xml>, with `msg_signature` = SHA1 of sorted
(token, timestamp, nonce, Encrypt) and `encrypt_type=aes`. Written independently of the
code under test (cryptography directly, not wechatpy), so a shared mistake cannot hide.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import string
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TOKEN = "jifenTestToken42"
ACCOUNT = "gh_0123456789ab"


def random_aes_key() -> str:
    """A real 43-character EncodingAESKey (32 random bytes, base64 without '=')."""
    return base64.b64encode(os.urandom(32)).decode("ascii").rstrip("=")


def sha1_sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def nonce() -> str:
    return "".join(secrets.choice(string.digits) for _ in range(10))


def text_xml(openid: str, content: str, msg_id: int, create_time: int | None = None) -> str:
    t = create_time or int(time.time())
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{t}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(openid: str, event: str, key: str = "", create_time: int | None = None) -> str:
    t = create_time or int(time.time())
    key_xml = f"<EventKey><![CDATA[{key}]]></EventKey>" if key else ""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{t}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
        f"{key_xml}</xml>"
    )


def media_xml(openid: str, msg_type: str, msg_id: int) -> str:
    extra = {
        "image": "<PicUrl><![CDATA[http://example.invalid/p.jpg]]></PicUrl><MediaId>m1</MediaId>",
        "voice": "<MediaId>m1</MediaId><Format>amr</Format>",
        "video": "<MediaId>m1</MediaId><ThumbMediaId>t1</ThumbMediaId>",
        "location": "<Location_X>31.2</Location_X><Location_Y>121.4</Location_Y><Scale>15</Scale>"
        "<Label><![CDATA[上海]]></Label>",
        "link": "<Title><![CDATA[t]]></Title><Description><![CDATA[d]]></Description>"
        "<Url><![CDATA[http://example.invalid]]></Url>",
    }[msg_type]
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>{extra}<MsgId>{msg_id}</MsgId></xml>"
    )


def plain_params(token: str = TOKEN, timestamp: int | None = None) -> dict[str, str]:
    ts, n = str(timestamp if timestamp is not None else int(time.time())), nonce()
    return {
        "signature": sha1_sign(token, ts, n),
        "timestamp": ts,
        "nonce": n,
        "openid": "ignored-by-server",
    }


@dataclass
class SafeModeWire:
    aes_key: str
    appid: str
    token: str = TOKEN

    @property
    def key(self) -> bytes:
        return base64.b64decode(self.aes_key + "=")

    def encrypt(self, xml: str, appid: str | None = None) -> str:
        body = xml.encode("utf-8")
        raw = (
            os.urandom(16)
            + struct.pack(">I", len(body))
            + body
            + (appid or self.appid).encode("ascii")
        )
        pad = 32 - len(raw) % 32
        raw += bytes([pad]) * pad
        enc = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(enc.update(raw) + enc.finalize()).decode("ascii")

    def decrypt(self, encrypt: str) -> tuple[str, str]:
        dec = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        raw = dec.update(base64.b64decode(encrypt)) + dec.finalize()
        raw = raw[: -raw[-1]]
        (length,) = struct.unpack(">I", raw[16:20])
        return raw[20 : 20 + length].decode("utf-8"), raw[20 + length :].decode("ascii")

    def request(
        self, xml: str, appid: str | None = None, timestamp: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        """Query parameters and body of a safe-mode POST."""
        encrypt = self.encrypt(xml, appid)
        params = plain_params(self.token, timestamp)
        params["encrypt_type"] = "aes"
        params["msg_signature"] = sha1_sign(
            self.token, params["timestamp"], params["nonce"], encrypt
        )
        body = (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        )
        return params, body.encode("utf-8")

    def open_reply(self, body: bytes) -> str:
        """The reply's inner XML after checking its MsgSignature, as WeChat does."""
        root = ET.fromstring(body)
        encrypt = root.findtext("Encrypt") or ""
        sig = sha1_sign(
            self.token, root.findtext("TimeStamp") or "", root.findtext("Nonce") or "", encrypt
        )
        assert sig == root.findtext("MsgSignature"), "reply MsgSignature does not verify"
        xml, appid = self.decrypt(encrypt)
        assert appid == self.appid, "reply encrypted for another AppId"
        return xml


def reply_fields(xml: str | bytes) -> dict[str, Any]:
    root = ET.fromstring(xml)
    return {child.tag: child.text or "" for child in root}
