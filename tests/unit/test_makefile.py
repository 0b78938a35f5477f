"""What `make run` and `make test` would install, read from `make -n` in a copy with no venv:
`make run` installed the test tools too (a venv of 860 MB, issue 20)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from config.settings import PROJECT_ROOT


def planned(target: str, tmp_path: Path) -> str:
    for name in ("Makefile", "requirements.txt", "requirements-local.txt", "requirements-dev.txt"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    done = subprocess.run(["make", "-n", target], cwd=tmp_path, capture_output=True, text=True, check=True)  # noqa: S607
    return done.stdout


def test_make_run_installs_what_running_needs_and_make_test_adds_the_test_tools(tmp_path: Path):
    run = planned("run", tmp_path)
    assert "pip install --quiet -r requirements-local.txt" in run
    assert "requirements-dev.txt" not in run
    assert "devstack run" in run
    test = planned("test", tmp_path)
    assert "pip install --quiet -r requirements-local.txt" in test
    assert "pip install --quiet -r requirements-dev.txt" in test
    dev = (PROJECT_ROOT / "requirements-dev.txt").read_text()
    local = (PROJECT_ROOT / "requirements-local.txt").read_text()
    for tool in ("playwright", "schemathesis", "hypothesis", "pytest"):
        assert f"\n{tool}==" in dev and tool not in local


def test_make_password_needs_only_what_running_needs(tmp_path: Path):
    password = planned("password", tmp_path)
    assert "-m app.access hash-password" in password and "requirements-dev.txt" not in password
