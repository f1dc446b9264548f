"""deploy/: every setting the code reads is documented, and the deployment files hold together.

External validators (docker compose, nginx, systemd-analyze) run when installed and are
skipped otherwise; no container engine is needed for any of them.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NAME = re.compile(r"JIFEN_[A-Z0-9_]+")
# Reads that name the variable in place: os.environ["X"], os.environ.get("X"), os.getenv("X"),
# env["X"], env.get("X"), environ.setdefault("X", ...), and helpers like env_str(env, "X").
READ = re.compile(
    r"""(?:environ|getenv|\benv\w*)\s*(?:\.\s*(?:get|setdefault|pop)\s*)?[\[(]\s*"""
    r"""(?:\w+\s*,\s*)?['"](JIFEN_[A-Z0-9_]+)['"]"""
)


def names_read_in(source: str) -> set[str]:
    """JIFEN_* variables a module reads: any string literal that is exactly such a name (which
    covers constants passed to a reader later) plus the direct read patterns above."""
    found = set(READ.findall(source))
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and NAME.fullmatch(node.value)
        ):
            found.add(node.value)
    return found


def names_read_by_code() -> dict[str, list[str]]:
    where: dict[str, list[str]] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for name in names_read_in(path.read_text(encoding="utf-8")):
            where.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return where


def env_example() -> dict[str, str]:
    """Setting name → the comment line just above it (set or commented out, both count)."""
    listed: dict[str, str] = {}
    previous = ""
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"#?\s*(JIFEN_[A-Z0-9_]+)=.*", line.strip())
        if m:
            listed[m.group(1)] = previous
        previous = line.strip()
    return listed


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


# -- settings ------------------------------------------------------------------------------


def test_the_scanner_sees_every_way_of_reading() -> None:
    source = """
import os
A = "JIFEN_CONST"
os.environ["JIFEN_INDEX"]
os.environ.get("JIFEN_GET", "x")
os.getenv('JIFEN_GETENV')
env_str(env, "JIFEN_HELPER")
f"JIFEN_NOT_A_READ: in a message {x}"
"""
    assert names_read_in(source) == {
        "JIFEN_CONST", "JIFEN_INDEX", "JIFEN_GET", "JIFEN_GETENV", "JIFEN_HELPER",
    }  # fmt: skip


def test_every_setting_read_by_the_code_is_in_env_example() -> None:
    read = names_read_by_code()
    assert read, "the scan found no JIFEN_* variable at all"
    missing = {name: files for name, files in read.items() if name not in env_example()}
    assert not missing, f"add these to deploy/.env.example: {missing}"


def test_env_example_lists_nothing_stale() -> None:
    deploy_files = "".join(
        (DEPLOY / name).read_text(encoding="utf-8")
        for name in ("docker-compose.yml", "jifen-bot.service")
    )
    read = names_read_by_code()
    stale = [name for name in env_example() if name not in read and name not in deploy_files]
    assert not stale, f"nothing reads these any more: {stale}"


def test_every_setting_has_a_comment() -> None:
    bare = [name for name, above in env_example().items() if not above.startswith("#")]
    assert not bare, f"give these a one-line comment: {bare}"


# -- docker --------------------------------------------------------------------------------


def test_dockerfile_is_slim_non_root_with_health_check() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert stages[-1] == "python:3.11-slim"
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}
    assert re.search(r"pip install \S*\.whl", text)
    health = re.search(r"^HEALTHCHECK .*?CMD (.*)$", text, re.MULTILINE | re.DOTALL)
    assert health
    assert "urllib.request" in health.group(1)
    assert "/healthz" in health.group(1)
    assert "curl" not in health.group(1)  # slim has none


def test_compose_services() -> None:
    spec = compose()
    services = spec["services"]
    assert {"bot", "redis", "nginx"} <= set(services)

    bot = services["bot"]
    command = " ".join(bot["command"])
    assert "serve" in command
    assert "--workers" in command
    assert "ports" not in bot  # reachable through nginx only
    assert bot["environment"]["JIFEN_STORE"].startswith("redis://redis:")
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"

    redis = services["redis"]
    assert redis["image"].startswith("redis:7")
    args = redis["command"]
    assert args[args.index("--appendonly") + 1] == "yes"
    assert any(v.split(":")[1] == "/data" for v in redis["volumes"])
    assert spec["volumes"]
    assert "ports" not in redis
    assert spec["networks"][redis["networks"][0]]["internal"] is True

    nginx = services["nginx"]
    assert any(str(p).startswith("443:") for p in nginx["ports"])
    assert any(v.startswith("./nginx.conf:") for v in nginx["volumes"])


