"""Each process entry point stops on a bad setting with one line naming it (no servers needed)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS"}}
    return subprocess.run(
        args, cwd=PROJECT_ROOT, env=clean | {"DATA_DIR": str(tmp_path)} | env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [
        [sys.executable, "-m", "devstack", "run"],
        [sys.executable, "-m", "devstack", "servers"],
        [str(BIN / "celery"), "--app", "tasks.celery_app", "worker"],
        [str(BIN / "flask"), "--app", "wsgi", "setup"],
    ],
    ids=["make-run", "servers", "celery", "setup"],
)
def test_a_bad_value_stops_start_up_with_one_line(args, tmp_path):
    result = run(args, tmp_path, FETCH_INTERVAL_SECONDS="-1")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "configuration error: FETCH_INTERVAL_SECONDS must be a finite number > 0, got '-1'"
    )
    assert "Traceback" not in result.stderr


def test_a_process_without_its_server_url_says_how_to_get_one(tmp_path):
    result = run([str(BIN / "celery"), "--app", "tasks.celery_app", "beat"], tmp_path)
    assert result.returncode != 0
    assert "configuration error: DATABASE_URL is not set: run `make run`" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_taken_port_names_the_setting_to_change(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run([sys.executable, "-m", "devstack", "servers"], tmp_path, EMBEDDED_REDIS_PORT=str(port))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"stockticker: port {port} is taken: set EMBEDDED_REDIS_PORT to a free port, "
        "or REDIS_URL to use the server that is already there"
    )


SERVERS = {
    "DATABASE_URL": "postgresql://u@127.0.0.1:1/x",
    "REDIS_URL": "redis://127.0.0.1:1",
    "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
}
WEB = [str(BIN / "gunicorn"), "--config", "config/gunicorn.py", "wsgi:app"]
FLOWER = [str(BIN / "celery"), "--app", "tasks.celery_app", "flower", "--conf=config/flower.py"]


def test_the_web_refuses_to_listen_beyond_localhost_without_the_login(tmp_path):
    result = run(WEB, tmp_path, WEB_HOST="0.0.0.0", **SERVERS)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "configuration error: WEB_HOST=0.0.0.0 listens beyond this machine, so set AUTH_USERNAME and "
        "AUTH_PASSWORD_HASH (`python -m app.access hash-password` makes the hash) or WEB_HOST=127.0.0.1"
    )


def test_flower_beyond_localhost_needs_the_plain_password_for_its_basic_auth(tmp_path):
    hashed = subprocess.run(
        [sys.executable, "-m", "app.access", "hash-password"], input="long enough\n", capture_output=True,
        text=True, check=True, cwd=PROJECT_ROOT,
    ).stdout.strip().split("=", 1)[1].strip("'")  # fmt: skip
    result = run(FLOWER, tmp_path, FLOWER_HOST="0.0.0.0", AUTH_USERNAME="me", AUTH_PASSWORD_HASH=hashed, **SERVERS)
    assert result.returncode != 0
    assert "FLOWER_HOST=0.0.0.0 listens beyond this machine and Flower's basic auth compares a plain password" in (
        result.stderr
    )


def test_flowers_options_carry_the_host_port_and_login():
    env = {"FLOWER_HOST": "0.0.0.0", "FLOWER_PORT": "5999", "AUTH_USERNAME": "me", "AUTH_PASSWORD": "pw pw pw"}
    code = (
        "import runpy, json; o = runpy.run_path('config/flower.py'); "
        "print(json.dumps([o['address'], o['port'], o['basic_auth']]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=os.environ | env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == '["0.0.0.0", 5999, ["me:pw pw pw"]]'


def test_hash_password_refuses_a_short_one():
    result = subprocess.run(
        [sys.executable, "-m", "app.access", "hash-password"], input="short\n", capture_output=True, text=True,
        cwd=PROJECT_ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 1 and result.stderr.strip() == "the password must have at least 8 characters"
