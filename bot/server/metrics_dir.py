"""The directory of prometheus_client's multiprocess files, made ready by `jifen-bot serve`.

It must be set before prometheus_client is first imported (the library picks its value class
at import) and be empty at start: files left by an earlier run would add old counts to new
ones. A directory named by PROMETHEUS_MULTIPROC_DIR is emptied of metric files (*.db) only;
without the variable a temporary directory is made (under $TMPDIR or /tmp: the container's
tmpfs, the unit's private /tmp) and removed when the server stops.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path

from bot.errors import ConfigError

ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def multiprocess_dir(environ: MutableMapping[str, str] = os.environ) -> Iterator[Path]:
    if environ is os.environ and "prometheus_client" in sys.modules and ENV not in environ:
        # Too late for multiprocess mode in this process; a bug in the caller, not a setting.
        raise RuntimeError("prometheus_client was imported before the metrics directory was set")
    given = environ.get(ENV, "").strip()
    if given:
        path = Path(given)
        try:
            path.mkdir(parents=True, exist_ok=True)
            for stale in path.glob("*.db"):
                stale.unlink()
        except OSError as exc:
            raise ConfigError(f"{ENV}={given!r}: not a usable directory ({exc})") from None
        environ[ENV] = str(path)
        yield path
        return
    made = Path(tempfile.mkdtemp(prefix="jifen-metrics-"))
    environ[ENV] = str(made)
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)
        environ.pop(ENV, None)


__all__ = ["ENV", "multiprocess_dir"]
