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
