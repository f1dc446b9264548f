"""Hypothesis against POST /api/assess and /api/match: any JSON gets a 2xx or a 4xx, never 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from auxil.live import LiveServer
from auxil.memstore import MemoryStore
from auxil.services import EchoService
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.rules.ruleset import Ruleset
from bot.server.app import build_app

KEYS = [
    "certificate",
    "grade",
    "date",
    "post_match",
    "appointed",
    "registered",
    "insurance_months_at_average",
    "insurance_base",
    "obtained_in_shanghai",
    "query",
    "x",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["一级建造师", "电工", "三级", "2026-11-22", "高级工", "是", "不清楚"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
objects = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)


@pytest.fixture(scope="module")
def client(rules: Ruleset, matcher: Any) -> Iterator[httpx.Client]:
    app = build_app(
        {}, store=MemoryStore(), service=EchoService(), rules=rules, matcher=matcher, registry=()
    )
    live = LiveServer(app)
    live.start()
    with httpx.Client(base_url=live.url, timeout=10) as c:
        yield c
    live.stop()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=objects)
def test_any_json_object_never_5xx(client: httpx.Client, body: dict[str, Any]) -> None:
    data = json.dumps(body, ensure_ascii=False, allow_nan=True).encode()
    for path in ("/api/assess", "/api/match"):
        r = client.post(path, content=data)
        assert r.status_code < 500, (path, body, r.text)
        if r.status_code >= 400:
            assert r.json()["error"]
