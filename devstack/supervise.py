"""``python -m devstack.supervise NAME COMMAND``: run one Procfile command and start it again when
it exits by itself, so one process that dies does not stop ``make run`` (honcho ends every
process when one ends). Waits 1 s before the first restart, doubling to 30 s while it keeps
dying, back to 1 s after a minute's good run; says each restart in one line. SIGTERM or SIGINT
(honcho's stop, Ctrl-C) goes to the command and ends the supervision.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from devstack.servers import die_with_parent

MAKE_RUN_PID = "STOCKTICKER_MAKE_RUN_PID"  # set by `make run` for the processes it starts
FIRST_WAIT_SECONDS = 1.0
MAX_WAIT_SECONDS = 30.0
GOOD_RUN_SECONDS = 60.0
STOP_GRACE_SECONDS = 10.0  # from a stop to SIGKILL


def supervise(name: str, command: str) -> int:
    """Run ``command`` (a shell line) until told to stop; returns its last exit code (128 + the
    signal's number when a signal ended it, as a shell says)."""
    stopping = threading.Event()
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, _frame: object) -> None:
        stopping.set()
        if child is not None and child.poll() is None:
            os.killpg(child.pid, signum)  # the command and whatever its shell started
            threading.Thread(target=kill_if_still_there, args=(name, child), daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watch_make_run(lambda: os.kill(os.getpid(), signal.SIGTERM))
    wait, restarts = FIRST_WAIT_SECONDS, 0
    while True:
        started = time.monotonic()
        # A session of its own (a stop reaches it once, from here, and all of it); it ends with us.
        child = subprocess.Popen(command, shell=True, preexec_fn=die_with_parent)  # noqa: S602 - the Procfile's line
        code = child.wait()
        code = 128 - code if code < 0 else code
        if stopping.is_set():
            return code
        if time.monotonic() - started >= GOOD_RUN_SECONDS:
            wait = FIRST_WAIT_SECONDS
        restarts += 1
        print(
            f"{name} exited with code {code}; starting it again in {wait:g} s (restart {restarts})",
            file=sys.stderr,
            flush=True,
        )
        if stopping.wait(wait):
            return code
        wait = min(wait * 2, MAX_WAIT_SECONDS)


def kill_if_still_there(name: str, child: subprocess.Popen[bytes], grace: float = STOP_GRACE_SECONDS) -> None:
    """A command still running ``grace`` seconds after its stop is killed (a Celery worker in warm
    shutdown can wait that long for a broker that went with make run -9)."""
    try:
        child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        print(f"{name} still running {grace:g} s after its stop: killing it", file=sys.stderr, flush=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)


def watch_make_run(stop: Callable[[], None], every: float = 1.0) -> None:
    """Call ``stop`` once `make run`'s own process (MAKE_RUN_PID) is gone: killed -9, it cannot
    stop us, and honcho's per-process forks outlive it. Nothing to watch outside `make run`."""
    pid = int(os.environ.get(MAKE_RUN_PID, "0"))
    if pid <= 1:
        return

    def watch() -> None:
        while True:
            time.sleep(every)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                stop()
                return

    threading.Thread(target=watch, name="make-run-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        sys.exit("usage: python -m devstack.supervise NAME COMMAND")
    sys.exit(supervise(*args))


if __name__ == "__main__":
    main()
