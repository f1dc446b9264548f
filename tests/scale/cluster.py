"""Real `jifen-bot serve --workers N` processes for the scale tests, and WeChat's side of them.

`Cluster` runs the command as an operator would (a subprocess on a free loopback port, its JSON
log in a file), finds its worker processes, and can kill one. `Conn` is one keep-alive HTTP
connection, as WeChat's servers keep them: the response's X-Request-Id starts with the tag of
the worker process that answered, so a test can tell the workers apart and aim at one.
`expected_answers` runs the same script through the conversation in this process: the
dialog is deterministic, so whatever the workers do, each message must get exactly that answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from auxil.wechat_wire import TOKEN, plain_params, text_xml

from bot.channels.render import render_replies
from bot.channels.wechat.split import LIMIT, split_text

ROOT = Path(__file__).resolve().parents[2]
LOG_KEY = "scale-tests-log-key"
# The conversation of the load: two certificates, each to its points (8 months of contributions
# at or above the base; "2": no further certificate).
SCRIPT = ("一建", "1", "1", "1", "8", "2", "电工三级", "1", "1", "1", "2")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """`jifen-bot serve` with `workers` processes. Parameters: `env` (JIFEN_* settings; the
    rest of os.environ minus JIFEN_* is inherited), `workdir` for the log and metrics files."""

    def __init__(self, env: dict[str, str], workdir: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.log_path = workdir / "serve.log"
        self.metrics_dir = workdir / "metrics"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("JIFEN_")}
        self.env = clean | {
            "JIFEN_LOG_KEY": LOG_KEY,
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
            **env,
        }
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> None:
        args = ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        with self.log_path.open("ab") as sink:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", *args],
                env=self.env,
                cwd=ROOT,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        # With one worker, uvicorn serves from the parent process itself.
        children = self.workers if self.workers > 1 else 0
        while self.started() < children or not self.healthy():
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"serve not ready in {timeout:.0f} s:\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                for pid in self.worker_pids():
                    os.kill(pid, signal.SIGKILL)
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def healthy(self) -> bool:
        """GET /healthz answers 200 (blocking: for start-up, outside any event loop's work)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return s.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def started(self) -> int:
        """Workers that have finished starting (uvicorn logs it): only then do they accept."""
        done = {
            r.get("pid") for r in self.records() if r.get("msg") == "Application startup complete."
        }
        return len(done & set(self.worker_pids()))

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes: children of serve started by multiprocessing."""
        if self.proc is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid and b"spawn_main" in cmdline:
                found.append(int(entry.name))
        return sorted(found)

    def pid_of(self, tag: str, timeout: float = 10.0) -> int:
        """The pid of the worker whose request ids start with `tag`, from its log lines."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in self.records():
                if str(record.get("rid", "")).startswith(tag + "-"):
                    return int(record["pid"])
            time.sleep(0.05)
        raise AssertionError(f"no log line of worker {tag}")

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def records(self) -> list[dict[str, object]]:
        """The JSON log lines (anything else, such as a crash dump, is skipped)."""
        out = []
        for line in self.log().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                out.append(record)
        return out

    async def metrics(self) -> dict[str, float]:
        """GET /metrics (on a new connection: any worker) as {"name{labels}": value}."""
        status, _, body = await _one(self.port, "GET", "/metrics")
        assert status == 200
        return parse_metrics(body.decode())


def parse_metrics(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


@dataclass
class Answer:
    status: int
    worker: str  # the answering worker's request-id tag
    content: str | None  # the passive reply's text; None for `success`


class Conn:
    """One keep-alive connection. Not for concurrent use: one request at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> Conn:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None
        assert self.writer is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        return await _read(self.reader)

    async def worker(self) -> str:
        """The tag of the worker this connection reached."""
        _, headers, _ = await self.request("GET", "/healthz")
        return headers["x-request-id"].split("-")[0]

    async def send(self, openid: str, text: str, msg_id: int) -> Answer:
        """A signed plain-mode text message, as WeChat posts it (openid in the query too)."""
        params = plain_params(TOKEN)
        params["openid"] = openid
        query = "&".join(f"{k}={v}" for k, v in params.items())
        body = text_xml(openid, text, msg_id).encode()
        status, headers, raw = await self.request("POST", f"/wechat?{query}", body)
        tag = headers.get("x-request-id", "?").split("-")[0]
        if raw == b"success":
            return Answer(status, tag, None)
        return Answer(status, tag, content_of(raw))


def content_of(xml: bytes) -> str:
    import xml.etree.ElementTree as ET

    return ET.fromstring(xml).findtext("Content") or ""  # our own server's reply


async def _read(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return status, headers, await reader.readexactly(int(headers.get("content-length", 0)))


async def _one(port: int, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = await Conn(port).open()
    try:
        return await asyncio.wait_for(conn.request(method, path), 5)
    finally:
        conn.close()


async def conns_per_worker(port: int, workers: int, each: int, tries: int = 50) -> list[Conn]:
    """Open connections until `each` reach every one of `workers` workers; keep those only.
    Returns them interleaved: worker A, worker B, worker A, ..."""
    by_worker: dict[str, list[Conn]] = {}
    extra: list[Conn] = []
    for _ in range(tries):
        # In bursts: a worker busy accepting one connection leaves the next to another; one
        # at a time, the same idle worker tends to win every accept.
        batch = await asyncio.gather(*(Conn(port).open() for _ in range(8)))
        tags = await asyncio.gather(*(conn.worker() for conn in batch))
        for conn, tag in zip(batch, tags, strict=True):
            group = by_worker.setdefault(tag, [])
            if len(group) < each:
                group.append(conn)
            else:
                extra.append(conn)
        if len(by_worker) >= workers and all(len(g) >= each for g in by_worker.values()):
            break
    for conn in extra:
        conn.close()
    groups = list(by_worker.values())
    reached = [len(g) for g in groups]
    assert len(groups) >= workers, f"connections reached {len(groups)} of {workers} workers"
    assert min(reached) >= each, f"connections per worker: {reached}"
    return [conn for row in zip(*groups, strict=False) for conn in row]


def expected_answers(script: Sequence[str]) -> list[str]:
    """What the conversation answers to `script`, message by message, rendered for WeChat."""
    from bot.service import build_service
    from bot.store.sqlite import SqliteStore

    async def run() -> list[str]:
        store = SqliteStore(":memory:")
        await store.open()
        try:
            service = build_service(store)
            answers = []
            for text in script:
                rendered = render_replies(await service.handle("wechat", "reference", text))
                parts = split_text(rendered, LIMIT)
                assert len(parts) == 1, f"answer to {text!r} needs {len(parts)} messages"
                answers.append(parts[0])
            return answers
        finally:
            await store.close()

    return asyncio.run(run())


__all__ = [
    "LOG_KEY",
    "SCRIPT",
    "Answer",
    "Cluster",
    "Conn",
    "conns_per_worker",
    "expected_answers",
    "free_port",
    "parse_metrics",
]
