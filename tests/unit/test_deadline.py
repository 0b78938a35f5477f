"""Deadlines on calls into libraries that may hang, in a plain process and in a gevent one."""

import subprocess
import sys
import time

import pytest

from app.pipeline.deadline import DeadlineExceeded, call_with_deadline
from config.settings import PROJECT_ROOT


def test_a_call_that_answers_in_time_gives_its_value_and_one_that_does_not_is_abandoned():
    assert call_with_deadline(lambda: 42, 1, "quick") == 42
    with pytest.raises(DeadlineExceeded, match="^slow did not answer within 0.1 s$"):
        call_with_deadline(lambda: time.sleep(2), 0.1, "slow")
    with pytest.raises(ZeroDivisionError):
        call_with_deadline(lambda: 1 / 0, 1, "broken")


GEVENT_PROCESS = """
from gevent import monkey; monkey.patch_all()
import time
import gevent
from app.pipeline.deadline import DeadlineExceeded, call_with_deadline
blocking_sleep = monkey.get_original("time", "sleep")  # as a C library blocks: the hub cannot run
beats = []
def heartbeat():
    for _ in range(6):
        beats.append(time.monotonic())
        gevent.sleep(0.05)
beating = gevent.spawn(heartbeat)
print(call_with_deadline(lambda: (blocking_sleep(0.4), 42)[1], 5, "quick"))
try:
    call_with_deadline(lambda: blocking_sleep(2), 0.1, "slow")
except DeadlineExceeded as exc:
    print(exc)
beating.join()
gaps = [b - a for a, b in zip(beats, beats[1:])]
print(len(beats), "steady" if max(gaps) < 0.3 else f"stalled {max(gaps):.2f} s")
"""


def test_under_gevent_a_blocking_call_runs_in_a_real_thread_and_the_other_greenlets_go_on():
    run = subprocess.run(
        [sys.executable, "-c", GEVENT_PROCESS], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    # The heartbeat kept its 50 ms beat while the calls blocked their threads for 0.4 s and 2 s.
    assert run.stdout.splitlines() == ["42", "slow did not answer within 0.1 s", "6 steady"]
