"""Staff accounts (scrypt), the signed session cookie, CSRF tokens and sign-in rate limits."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.errors import ConfigError, InputError
from bot.server.settings import Secret
from bot.staff.accounts import Accounts, hash_password, verify_password
from bot.staff.auth import LoginLimiter, Sessions
from bot.staff.config import StaffSettings
from bot.store.sqlite import SqliteStore

SECRET = Secret("a-test-secret-of-enough-length-0123")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "bot.sqlite3")
    await s.open()
    yield s
    await s.close()


def test_hash_is_salted_scrypt_and_verifies_in_constant_form() -> None:
    one, two = hash_password("correct horse"), hash_password("correct horse")
    assert one["algo"] == "scrypt"
    assert one["n"] >= 2**14
    assert one["salt"] != two["salt"]
    assert one["hash"] != two["hash"]
    assert "correct horse" not in json.dumps(one)
    assert verify_password(one, "correct horse")
    assert not verify_password(one, "correct horsE")
    assert not verify_password({"algo": "md5"}, "x")
    assert not verify_password({**one, "salt": "***"}, "correct horse")


async def test_accounts_add_verify_remove(store: SqliteStore) -> None:
    accounts = Accounts(store)
    assert await accounts.add("Amy", "a long enough password")
    assert not await accounts.add("amy", "another long password")  # same account, new password
    assert await accounts.verify("AMY", "a long enough password") is None
    found = await accounts.verify("amy", "another long password")
    assert found is not None
    assert found.name == "amy"
    assert await accounts.verify("nobody", "another long password") is None
    raw = [v for k, (v, _) in await _kv(store) if k.startswith("staff:account:")]
    assert raw
    assert all("another long password" not in v for v in raw)
    assert await accounts.remove("AMY")
    assert not await accounts.remove("amy")
    assert await accounts.verify("amy", "another long password") is None


async def _kv(store: SqliteStore) -> list[tuple[str, tuple[str, float | None]]]:
    rows = await store._query("SELECT key, value, expires FROM kv")
    return [(k, (v, e)) for k, v, e in rows]


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("amy", ""),
        ("amy", "short"),
        ("amy", " " * 12),
        ("", "long enough pw"),
        ("a b", "long enough pw"),
    ],
)
async def test_accounts_refuse_bad_names_and_passwords(
    store: SqliteStore, name: str, password: str
) -> None:
    with pytest.raises(InputError):
        await Accounts(store).add(name, password)


def test_session_cookie_round_trip_and_forgeries() -> None:
    now = [1_000_000.0]
    sessions = Sessions(SECRET, 3600, clock=lambda: now[0])
    cookie, session = sessions.issue("amy")
    read = sessions.read(cookie)
    assert read == session
    body, signature = cookie.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["u"] = "boss"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    assert sessions.read(f"{forged}.{signature}") is None
    assert sessions.read(cookie + "x") is None
    assert sessions.read("") is None
    assert sessions.read("no-dot") is None
    assert Sessions(Secret("another-secret-of-enough-length"), 3600).read(cookie) is None
    now[0] += 3601
    assert sessions.read(cookie) is None


def test_csrf_token_is_bound_to_the_session() -> None:
    sessions = Sessions(SECRET, 3600)
    _, mine = sessions.issue("amy")
    _, theirs = sessions.issue("amy")
    token = sessions.csrf(mine)
    assert sessions.csrf_ok(mine, token)
    assert not sessions.csrf_ok(theirs, token)
    assert not sessions.csrf_ok(mine, None)
    assert not sessions.csrf_ok(mine, "")
    assert not sessions.csrf_ok(mine, token[:-1] + "0" if token[-1] != "0" else token[:-1] + "1")


async def test_limiter_blocks_per_account_and_per_address(store: SqliteStore) -> None:
    limiter = LoginLimiter(store, per_account=3, per_address=5, window=60)
    for _ in range(3):
        assert not await limiter.blocked("amy", "10.0.0.1")
        await limiter.failed("amy", "10.0.0.1")
    assert await limiter.blocked("amy", "10.0.0.2")  # the account, from anywhere
    assert not await limiter.blocked("bob", "10.0.0.3")
    for name in ("bob", "cat"):
        await limiter.failed(name, "10.0.0.1")
    assert await limiter.blocked("dan", "10.0.0.1")  # the address, whatever the account
    await limiter.succeeded("amy", "10.0.0.9")
    assert not await limiter.blocked("amy", "10.0.0.9")
    keys = [k for k, _ in await _kv(store)]
    assert all("amy" not in k and "10.0.0" not in k for k in keys)


def test_settings_from_env() -> None:
    assert StaffSettings.from_env({}) is None
    with pytest.raises(ConfigError, match="JIFEN_STAFF_SECRET"):
        StaffSettings.from_env({"JIFEN_STAFF_SECRET": "short"})
    base = {"JIFEN_STAFF_SECRET": SECRET.reveal()}
    settings = StaffSettings.from_env(base)
    assert settings is not None
    assert settings.timeout == 900
    assert "a-test-secret" not in repr(settings)
    for raw, seconds in (("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("0.5", 0.5)):
        parsed = StaffSettings.from_env({**base, "JIFEN_HANDOFF_TIMEOUT": raw})
        assert parsed is not None
        assert parsed.timeout == seconds
    for bad in ("soon", "-5", "0", "9d"):
        with pytest.raises(ConfigError, match="JIFEN_HANDOFF_TIMEOUT"):
            StaffSettings.from_env({**base, "JIFEN_HANDOFF_TIMEOUT": bad})
    with pytest.raises(ConfigError, match="JIFEN_TELEGRAM_STAFF_CHAT"):
        StaffSettings.from_env({**base, "JIFEN_TELEGRAM_STAFF_CHAT": "@group"})
    with pytest.raises(ConfigError, match="JIFEN_STAFF_COOKIE_SECURE"):
        StaffSettings.from_env({**base, "JIFEN_STAFF_COOKIE_SECURE": "maybe"})