def _compose_client() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    return [docker, "compose"] if probe.returncode == 0 else None


def test_docker_compose_config(tmp_path: Path) -> None:
    client = _compose_client()
    if client is None:
        pytest.skip(
            "no docker client with the compose plugin (`docker compose config` needs no engine)"
        )
    deploy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, deploy)
    # A deployment has deploy/.env; a copy of the example stands in for it.
    shutil.copy(deploy / ".env.example", deploy / ".env")
    (deploy / "tls").mkdir(exist_ok=True)
    done = subprocess.run(
        [*client, "-f", str(deploy / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True, text=True, check=False, cwd=deploy,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


# -- nginx ---------------------------------------------------------------------------------


def test_nginx_passes_the_bot_paths_over_tls() -> None:
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"listen 443 ssl", text)
    assert "server bot:8000" in text
    for path in ("/wechat", "/telegram", "/staff", "/healthz"):
        assert _nginx_route(text, path), path
    assert not _nginx_route(text, "/metrics")
    # WeChat puts the openid in the query string: the log format must not record it.
    formats = re.findall(r"^\s*log_format\s+\w+\s+(.*?);", text, re.MULTILINE | re.DOTALL)
    assert formats
    for fmt in formats:
        assert not re.search(r"\$(request|args|query_string|request_uri|arg_\w+)\b", fmt), fmt


def _nginx_route(conf: str, path: str) -> bool:
    """Whether the first matching location (exact, then regex, crudely) proxies to the bot."""
    blocks = re.findall(r"location\s+(=|~)?\s*(\S+)\s*\{([^}]*)\}", conf)
    for kind, pattern, body in blocks:
        if (kind == "=" and pattern == path) or (kind == "~" and re.match(pattern, path)):
            return "proxy_pass" in body
    return False


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        pytest.skip("nginx is not installed")
    version = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False).stderr
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    # The compose network's host name does not resolve here; paths point into tmp_path.
    conf = conf.replace("server bot:8000", "server 127.0.0.1:8000")
    conf = conf.replace("/etc/nginx/tls/", f"{tmp_path}/")
    conf = conf.replace("/var/log/nginx/", f"{tmp_path}/")
    m = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", version)
    if m and tuple(map(int, m.groups())) < (1, 25, 1):
        # `http2 on;` arrived in 1.25.1; the image pins 1.27, a distribution nginx may be older.
        conf = conf.replace("http2 on;", "")
    _self_signed(tmp_path / "fullchain.pem", tmp_path / "privkey.pem")
    (tmp_path / "nginx.conf").write_text(conf, encoding="utf-8")
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
         "-g", f"error_log {tmp_path}/error.log; pid {tmp_path}/nginx.pid;"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _self_signed(cert_path: Path, key_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


# -- systemd -------------------------------------------------------------------------------


def unit() -> dict[str, list[str]]:
    options: dict[str, list[str]] = {}
    for line in (DEPLOY / "jifen-bot.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", ";")):
            key, value = line.split("=", 1)
            options.setdefault(key.strip(), []).append(value.strip())
    return options


def test_systemd_unit_essentials() -> None:
    options = unit()
    assert options["User"][0] not in {"root", "0"}
    assert options["EnvironmentFile"]
    assert options["Restart"] == ["on-failure"]
    assert "serve" in options["ExecStart"][0]
    assert "--workers" in options["ExecStart"][0]
    for hardening in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "RestrictSUIDSGID"):
        assert options[hardening] == ["yes"], hardening
    assert options["ProtectSystem"] == ["strict"]


def test_systemd_analyze_knows_every_directive(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    text = (DEPLOY / "jifen-bot.service").read_text(encoding="utf-8")
    # The service user, binary and env file do not exist on a test machine.
    text = re.sub(r"^ExecStart=\S+", "ExecStart=/bin/true", text, flags=re.MULTILINE)
    text = re.sub(r"^(User|Group)=.*$", r"\1=root", text, flags=re.MULTILINE)
    text = re.sub(r"^EnvironmentFile=", "EnvironmentFile=-", text, flags=re.MULTILINE)
    copy = tmp_path / "jifen-bot.service"
    copy.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, check=False
    )
    complaints = [
        line for line in (done.stdout + done.stderr).splitlines()
        if str(copy) in line and ("Unknown" in line or "Invalid" in line or "Failed" in line)
    ]  # fmt: skip
    assert not complaints, complaints
