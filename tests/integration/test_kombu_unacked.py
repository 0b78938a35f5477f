"""A channel closed after its connection was (what Celery does when Redis goes away) with tasks
taken and not acknowledged: kombu 5.7.0 raised AttributeError there and the worker exited."""

from __future__ import annotations

import subprocess
import sys

from config.settings import PROJECT_ROOT

SCRIPT = """
import sys
from kombu import Connection, Queue
if sys.argv[2] == "patched":
    from app.pipeline.kombu_unacked import survive_lost_connection
    survive_lost_connection()
conn = Connection(sys.argv[1])
queue = Queue("unacked-test")
with conn.Producer() as producer:
    producer.publish({"n": 1}, routing_key="unacked-test", declare=[queue])
channel = conn.channel()
taken = []
consumer = conn.Consumer(queue, channel=channel, callbacks=[lambda body, message: taken.append(message)])
consumer.consume()
conn.drain_events(timeout=5)
assert len(channel.qos._delivered) == 1
channel.connection.client = None  # the connection is closed first: the transport forgets its client
try:
    channel.close()
    print("closed")
except AttributeError as exc:
    print(f"AttributeError: {exc}")
"""


def run(url: str, mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url, mode], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    return done.stdout.strip() + done.stderr.strip()


def test_a_lost_connection_with_unacknowledged_tasks_does_not_end_the_worker(settings, redis_client):
    # In a process of its own: a channel left this way must not meet this session's other tests.
    assert run(settings.redis_url, "as is") == "AttributeError: 'NoneType' object has no attribute 'hostname'"
    said = run(settings.redis_url, "patched")
    assert said.startswith("closed") or "closed" in said.splitlines()[0]
    assert "could not give back 1 unacknowledged tasks as the broker connection closed" in said
