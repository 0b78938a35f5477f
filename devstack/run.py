"""``make run``: embedded servers (or the configured ones), setup, then every process.

Each process's lines are prefixed by its name (honcho). A process that exits by
itself is started again (devstack/supervise.py). Ctrl-C or SIGTERM stops the
processes first, then the servers this command started.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from honcho.environ import parse_procfile
from honcho.manager import Manager

from config.logging import configure_logging
from config.settings import PROJECT_ROOT, Settings, load_settings_or_exit
from devstack import supervise
from devstack.servers import ServerError, check_port_free, embedded_servers

log = logging.getLogger("devstack")
PROCFILE = PROJECT_ROOT / "Procfile"
DOTENV = PROJECT_ROOT / ".env"
# make run's terminal says what a person must act on (warnings, errors, restarts) and the URLs
# once all is up; LOG_LEVEL=INFO (in the environment or .env) brings back every task's line.
RUN_LOG_LEVEL = "WARNING"
UP_WITHIN_SECONDS = 120.0


def environment(dotenv: Path = DOTENV) -> dict[str, str]:
    """The settings' environment: the ``.env`` file's values under the process environment, as
    honcho and foreman read it (a variable set in the shell wins over the file's line)."""
    from_file = dotenv_values(dotenv) if dotenv.is_file() else {}
    return {name: value for name, value in from_file.items() if value is not None} | dict(os.environ)


def procfile_commands() -> dict[str, str]:
    """The process commands, by name: the same ones docker-compose runs."""
    return dict(parse_procfile(PROCFILE.read_text()).processes)


def process_env(
    settings: Settings, server_env: dict[str, str], base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment every process gets: ``base`` (ours), plus the servers' URLs and Flower's options."""
    venv_bin = str(Path(sys.executable).parent)
    env = dict(os.environ if base is None else base) | server_env
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("FLOWER_PORT", str(settings.flower_port))
    env[supervise.MAKE_RUN_PID] = str(os.getpid())  # the supervisors stop when this process is gone
    # Flower's JSON API answers 401 without auth; on a developer's machine it is open.
    env.setdefault("FLOWER_UNAUTHENTICATED_API", "true")
    return env


def announce_when_up(settings: Settings, deadline: float = UP_WITHIN_SECONDS) -> None:
    """Print the URLs once /healthz says all is up (servers, stages, a fresh price); if it has not
    within ``deadline`` seconds, say what it says instead."""
    health = f"http://127.0.0.1:{settings.web_port}/healthz"
    started = time.monotonic()
    verdict = "the web process does not answer"
    while time.monotonic() - started < deadline:
        try:
            with urllib.request.urlopen(health, timeout=2) as answer:  # noqa: S310 - our own URL
                if answer.status == 200:
                    break
        except urllib.error.HTTPError as exc:  # 503: which check fails
            verdict = exc.read().decode(errors="replace")
        except OSError:
            pass
        time.sleep(0.5)
    else:
        print(f"stockticker: not healthy after {deadline:.0f} s: {verdict}", flush=True)
    login = f", sign in as {settings.auth_username}" if settings.auth_enabled else ""
    quiet = settings.log_level in ("WARNING", "ERROR")
    print(
        f"\nStock Ticker is up: http://localhost:{settings.web_port}{login}  "
        f"(Flower: http://localhost:{settings.flower_port})\n"
        "Ctrl-C stops everything."
        + (" Only warnings and errors show here; LOG_LEVEL=INFO shows every task.\n" if quiet else "\n"),
        flush=True,
    )


def run() -> int:
    base = environment()
    base.setdefault("LOG_LEVEL", RUN_LOG_LEVEL)
    settings = load_settings_or_exit(base)
    configure_logging(settings.log_level)
    check_port_free(settings.web_port, "WEB_PORT")
    check_port_free(settings.flower_port, "FLOWER_PORT")
    with embedded_servers(settings) as servers:
        env = process_env(settings, servers.env, base)
        log.info("setting up the database and the Kafka topic")
        subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "flask", "--app", "wsgi", "setup"], env=env, cwd=PROJECT_ROOT, check=True
        )
        manager = Manager()
        for name, cmd in procfile_commands().items():
            # Restarted when it exits by itself (with backoff, said in one line): one process that
            # dies does not stop the others, as honcho alone would.
            supervised = f"exec {shlex.quote(sys.executable)} -m devstack.supervise {name} {shlex.quote(cmd)}"
            manager.add_process(name, supervised, env=env, cwd=str(PROJECT_ROOT))
        threading.Thread(target=announce_when_up, args=(settings,), name="announce", daemon=True).start()
        manager.loop()
        return int(manager.returncode or 0)


def main() -> None:
    try:
        sys.exit(run())
    except ServerError as exc:
        sys.exit(f"stockticker: {exc}")
    except subprocess.CalledProcessError as exc:
        sys.exit(f"stockticker: setup failed (exit {exc.returncode}); see the lines above")


if __name__ == "__main__":
    main()
