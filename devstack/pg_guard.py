"""``python -m devstack.pg_guard DATA_DIR``: stops the embedded PostgreSQL in DATA_DIR when the
process that started it is gone, even by kill -9 (which runs no cleanup): the guard gets SIGTERM
then (PDEATHSIG, set by its starter) and asks the postmaster for a fast shutdown (SIGINT).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def stop_postmaster(data_dir: Path) -> None:
    """SIGINT (fast shutdown) to the postmaster of ``data_dir``, if one runs there."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return  # stopped already
    if str(data_dir).encode() in command:  # that pid is still this data folder's postmaster
        os.kill(pid, signal.SIGINT)


def main() -> None:
    data_dir = Path(sys.argv[1]).resolve()
    signal.signal(signal.SIGTERM, lambda *_: (stop_postmaster(data_dir), sys.exit(0)))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
