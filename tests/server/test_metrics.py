"""GET /metrics and the request middleware, in one process (the multi-worker sums are in
tests/scale/test_metrics_workers.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import metrics
from bot.errors import ConfigError
from bot.server.metrics_dir import ENV, multiprocess_dir
from bot.server.observe import Observe


def value(text: str, sample: str) -> float:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_route_counts_requests(serve_app: Callable[..., str]) -> None:
    url = serve_app()
    before = httpx.get(url + "/metrics").text
    assert httpx.get(url + "/healthz").status_code == 200
    r = httpx.get(url + "/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    count = 'jifen_request_seconds_count{route="/healthz"}'
    assert value(r.text, count) == value(before, count) + 1
    for name in ("jifen_messages_total", "jifen_errors_total", "jifen_wechat_fallbacks_total"):
        assert name in r.text


def test_request_id_is_made_or_passed_through(serve_app: Callable[..., str]) -> None:
    url = serve_app()
    made = httpx.get(url + "/healthz").headers["x-request-id"]
    assert made.count("-") == 1
    given = httpx.get(url + "/healthz", headers={"X-Request-Id": "nginx-abc123"})
    assert given.headers["x-request-id"] == "nginx-abc123"
    odd = httpx.get(url + "/healthz", headers={"X-Request-Id": "x" * 200})
    assert odd.headers["x-request-id"] != "x" * 200  # not a request id we log


async def test_a_failing_request_counts_as_a_5xx() -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("boom")

    app = Starlette(routes=[Route("/api/x", broken)])
    app.add_middleware(Observe)
    before = metrics.REGISTRY.get_sample_value("jifen_errors_total", {"kind": "http_5xx"}) or 0
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/api/x")).status_code == 500
    after = metrics.REGISTRY.get_sample_value("jifen_errors_total", {"kind": "http_5xx"})
    assert after == before + 1


def test_routes_are_a_closed_set() -> None:
    assert metrics.route_of("/wechat") == "/wechat"
    assert metrics.route_of("/staff/api/tickets") == "/staff"
    assert metrics.route_of("/wechatx") == "other"
    assert metrics.route_of("/wp-login.php") == "other"


def test_counting_matcher_counts_outcomes() -> None:
    class Result:
        outcome = "choose"

    class Inner:
        def match(self, text: str) -> Result:
            return Result()

    get = metrics.REGISTRY.get_sample_value
    before = get("jifen_match_outcomes_total", {"outcome": "choose"}) or 0
    metrics.CountingMatcher(Inner()).match("会计")  # type: ignore[arg-type]
    assert get("jifen_match_outcomes_total", {"outcome": "choose"}) == before + 1


def test_metrics_dir_is_made_and_removed_when_unset() -> None:
    environ: dict[str, str] = {}
    with multiprocess_dir(environ) as path:
        assert environ[ENV] == str(path)
        assert path.is_dir()
    assert not path.exists()
    assert ENV not in environ


def test_a_given_metrics_dir_is_emptied_of_old_files(tmp_path: Path) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "keep.txt").write_text("not ours")
    environ = {ENV: str(tmp_path)}
    with multiprocess_dir(environ):
        assert not (tmp_path / "counter_123.db").exists()
        assert (tmp_path / "keep.txt").exists()


def test_an_unusable_metrics_dir_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=ENV), multiprocess_dir({ENV: str(blocker / "sub")}):
        pass
    assert os.environ.get(ENV) is None or os.environ[ENV] != str(blocker / "sub")
