"""Staff sessions: a signed cookie, a CSRF token bound to it, and sign-in rate limits.

The cookie is `base64url(JSON payload) "." base64url(HMAC-SHA256)`, keyed by a key derived from
JIFEN_STAFF_SECRET; the payload names the account, a random session id and the expiry. It is
HttpOnly (scripts cannot read it) and SameSite=Strict (other sites cannot send it). The CSRF
token is an HMAC of the session id under a second derived key: the page gets it from the
sign-in answer and sends it as X-CSRF-Token, which a cross-site form cannot do.

Failed sign-ins are counted per account and per address in the store's expiring values, by
taking numbered slots with set-if-absent: each failure takes the next free slot atomically, so
workers racing on one account cannot overshoot the limit; a slot frees itself after `window`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.server.settings import Secret
from bot.store.base import Store

from .accounts import canonical

COOKIE = "jifen_staff"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True, slots=True)
class Session:
    username: str
    sid: str
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    """Parameters: the `secret`; `lifetime` of a sign-in in seconds; `clock` (epoch seconds)."""

    def __init__(
        self, secret: Secret, lifetime: float, clock: Callable[[], float] = time.time
    ) -> None:
        master = secret.reveal().encode("utf-8")
        # Separate keys per purpose: a CSRF token can never pass as a cookie signature.
        self._cookie_key = hmac.new(master, b"jifen-staff-cookie", hashlib.sha256).digest()
        self._csrf_key = hmac.new(master, b"jifen-staff-csrf", hashlib.sha256).digest()
        self.lifetime = lifetime
        self._clock = clock

    def issue(self, username: str) -> tuple[str, Session]:
        session = Session(username, secrets.token_hex(16), self._clock() + self.lifetime)
        payload = json.dumps(
            {"u": session.username, "s": session.sid, "e": int(session.expires)},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")
        body = _b64(payload)
        return f"{body}.{self._sign(body)}", session

    def read(self, cookie: str | None) -> Session | None:
        """The session of a well-signed, unexpired cookie; None for anything else."""
        if not cookie or len(cookie) > 4096 or cookie.count(".") != 1:
            return None
        body, signature = cookie.split(".")
        if not hmac.compare_digest(signature.encode("ascii", "replace"), self._sign(body).encode()):
            return None
        try:
            data = json.loads(_unb64(body))
            session = Session(str(data["u"]), str(data["s"]), float(data["e"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        return session if session.expires > self._clock() else None

    def csrf(self, session: Session) -> str:
        return hmac.new(self._csrf_key, session.sid.encode("ascii"), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        if not token:
            return False
        return hmac.compare_digest(token.encode("ascii", "replace"), self.csrf(session).encode())

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._cookie_key, body.encode("ascii"), hashlib.sha256).digest())


class LoginLimiter:
    """Parameters: the bot `store`; failures allowed `per_account` and `per_address` within
    `window` seconds before sign-ins are refused."""

    def __init__(
        self,
        store: Store,
        *,
        per_account: int = 5,
        per_address: int = 20,
        window: float = 900.0,
    ) -> None:
        self.store = store
        self.per_account = per_account
        self.per_address = per_address
        self.window = window

    def _scopes(self, account: str, address: str) -> list[tuple[str, int]]:
        # Digests, not names and addresses, go into key names: nothing personal in listings.
        who = hashlib.sha256(canonical(account).encode("utf-8")).hexdigest()[:24]
        where = hashlib.sha256(address.encode("utf-8")).hexdigest()[:24]
        return [
            (f"staff:fail:account:{who}", self.per_account),
            (f"staff:fail:address:{where}", self.per_address),
        ]

    async def blocked(self, account: str, address: str) -> bool:
        for prefix, limit in self._scopes(account, address):
            if await self._count(prefix, limit) >= limit:
                return True
        return False

    async def failed(self, account: str, address: str) -> None:
        for prefix, limit in self._scopes(account, address):
            for slot in range(limit):
                if await self.store.kv_set_if_absent(f"{prefix}:{slot}", "1", self.window):
                    break

    async def succeeded(self, account: str, address: str) -> None:
        """A right password clears the account's failures (not the address's)."""
        prefix, limit = self._scopes(account, address)[0]
        for slot in range(limit):
            await self.store.kv_delete(f"{prefix}:{slot}")

    async def _count(self, prefix: str, limit: int) -> int:
        taken = 0
        for slot in range(limit):
            if await self.store.kv_get(f"{prefix}:{slot}") is not None:
                taken += 1
        return taken


__all__ = ["COOKIE", "CSRF_HEADER", "LoginLimiter", "Session", "Sessions"]
