"""make run's supervision of one process: a process that dies is started again, with a growing
wait, and a stop signal ends both it and its supervisor."""

import signal
import subprocess
import sys
import time
from pathlib import Path

from config.settings import PROJECT_ROOT


def test_a_process_that_exits_is_started_again_and_a_stop_ends_both(tmp_path: Path):
    runs = tmp_path / "runs"
    # Exits with 3 on its first two runs, then stays up (a crash, a crash, then healthy).
    command = f"echo run >> {runs}; [ $(wc -l < {runs}) -ge 3 ] && exec sleep 60; exit 3"
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "devstack.supervise", "worker", command],
        cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while (not runs.exists() or len(runs.read_text().splitlines()) < 3) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(runs.read_text().splitlines()) == 3, "not started a third time"
    time.sleep(0.5)
    assert supervisor.poll() is None
    supervisor.send_signal(signal.SIGTERM)
    _, stderr = supervisor.communicate(timeout=10)
    assert supervisor.returncode == 128 + signal.SIGTERM  # the command's own end, passed on
    said = stderr.splitlines()
    assert said == [
        "worker exited with code 3; starting it again in 1 s (restart 1)",
        "worker exited with code 3; starting it again in 2 s (restart 2)",
    ]
    leftover = subprocess.run(["pgrep", "-f", f"echo run >> {runs}"], capture_output=True, text=True)
    assert leftover.stdout == ""


def test_a_command_that_ignores_its_stop_is_killed_after_the_grace():
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "devstack.supervise", "worker", "trap '' TERM; while true; do sleep 0.1; done"],
        cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(1)
    started = time.monotonic()
    supervisor.send_signal(signal.SIGTERM)
    _, stderr = supervisor.communicate(timeout=30)
    assert 9 < time.monotonic() - started < 20  # STOP_GRACE_SECONDS, then SIGKILL
    assert supervisor.returncode == 128 + signal.SIGKILL
    assert stderr.splitlines() == ["worker still running 10 s after its stop: killing it"]
