"""`open_store(url)`: the store named by a URL, or by JIFEN_STORE, or the default SQLite file.

sqlite:///relative/path.db     sqlite:////absolute/path.db     sqlite:///:memory:
redis://host:6379/0            (once the Redis store ships)
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from platformdirs import user_data_dir

from bot.errors import ConfigError

from .base import Store

ENV = "JIFEN_STORE"


def default_sqlite_path() -> Path:
    return Path(user_data_dir("jifen-bot", appauthor=False)) / "jifen-bot.sqlite3"


def store_url(url: str | None = None) -> str:
    """The URL in force: the one given, else JIFEN_STORE, else the default SQLite file."""
    return url or os.environ.get(ENV) or f"sqlite:///{default_sqlite_path()}"


def sqlite_path(url: str) -> str:
    """'sqlite:///x.db' → 'x.db'; 'sqlite:////tmp/x.db' → '/tmp/x.db' (as SQLAlchemy reads)."""
    parts = urlsplit(url)
    if parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{url!r}: write sqlite:///PATH (three slashes, no host)")
    path = unquote(parts.path)[1:]  # drop the slash that ends 'sqlite://'
    if not path:
        raise ConfigError(f"{url!r}: the SQLite file path is missing")
    return path


def open_store(url: str | None = None) -> Store:
    """The store for `url` (not yet opened: `await store.open()` before use)."""
    resolved = store_url(url)
    scheme = urlsplit(resolved).scheme.lower()
    if scheme == "sqlite":
        from .sqlite import SqliteStore

        return SqliteStore(sqlite_path(resolved))
    if scheme in ("redis", "rediss", "unix"):
        try:
            from .redis import RedisStore
        except ImportError:
            raise ConfigError(
                f"{ENV}={resolved!r}: the Redis store is not available yet; use sqlite:///PATH"
            ) from None
        return RedisStore(resolved)
    raise ConfigError(
        f"{ENV}={resolved!r}: unknown store scheme {scheme!r}; "
        "use sqlite:///PATH or redis://HOST:PORT/DB"
    )


__all__ = ["ENV", "default_sqlite_path", "open_store", "sqlite_path", "store_url"]
