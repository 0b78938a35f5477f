"""``python -m devstack [run|servers]``: the whole stack, or only the embedded servers."""

from __future__ import annotations

import signal
import sys

from config.logging import configure_logging
from config.settings import load_settings_or_exit
from devstack.run import environment
from devstack.run import main as run_main
from devstack.servers import ServerError, embedded_servers


def servers() -> None:
    """Start the embedded servers, print their URLs as exports, wait for Ctrl-C."""
    settings = load_settings_or_exit(environment())
    configure_logging(settings.log_level)
    with embedded_servers(settings) as running:
        for name, value in running.env.items():
            print(f"export {name}='{value}'", flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    if command == "run":
        run_main()
    elif command == "servers":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            servers()
        except ServerError as exc:
            sys.exit(f"stockticker: {exc}")
    else:
        sys.exit("usage: python -m devstack [run|servers]")
