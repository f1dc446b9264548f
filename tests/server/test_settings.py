"""Settings from the environment, the channel registry and start-up refusals."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from auxil.live import free_port
from auxil.memstore import MemoryStore
from auxil.services import EchoService
from auxil.wechat_wire import TOKEN, plain_params, random_aes_key, reply_fields, text_xml

from bot.channels.wechat.config import read_config
from bot.errors import ConfigError
from bot.server.mounts import describe, load_mounts
from bot.server.settings import Secret, ServerSettings

GOOD = {
    "JIFEN_WECHAT_TOKEN": "abc123",
    "JIFEN_WECHAT_APPID": "wx0123456789abcdef",
    "JIFEN_WECHAT_SECRET": "topsecret",
    "JIFEN_WECHAT_AES_KEY": random_aes_key(),
}


def test_secret_never_shows_itself() -> None:
    s = Secret("hunter2")
    assert "hunter2" not in repr(s)
    assert "hunter2" not in str(s)
    assert "hunter2" not in f"{s}"
    assert s.reveal() == "hunter2"
    config = read_config(GOOD)
    assert config is not None
    assert "topsecret" not in repr(config)
    assert GOOD["JIFEN_WECHAT_AES_KEY"] not in repr(config)


def test_wechat_is_off_without_its_token_and_defaults_apply() -> None:
    assert read_config({}) is None
    assert read_config({"JIFEN_WECHAT_TOKEN": "  "}) is None
    config = read_config({"JIFEN_WECHAT_TOKEN": "abc123"})
    assert config is not None
    assert config.api_base == "https://api.weixin.qq.com"
    assert config.max_skew == 300
    assert config.budget == 4
    assert config.aes_key is None
    assert not config.api_enabled
    assert ServerSettings.from_env({"JIFEN_STORE": "sqlite:///x.db"}).store_url == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JIFEN_WECHAT_TOKEN", "a"),
        ("JIFEN_WECHAT_TOKEN", "has space"),
        ("JIFEN_WECHAT_AES_KEY", "short"),
        ("JIFEN_WECHAT_AES_KEY", "!" * 43),
        ("JIFEN_WECHAT_APPID", "wx 1"),
        ("JIFEN_WECHAT_API_BASE", "ftp://example.invalid"),
        ("JIFEN_WECHAT_MAX_SKEW", "five minutes"),
        ("JIFEN_WECHAT_MAX_SKEW", "-1"),
        ("JIFEN_WECHAT_BUDGET", "10"),
        ("JIFEN_WECHAT_BUDGET", "nan"),
    ],
)
def test_malformed_setting_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name) as info:
        read_config(GOOD | {name: value})
    assert "topsecret" not in str(info.value)


def test_inconsistent_settings_are_refused() -> None:
    without_appid = {k: v for k, v in GOOD.items() if k != "JIFEN_WECHAT_APPID"}
    with pytest.raises(ConfigError, match="JIFEN_WECHAT_SECRET"):
        read_config(without_appid)
    with pytest.raises(ConfigError, match="JIFEN_WECHAT_AES_KEY"):
        read_config({"JIFEN_WECHAT_TOKEN": "abc123", "JIFEN_WECHAT_AES_KEY": random_aes_key()})


def test_registry_mounts_configured_channels_and_logs_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = ("bot.channels.wechat.mount:from_env", "bot.channels.not_built_yet.mount:from_env")
    with caplog.at_level(logging.INFO):
        mounts = load_mounts(GOOD, EchoService(), MemoryStore(), registry)
    assert [m.name for m in mounts] == ["wechat"]
    assert "not_built_yet" in caplog.text
    line = describe(mounts)
    assert line.startswith("channels on: wechat (plain + safe mode")
    assert describe([]) == "channels on: none"
    assert load_mounts({}, EchoService(), MemoryStore(), registry) == []


def test_registry_does_not_hide_a_missing_dependency_inside_a_channel() -> None:
    with pytest.raises(ModuleNotFoundError, match="not_a_real_dependency_for_tests"):
        load_mounts({}, EchoService(), MemoryStore(), ("auxil.broken_channel:from_env",))


def _serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JIFEN_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", "1", *args],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "value"), [("JIFEN_WECHAT_AES_KEY", "tooShort"), ("JIFEN_WECHAT_MAX_SKEW", "soon")]
)
def test_serve_stops_on_a_malformed_setting(name: str, value: str) -> None:
    out = _serve(
        {
            "JIFEN_WECHAT_TOKEN": "abc123",
            "JIFEN_WECHAT_APPID": "wx0123456789abcdef",
            "JIFEN_WECHAT_SECRET": "topsecret",
            name: value,
        }
    )
    assert out.returncode == 2
    assert name in out.stderr
    assert "configuration error" in out.stderr
    assert "topsecret" not in out.stderr + out.stdout
    assert "Traceback" not in out.stderr


def test_serve_rejects_bad_flags() -> None:
    out = _serve({}, "--port", "70000")
    assert out.returncode == 2
    assert "port" in out.stderr
    out = _serve({}, "--http", "gunicorn")
    assert out.returncode == 2
    assert "--http" in out.stderr


@pytest.mark.parametrize(
    "stack",
    [(), ("--http", "h11", "--loop", "asyncio")],
    ids=["default-httptools-uvloop", "h11-asyncio"],
)
def test_serve_starts_logs_its_channels_and_answers(tmp_path: Path, stack: tuple[str, ...]) -> None:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JIFEN_")}
    env = clean | {
        "JIFEN_STORE": f"sqlite:///{tmp_path}/bot.sqlite3",
        "JIFEN_WECHAT_TOKEN": TOKEN,
        "JIFEN_WECHAT_APPID": "wx0123456789abcdef",
        "JIFEN_WECHAT_SECRET": "topsecret",
    }
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)),
                *stack,
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        r = httpx.post(
            f"http://127.0.0.1:{port}/wechat",
            params=plain_params(),
            content=text_xml("oServe", "一建", 1).encode(),
        )
        assert "一级建造师" in reply_fields(r.content)["Content"]
    finally:
        proc.terminate()
        proc.wait(20)
    out = log.read_text()
    assert "channels on: wechat (plain mode, customer-service API on" in out
    assert "topsecret" not in out
    assert "oServe" not in out
