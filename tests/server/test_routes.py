"""GET /healthz, POST /api/match and POST /api/assess over real HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest
from auxil.memstore import MemoryStore

ASSESS = {
    "certificate": "一级建造师",
    "post_match": True,
    "appointed": True,
    "registered": True,
    "insurance_months_at_average": 6,
    "date": "2026-11-22",
}


def _cli(*args: str, stdin: str = "") -> list[dict[str, object]]:
    out = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def test_healthz_follows_the_store(serve_app: Callable[..., str]) -> None:
    store = MemoryStore()
    url = serve_app(store=store)
    r = httpx.get(url + "/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    store.healthy = False
    assert httpx.get(url + "/healthz").status_code == 503


def test_match_gives_what_match_json_prints(serve_app: Callable[..., str]) -> None:
    url = serve_app()
    r = httpx.post(url + "/api/match", json={"query": "一建"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == _cli("match", "--json", "一建")[0]
    assert r.json()["outcome"] == "match"


def test_assess_gives_what_assess_json_prints(serve_app: Callable[..., str]) -> None:
    url = serve_app()
    r = httpx.post(url + "/api/assess", json=ASSESS)
    assert r.status_code == 200
    assert r.json() == _cli("assess", "--json", stdin=json.dumps(ASSESS, ensure_ascii=False))[0]
    assert r.json()["certificate"]["name"] == "一级建造师"


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/api/match", b"not json", "not JSON"),
        ("/api/match", b"[1, 2]", "JSON object"),
        ("/api/match", b"{}", "query"),
        ("/api/match", b'{"query": 5}', "query"),
        ("/api/match", b'{"query": "   "}', "query"),
        ("/api/match", json.dumps({"query": "一" * 501}).encode(), "longer"),
        ("/api/match", b"\xff\xfe{", "UTF-8"),
        ("/api/match", b"[" * 5000 + b"]" * 5000, "nested"),
        ("/api/assess", b"", "not JSON"),
        ("/api/assess", b'"text"', "JSON object"),
        ("/api/assess", json.dumps({"grade": "三级"}).encode(), "certificate"),
        (
            "/api/assess",
            json.dumps({"certificate": "一级建造师", "date": "yesterday"}).encode(),
            "date",
        ),
        ("/api/assess", json.dumps({"certificate": "一级建造师", "grade": 3}).encode(), "grade"),
        ("/api/match", b'{"query": "' + b"a" * (65 * 1024) + b'"}', "65536"),
    ],
)
def test_malformed_api_bodies_get_400_with_a_reason(
    serve_app: Callable[..., str], path: str, body: bytes, reason: str
) -> None:
    url = serve_app()
    r = httpx.post(url + path, content=body)
    assert r.status_code == 400
    assert reason in r.json()["error"]


def test_assess_unknown_certificate_is_422_with_candidates(serve_app: Callable[..., str]) -> None:
    url = serve_app()
    r = httpx.post(url + "/api/assess", json={"certificate": "qwxzk"})
    assert r.status_code == 422
    assert "error" in r.json()
    assert "candidates" in r.json()


def test_unknown_routes_and_methods(serve_app: Callable[..., str]) -> None:
    url = serve_app()
    assert httpx.get(url + "/api/match").status_code == 405
    assert httpx.get(url + "/nothing").status_code == 404
    assert httpx.post(url + "/wechat").status_code == 404  # not mounted without its token


def test_post_wechat_called_straight_leaves_the_routing_of_everything_else_alone(
    serve_app: Callable[..., str],
) -> None:
    # POST /wechat is called straight from the outer middleware (bot/server/observe.py);
    # the rest of /wechat, and paths that only look like it, are routed as before.
    url = serve_app({"JIFEN_WECHAT_TOKEN": "tok"}, registry=("bot.channels.wechat.mount:from_env",))
    r = httpx.post(url + "/wechat", content=b"<xml></xml>")
    assert r.status_code == 400  # refused by the endpoint itself: no signature
    assert "x-request-id" in r.headers
    assert httpx.get(url + "/wechat").status_code == 400  # verification: no echostr
    assert httpx.put(url + "/wechat").status_code == 405
    assert httpx.post(url + "/wechat/").status_code in (307, 404)
    assert httpx.post(url + "/wechatx").status_code == 404
