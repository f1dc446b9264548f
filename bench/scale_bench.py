"""POST /wechat under load, in one run: 1 worker on SQLite, N workers on Redis, bare endpoint.

    python bench/scale_bench.py [--users 50] [--requests 4000] [--duration 30] [--workers 2]
                                [--redis-fsync always|everysec] [--json]

The load is bench/wechat_load.py's (imported, not copied): closed-loop simulated users, each a
keep-alive connection sending signed plain-mode messages of a short conversation as fast as
the answers come, from a separate process. Each target is started, measured and stopped in
turn, alone on the machine but for the load generator:

  sqlite    `jifen-bot serve` with 1 worker on a SQLite file (the embedded default)
  redis     `jifen-bot serve --workers N` on a private `redis-server` (loopback, append-only
            file, `appendfsync always` as deploy/docker-compose.yml runs it)
  bare      a Starlette endpoint answering a fixed reply of the same size (the ceiling)

Everything listens on 127.0.0.1 and lives in a temporary directory; each target is bounded by
--requests and --duration. Prints messages per second, p50 and p99 latency for each, and the
ratios. On a 2-core machine the workers, Redis and the load generator share the two cores:
compare runs made on the same machine at the same time, not figures across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import wechat_load as load

ROOT = Path(__file__).resolve().parent.parent


def redis_server(workdir: Path, fsync: str) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    port = load.free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(workdir),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", fsync,
            "--logfile", str(workdir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


@contextmanager
def running(cmd: list[str], env: dict[str, str] | None = None) -> Iterator[int]:
    """A server process on a free port (`cmd` gets `--port P` appended); stopped afterwards."""
    port = load.free_port()
    proc = subprocess.Popen([*cmd, "--port", str(port)], env=env, cwd=ROOT)
    try:
        load.wait_ready(port, proc)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def bot_env(store: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIFEN_")}
    return env | {"JIFEN_STORE": store, "JIFEN_WECHAT_TOKEN": load.TOKEN}


def serve(workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]


def measure_all(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="jifen-scale-bench-") as tmp:
        with running(serve(1), bot_env(f"sqlite:///{tmp}/bench.sqlite3")) as port:
            size = load.one_reply_size(port)
            results["sqlite"] = load.measure(port, args, 1)
        redis, url = redis_server(Path(tmp), args.redis_fsync)
        try:
            with running(serve(args.workers), bot_env(url)) as port:
                load.one_reply_size(port)  # the same warm-up message as the SQLite target had
                results["redis"] = load.measure(port, args, 2)
        finally:
            redis.terminate()
            redis.wait(10)
        bare = [sys.executable, load.__file__, "--bare-server", "--size", str(size)]
        with running(bare) as port:
            results["bare"] = load.measure(port, args, 3)
    rps = {name: r["rps"] for name, r in results.items()}
    return {
        "users": args.users,
        "reply_bytes": size,
        "workers": args.workers,
        "redis_fsync": args.redis_fsync,
        "results": results,
        "ratios": {
            "redis/sqlite": round(rps["redis"] / rps["sqlite"], 3),
            "sqlite/bare": round(rps["sqlite"] / rps["bare"], 3),
            "redis/bare": round(rps["redis"] / rps["bare"], 3),
        },
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=50, help="concurrent simulated users (50)")
    p.add_argument("--requests", type=int, default=4000, help="messages per target (4000)")
    p.add_argument("--duration", type=float, default=30.0, help="time cap per target, s (30)")
    p.add_argument("--workers", type=int, default=2, help="workers on Redis (2)")
    p.add_argument(
        "--redis-fsync",
        choices=["always", "everysec"],
        default="always",
        help="Redis appendfsync (always: as deploy/ runs it)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args()
    report = measure_all(args)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return
    names = {
        "sqlite": "1 worker, SQLite",
        "redis": f"{args.workers} workers, Redis",
        "bare": "bare endpoint",
    }
    print(f"POST /wechat, {args.users} concurrent users, reply {report['reply_bytes']} bytes")
    print(f"{'target':<20} {'messages':>8} {'errors':>6} {'msg/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for key, r in report["results"].items():
        print(
            f"{names[key]:<20} {r['requests']:>8} {r['errors']:>6} {r['rps']:>8.0f} "
            f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}"
        )
    print("ratios (msg/s): " + ", ".join(f"{k} {v:.2f}" for k, v in report["ratios"].items()))


if __name__ == "__main__":
    main()
