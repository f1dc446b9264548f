"""Signatures and safe-mode (AES) encryption of WeChat's message protocol.

wechatpy does the AES-CBC and PKCS#7 work, but compares signatures with `!=` and pads with
`random.sample`; here every signature is compared with `hmac.compare_digest` and the random
prefix comes from `secrets`. Every failure is a `CryptoError` with a short reason, so the route
can answer 4xx without a traceback.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string

from wechatpy.crypto import PrpCrypto
from wechatpy.exceptions import InvalidAppIdException

AES_KEY_LENGTH = 43  # EncodingAESKey: base64 of 32 bytes without the trailing "="
_ALPHABET = string.ascii_letters + string.digits


class CryptoError(Exception):
    """A signature does not match or a ciphertext cannot be opened; `reason` is loggable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signature(*parts: str) -> str:
    """WeChat's signature: SHA1 of the parts sorted and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()  # noqa: S324


def signature_ok(expected_parts: tuple[str, ...], given: str) -> bool:
    return hmac.compare_digest(signature(*expected_parts).encode(), given.lower().encode())


def decode_aes_key(key: str) -> bytes:
    """The 32-byte AES key; ValueError when `key` is not a 43-character EncodingAESKey."""
    if len(key) != AES_KEY_LENGTH:
        raise ValueError(f"expected {AES_KEY_LENGTH} characters, got {len(key)}")
    try:
        raw = base64.b64decode(key + "=", validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
    if len(raw) != 32:
        raise ValueError("does not decode to 32 bytes")
    return raw


class _Prp(PrpCrypto):  # type: ignore[misc]  # wechatpy has no type hints
    def get_random_string(self) -> str:
        return "".join(secrets.choice(_ALPHABET) for _ in range(16))


class SafeMode:
    """Encrypt and decrypt message bodies for one account (token, EncodingAESKey, AppId)."""

    def __init__(self, token: str, aes_key: str, app_id: str) -> None:
        self._token = token
        self._key = decode_aes_key(aes_key)
        self._app_id = app_id

    def decrypt(self, encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
        """The inner XML of a request's <Encrypt>, after checking msg_signature."""
        if not signature_ok((self._token, timestamp, nonce, encrypt), msg_signature):
            raise CryptoError("msg_signature mismatch")
        try:
            return str(_Prp(self._key).decrypt(encrypt, self._app_id))
        except InvalidAppIdException:
            raise CryptoError("wrong AppId in encrypted message") from None
        # A forged or truncated ciphertext fails somewhere inside base64, AES, the padding,
        # the length prefix or UTF-8; all of them mean the same thing to the caller.
        # (ValueError, IndexError, struct.error, UnicodeDecodeError, cryptography's errors).
        except Exception as exc:
            raise CryptoError(f"cannot decrypt: {type(exc).__name__}") from None

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        """The reply envelope WeChat expects in safe mode."""
        encrypt = _Prp(self._key).encrypt(xml, self._app_id)
        encrypt = encrypt.decode("ascii") if isinstance(encrypt, bytes) else str(encrypt)
        sig = signature(self._token, timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{sig}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp>"
            f"<Nonce><![CDATA[{_cdata_safe(nonce)}]]></Nonce></xml>"
        )


def _cdata_safe(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")


__all__ = [
    "AES_KEY_LENGTH",
    "CryptoError",
    "SafeMode",
    "decode_aes_key",
    "signature",
    "signature_ok",
]
