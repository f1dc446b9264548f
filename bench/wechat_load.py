"""Load test of POST /wechat: the real app against a bare endpoint, on loopback.

    python bench/wechat_load.py [--users 50] [--requests 4000] [--duration 30] [--rounds 3]
                                [--json]

Starts, each in its own process: `jifen-bot serve` (1 worker, SQLite store in a temp dir) and a
bare Starlette endpoint answering a fixed XML reply of the same size. A separate load-generator
process then drives each in turn with signed plain-mode text messages from `--users` simulated
users, each a keep-alive connection sending its next message as soon as the previous answer
arrives (closed loop: the figures are the server's capacity, not a chosen rate). The client
speaks HTTP/1.1 over raw asyncio streams, because a full client such as httpx spends more CPU
per request than the bare server does, and on a 2-core machine it would measure itself.

Each user follows a short conversation (certificate, answers, restart), so the real app runs
the matcher, the dialog, the dedupe record and the session writes for every message.

`--rounds` measures the two servers alternately that many times and reports medians: the ratio
is the median of each round's ratio (both figures taken a few seconds apart), so that one
slow moment of a shared machine does not decide it. The conversations go on from round to
round, on the same store.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.commands.serve import add_stack_options

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "benchToken1"
ACCOUNT = "gh_bench000001"
SCRIPT = ["一建", "1", "1", "1", "8", "重新开始", "电工三级", "1", "1", "重新开始"]
WARMUP = 200


# --- the bare endpoint -------------------------------------------------------------------


def bare_app(size: int) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    head = f"<xml><ToUserName><![CDATA[o]]></ToUserName><FromUserName><![CDATA[{ACCOUNT}]]>"
    head += "</FromUserName><CreateTime>0</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    tail = "<Content><![CDATA[]]></Content></xml>"
    fill = max(0, size - len((head + tail).encode()))
    body = (head + "<Content><![CDATA[" + "x" * fill + "]]></Content></xml>").encode()

    async def wechat(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/xml")

    async def healthz(request: Request) -> Response:
        return Response("ok")

    return Starlette(
        routes=[Route("/wechat", wechat, methods=["POST"]), Route("/healthz", healthz)]
    )


def run_bare(port: int, size: int, http: str, loop: str) -> None:
    import uvicorn

    uvicorn.run(
        bare_app(size), host="127.0.0.1", port=port, log_level="warning", http=http, loop=loop
    )


# --- the load generator (its own process) -------------------------------------------------


def _request(port: int, user: int, turn: int, msg_id: int) -> bytes:
    ts, nonce = str(int(time.time())), secrets.token_hex(5)
    sig = hashlib.sha1("".join(sorted((TOKEN, ts, nonce))).encode()).hexdigest()
    text = SCRIPT[turn % len(SCRIPT)]
    body = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[oBenchUser{user:05d}]]></FromUserName>"
        f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()
    head = (
        f"POST /wechat?signature={sig}&timestamp={ts}&nonce={nonce} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nContent-Type: text/xml\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def drive(port: int, users: int, total: int, duration: float, run: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    sent = 0
    base = run * 10_000_000 + 1
    stop_at = time.monotonic() + duration

    async def user(n: int) -> None:
        nonlocal errors, sent
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        turn = 0
        try:
            while sent < total and time.monotonic() < stop_at:
                sent += 1
                data = _request(port, n, turn, base + sent)
                began = time.perf_counter()
                writer.write(data)
                status, body = await _read_response(reader)
                took = time.perf_counter() - began
                if status != 200 or not body.startswith(b"<xml>"):
                    errors += 1
                latencies.append(took)
                turn += 1
        finally:
            writer.close()

    began = time.monotonic()
    await asyncio.gather(*(user(n) for n in range(users)))
    elapsed = time.monotonic() - began
    measured = latencies[WARMUP:] if len(latencies) > 2 * WARMUP else latencies
    q = statistics.quantiles(measured, n=100) if len(measured) >= 2 else [0.0] * 99
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(q[49] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
    }


def run_client(args: argparse.Namespace) -> None:
    result = asyncio.run(drive(args.port, args.users, args.requests, args.duration, args.run))
    print(json.dumps(result))


# --- orchestration -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server on port {port} not ready in {timeout:.0f} s")


def one_reply_size(port: int) -> int:
    async def probe() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_request(port, 99_999, 0, 1))
        status, body = await _read_response(reader)
        writer.close()
        if status != 200:
            raise SystemExit(f"probe request failed with HTTP {status}: {body[:200]!r}")
        return len(body)

    return asyncio.run(probe())


def stack(http: str, loop: str) -> dict[str, str]:
    """What uvicorn runs with these options in this interpreter (the servers' own)."""
    import importlib.util

    def have(module: str) -> bool:
        return importlib.util.find_spec(module) is not None

    if http == "auto":
        http = "httptools" if have("httptools") else "h11"
    if loop == "auto":
        loop = "uvloop" if have("uvloop") else "asyncio"
    return {"http": http, "loop": loop}


def peak_rss(pid: int) -> float | None:
    """A process's peak resident memory in MB (Linux), None where /proc has no answer."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def measure(port: int, args: argparse.Namespace, run: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--client",
        "--port",
        str(port),
        "--users",
        str(args.users),
        "--requests",
        str(args.requests),
        "--duration",
        str(args.duration),
        "--run",
        str(run),
    ]
    out = subprocess.run(
        cmd, capture_output=True, text=True, check=True, timeout=args.duration + 60
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=50, help="concurrent simulated users (50)")
    p.add_argument("--requests", type=int, default=4000, help="messages per target (4000)")
    p.add_argument("--duration", type=float, default=30.0, help="time cap per target, s (30)")
    p.add_argument("--rounds", type=int, default=3, help="alternate measurements (3)")
    add_stack_options(p, " of both servers")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, default=400, help=argparse.SUPPRESS)
    p.add_argument("--run", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.client:
        return run_client(args)
    if args.bare_server:
        return run_bare(args.port, args.size, args.http, args.loop)

    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="jifen-bench-") as tmp:
            app_port, bare_port = free_port(), free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("JIFEN_")}
            env |= {"JIFEN_STORE": f"sqlite:///{tmp}/bench.sqlite3", "JIFEN_WECHAT_TOKEN": TOKEN}
            app = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot",
                    "serve",
                    "--port",
                    str(app_port),
                    "--log-level",
                    "warning",
                    "--http",
                    args.http,
                    "--loop",
                    args.loop,
                ],
                env=env,
                cwd=ROOT,
            )
            procs.append(app)
            wait_ready(app_port, app)
            size = one_reply_size(app_port)
            bare = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--bare-server",
                    "--port",
                    str(bare_port),
                    "--size",
                    str(size),
                    "--http",
                    args.http,
                    "--loop",
                    args.loop,
                ]
            )
            procs.append(bare)
            wait_ready(bare_port, bare)
            rounds = []
            for n in range(max(1, args.rounds)):
                measured = {
                    "bare": measure(bare_port, args, 2 * n + 1),
                    "jifen-bot": measure(app_port, args, 2 * n + 2),
                }
                rounds.append({**measured, "ratio": _ratio(measured)})
            peak_rss_mb = peak_rss(app.pid)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    results = {name: _median(r[name] for r in rounds) for name in ("bare", "jifen-bot")}
    ratio = statistics.median(r["ratio"] for r in rounds)
    report = {
        "users": args.users,
        "reply_bytes": size,
        "stack": stack(args.http, args.loop),
        "jifen_bot_peak_rss_mb": peak_rss_mb,
        "results": results,
        "ratio": round(ratio, 3),
        "targets": {"ratio_min": 0.5, "p99_ms_max": 50.0},
        "met": ratio >= 0.5 and results["jifen-bot"]["p99_ms"] < 50.0,
        "rounds": rounds,
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return
    used = report["stack"]
    print(
        f"POST /wechat, {args.users} concurrent users, reply {size} bytes, 1 worker, SQLite, "
        f"{used['http']} + {used['loop']} (both servers); medians of {len(rounds)} rounds"
    )
    print(f"{'target':<10} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, r in results.items():
        print(
            f"{name:<10} {r['requests']:>8} {r['errors']:>6} {r['rps']:>8.0f} "
            f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}"
        )
    print(
        f"ratio jifen-bot / bare: {ratio:.2f} (target ≥ 0.5); "
        f"jifen-bot p99 {results['jifen-bot']['p99_ms']:.1f} ms (target < 50)"
    )
    each = ", ".join(f"{r['ratio']:.2f}" for r in rounds)
    print(f"ratio of each round: {each}")
    if peak_rss_mb is not None:
        print(f"jifen-bot peak resident memory: {peak_rss_mb:.0f} MB")


def _ratio(measured: dict[str, dict[str, Any]]) -> float:
    return round(measured["jifen-bot"]["rps"] / measured["bare"]["rps"], 3)


def _median(rounds: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One target's figures over the rounds: counts summed, rates and latencies medians."""
    taken = list(rounds)
    summed = {k: sum(r[k] for r in taken) for k in ("requests", "errors", "seconds")}
    return summed | {
        k: round(statistics.median(r[k] for r in taken), 2) for k in ("rps", "p50_ms", "p99_ms")
    }


if __name__ == "__main__":
    main()
