"""Notify benchmark: one batch fires N alerts toward a local webhook channel; every one must be
delivered exactly once. Times the alert-check task (it queues the deliveries and must not wait
for them) and the whole delivery, with the worker exactly as the Procfile starts it."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from celery import Celery
from flask import Flask
from sqlalchemy import func, insert, select, text

from app.extensions import db
from app.market.ticks import Tick
from app.models import Alert, AlertChannel, Channel, Delivery
from config.settings import PROJECT_ROOT, Settings
from devstack.run import process_env, procfile_commands
from devstack.servers import wait_until
from tasks.pipeline import ALERT_TASK

ALERT_ID = re.compile(r"Alert #(\d+):")
CHECK_DONE = re.compile(rf"Task {re.escape(ALERT_TASK)}\[[^\]]+\] succeeded in ([0-9.]+)s")


class Receiver(ThreadingHTTPServer):
    """A webhook on loopback counting the alert ids it is sent, and each copy's Idempotency-Key;
    it answers after ``delay`` seconds (a slow receiver)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.alert_ids: Counter[int] = Counter()
        self.keys: dict[int, list[str]] = {}  # alert id: the key of each copy received
        self.delay = delay
        self.arrived = threading.Event()  # a first message came
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        match = ALERT_ID.search(body["message"])
        alert_id = int(match[1]) if match else -1
        with self.server.lock:
            self.server.alert_ids[alert_id] += 1
            self.server.keys.setdefault(alert_id, []).append(self.headers.get("Idempotency-Key", ""))
        self.server.arrived.set()
        time.sleep(self.server.delay)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class NotifyResult:
    alerts: int
    check_seconds: float
    deliver_seconds: float
    received: int
    duplicates: int
    duplicates_by_key: int  # copies left once the receiver drops those whose Idempotency-Key it saw


def run_notify(
    app: Flask,
    settings: Settings,
    server_env: dict[str, str],
    count: int,
    logs: Path,
    receiver_delay: float = 0.0,
    kill_after: float | None = None,
) -> NotifyResult:
    """Fire ``count`` alerts with one tick through a real worker; wait until all are delivered.
    With ``kill_after``: kill -9 the worker that many seconds after the first message reaches the
    receiver (messages in flight), and start another."""
    receiver = Receiver(receiver_delay)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    with app.app_context():
        db.session.execute(text("TRUNCATE alerts, channels, alert_channels, alert_events, deliveries CASCADE"))
        channel = Channel(name="bench", url=f"json://127.0.0.1:{receiver.server_port}/bench")
        db.session.add(channel)
        db.session.flush()
        ids = db.session.scalars(
            insert(Alert).returning(Alert.id),
            [{"symbol": "BTC-USD", "rule": "above", "direction": "above", "threshold": 1 + i} for i in range(count)],
        ).all()
        db.session.execute(insert(AlertChannel), [{"alert_id": i, "channel_id": channel.id} for i in ids])
        db.session.commit()
    log_path = logs / "bench-worker.log"

    def start_worker() -> subprocess.Popen[bytes]:
        with open(log_path, "ab") as out:
            return subprocess.Popen(  # noqa: S602 - the Procfile's own command line
                procfile_commands()["worker"], shell=True, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
                env=process_env(settings, server_env), start_new_session=True,
            )  # fmt: skip

    log_path.write_bytes(b"")
    worker = start_worker()
    try:
        wait_until(lambda: "ready." in log_path.read_text(), 60, "the worker")
        now = datetime.now(UTC)
        tick = Tick("BTC-USD", Decimal(10 * count), now, now, "simulated")
        broker = Celery("bench", broker=settings.celery_broker_url)
        started = time.perf_counter()
        broker.send_task(ALERT_TASK, ([tick.to_message()],))
        broker.close()
        if kill_after is not None:
            receiver.arrived.wait(120)
            time.sleep(kill_after)
            subprocess.run(["kill", "-9", "--", f"-{worker.pid}"], check=False)  # noqa: S603, S607
            worker.wait(timeout=30)
            worker = start_worker()

        def all_sent() -> bool:
            with app.app_context():
                sent = db.session.scalar(select(func.count()).where(Delivery.status == "sent"))
                db.session.rollback()
            return sent == count

        wait_until(all_sent, 1800, f"{count} deliveries")
        deliver_seconds = time.perf_counter() - started
        time.sleep(2)  # anything sent twice arrives now
        check = CHECK_DONE.search(log_path.read_text())
    finally:
        subprocess.run(["kill", "--", f"-{worker.pid}"], check=False)  # noqa: S603, S607
        worker.wait(timeout=30)
        receiver.shutdown()
        receiver.server_close()
    return NotifyResult(
        alerts=count,
        check_seconds=float(check[1]) if check else float("nan"),
        deliver_seconds=deliver_seconds,
        received=sum(receiver.alert_ids.values()),
        duplicates=sum(n - 1 for n in receiver.alert_ids.values() if n > 1),
        duplicates_by_key=sum(len(set(keys)) - 1 for keys in receiver.keys.values()),
    )
