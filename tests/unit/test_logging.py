"""What a person on call reads: a chatty library's repeats held back, a server's outage in one line."""

import logging
import sys

import psycopg2
from sqlalchemy.exc import OperationalError

from app.services import outage_reason
from config.logging import FORMAT, OneLineNetworkErrors, QuietRepeats


def record(name: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.WARNING, __file__, 1, msg, args, None)


def test_a_repeated_kafka_line_passes_once_per_window_then_says_how_many_were_held(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("config.logging.time.monotonic", lambda: clock[0])
    quiet = QuietRepeats(("kafka.",), window=30)
    lost = "Connection lost: %s"
    passed = [quiet.filter(r) for r in (record("kafka.conn", lost, "ECONNREFUSED") for _ in range(5))]
    assert passed == [True, False, False, False, False]
    assert quiet.filter(record("kafka.conn", "Metadata refresh: failed %s", "x"))  # another line: its own count
    assert quiet.filter(record("tasks.fetch", lost, "y"))  # not a chatty library: never held
    clock[0] += 31
    again = record("kafka.conn", lost, "ECONNREFUSED")
    assert quiet.filter(again)
    assert again.getMessage() == "Connection lost: ECONNREFUSED [4 more like this in the last 31 s]"
    clock[0] += 31
    third = record("kafka.conn", lost, "ECONNREFUSED")
    assert quiet.filter(third) and third.getMessage() == "Connection lost: ECONNREFUSED"


def test_an_outage_is_told_by_the_drivers_first_line_without_the_sql():
    driver = psycopg2.OperationalError('connection to server on socket "/x/.s.PGSQL.5432" failed\n\tIs it running?')
    wrapped = OperationalError("SELECT symbol FROM symbols WHERE active", {}, driver)
    assert outage_reason(wrapped) == 'connection to server on socket "/x/.s.PGSQL.5432" failed'
    assert outage_reason(ConnectionError("Error 111 connecting to 127.0.0.1:6379.")) == (
        "Error 111 connecting to 127.0.0.1:6379."
    )
    assert outage_reason(TimeoutError()) == "TimeoutError"


def logged(name: str, error: BaseException) -> str:
    """One record of ``name`` logged with ``error`` as its exception, through our filter and format."""
    try:
        raise error
    except BaseException:
        record = logging.getLogger(name).makeRecord(
            name, logging.ERROR, __file__, 1, "%s: Error receiving network data closing socket", ("<conn>",),
            sys.exc_info(),
        )  # fmt: skip
    assert OneLineNetworkErrors(("kafka.",)).filter(record)
    return logging.Formatter(FORMAT).format(record)


def test_a_dropped_kafka_connection_is_one_line_without_the_librarys_traceback():
    line = logged("kafka.net.transport", ConnectionResetError(104, "Connection reset by peer 100%"))
    assert "Traceback" not in line
    said = "ConnectionResetError: [Errno 104] Connection reset by peer 100%"
    assert line.endswith(f"<conn>: Error receiving network data closing socket: {said}")
    # Ours, or not a network error: the traceback stays (it is a bug to read).
    assert "Traceback" in logged("tasks.bridge", ConnectionResetError(104, "reset"))
    assert "Traceback" in logged("kafka.net.transport", ValueError("bad frame"))
