"""Staff accounts in the bot's store: a name and a scrypt hash of the password.

scrypt with n=2**15, r=8, p=1 costs about 32 MiB and some 50–100 ms per check, which makes
guessing from a stolen store expensive; each record carries its own parameters so that they
can be raised later without invalidating existing passwords. The hash runs in a worker
thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from bot.errors import InputError
from bot.store.base import Store

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # scrypt takes any length; a cap keeps one request's cost bounded
NAME = re.compile(r"[\w.\-]{1,32}")  # letters (Chinese too), digits, _ . -
N, R, P, DKLEN = 2**15, 8, 1, 32
_MAXMEM = 64 * 1024 * 1024  # scrypt needs 128·n·r bytes = 32 MiB; the default cap is 32 MiB
_KEY = "staff:account:"


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    record: dict[str, Any]


def canonical(name: str) -> str:
    """The form names are compared in: Amy and amy are one account."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def check_name(name: str) -> str:
    name = unicodedata.normalize("NFKC", name).strip()
    if not NAME.fullmatch(name):
        raise InputError("a staff name is 1 to 32 letters, digits, _ . or -")
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InputError(f"the password must have at most {MAX_PASSWORD} characters")
    if not password.strip():
        raise InputError("the password must not be blank")


def hash_password(password: str, salt: bytes | None = None) -> dict[str, Any]:
    salt = salt or secrets.token_bytes(16)
    digest = _scrypt(password, salt, N, R, P, DKLEN)
    return {
        "algo": "scrypt",
        "n": N,
        "r": R,
        "p": P,
        "salt": base64.b64encode(salt).decode("ascii"),
        "hash": base64.b64encode(digest).decode("ascii"),
    }


def verify_password(record: dict[str, Any], password: str) -> bool:
    try:
        salt = base64.b64decode(record["salt"])
        expected = base64.b64decode(record["hash"])
        n, r, p = int(record["n"]), int(record["r"]), int(record["p"])
    except (KeyError, TypeError, ValueError):
        return False
    if record.get("algo") != "scrypt" or len(password) > MAX_PASSWORD:
        return False
    return hmac.compare_digest(_scrypt(password, salt, n, r, p, len(expected)), expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=_MAXMEM
    )


# Checked against when the name is unknown, so that a miss costs as long as a hit and the
# response time does not tell which names exist.
_DUMMY = hash_password(secrets.token_urlsafe(16))


class Accounts:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, name: str) -> Account | None:
        raw = await self.store.kv_get(_KEY + canonical(name))
        if raw is None:
            return None
        record = json.loads(raw)
        return Account(str(record.get("name", name)), record)

    async def add(self, name: str, password: str) -> bool:
        """Create the account or set a new password; True when it is new."""
        name = check_name(name)
        check_password(password)
        record = await asyncio.to_thread(hash_password, password)
        record["name"] = name
        new = await self.get(name) is None
        await self.store.kv_set(_KEY + canonical(name), json.dumps(record))
        return new

    async def remove(self, name: str) -> bool:
        if await self.get(name) is None:
            return False
        await self.store.kv_delete(_KEY + canonical(name))
        return True

    async def verify(self, name: str, password: str) -> Account | None:
        """The account when the password is right; None otherwise (in about the same time)."""
        account = await self.get(name) if NAME.fullmatch(name.strip() or "-") else None
        record = account.record if account is not None else _DUMMY
        ok = await asyncio.to_thread(verify_password, record, password)
        return account if ok and account is not None else None


__all__ = [
    "MIN_PASSWORD",
    "Account",
    "Accounts",
    "canonical",
    "check_name",
    "check_password",
    "hash_password",
    "verify_password",
]
