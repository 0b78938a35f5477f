"""Notification channels end to end: the real stack's worker sends through apprise to a real
local webhook (pytest-httpserver) and a real SMTP server (aiosmtpd). No mocks of either."""

from __future__ import annotations

import email
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import Message
from zoneinfo import ZoneInfo

import pytest
import redis
import requests
from aiosmtpd.controller import Controller
from celery import Celery
from pytest_httpserver import HTTPServer
from sqlalchemy import select, text
from werkzeug import Request, Response

from app.alerting.alerts import check_ticks
from app.alerting.channels import send
from app.extensions import db
from app.market.ticks import Tick
from app.models import Delivery
from devstack.processes import Stack, running_stack
from devstack.run import procfile_commands
from devstack.servers import free_port
from tasks.notify import DELIVER_TASK, NOTIFY_QUEUE
from tests.integration.helpers import pool_children, wait_for

SECRET = "tok-8f3a9c1e77d2"  # in every channel URL; must never show outside the channels table
PASSWORD = "pw-5be0c4d9a1"
RETRY_SECONDS = 0.3
MAX_ATTEMPTS = 3


class Inbox:
    """aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def texts(self) -> list[str]:
        return [part.get_payload(decode=True).decode() for m in self.messages for part in m.walk()
                if part.get_content_type() == "text/plain"]  # fmt: skip


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="module")
def stack(app, server_env, tmp_path_factory) -> Iterator[Stack]:
    """The stack with quick retries, few attempts and a short visibility timeout."""
    with running_stack(
        server_env,
        tmp_path_factory.mktemp("notify-logs"),
        NOTIFY_RETRY_SECONDS=str(RETRY_SECONDS),
        NOTIFY_MAX_ATTEMPTS=str(MAX_ATTEMPTS),
        NOTIFY_TIMEOUT_SECONDS="3",
        BROKER_VISIBILITY_TIMEOUT_SECONDS="15",
        PUBLIC_URL="https://ticker.example.org/",
        TIMEZONE="America/New_York",
    ) as running:
        yield running


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.seen: list[str] = []  # every response body, to look for secrets in

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        response = requests.request(method, f"{self.base_url}{path}", timeout=15, **kwargs)
        self.seen.append(response.text)
        return response

    def channel(self, name: str, url: str) -> int:
        created = self.call("POST", "/api/channels", json={"name": name, "url": url})
        assert created.status_code == 201, created.text
        return created.json()["channel"]["id"]

    def alert(self, **body) -> int:
        created = self.call("POST", "/api/alerts", json=body)
        assert created.status_code == 201, created.text
        return created.json()["alert"]["id"]

    def events(self, alert_id: int) -> list[dict]:
        return self.call("GET", f"/api/alerts/{alert_id}/events").json()["events"]


@pytest.fixture
def api(stack: Stack) -> Api:
    return Api(stack.base_url)


def webhook_url(server: HTTPServer, path: str = "hook") -> str:
    return f"json://127.0.0.1:{server.port}/{path}/{SECRET}"


def mail_url(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?from=ticker@example.com&to=me@example.com&mode=insecure&pass={PASSWORD}"


def posts(server: HTTPServer) -> list[dict]:
    return [json.loads(request.get_data()) for request, response in server.log if response.status_code == 200]


def deliveries(app) -> list[Delivery]:
    with app.app_context():
        rows = list(db.session.scalars(select(Delivery).order_by(Delivery.id)))
        db.session.expunge_all()
        return rows


def assert_no_secret(*texts: str) -> None:
    for seen in texts:
        assert SECRET not in seen and PASSWORD not in seen


def test_channels_are_created_masked_tested_and_deleted(api, httpserver: HTTPServer):
    httpserver.expect_request(f"/hook/{SECRET}", method="POST").respond_with_data("ok")
    channel_id = api.channel("phone", webhook_url(httpserver))
    listed = api.call("GET", "/api/channels").json()["channels"]
    assert [(c["id"], c["name"], c["url"], c["service"], c["enabled"]) for c in listed] == [
        (channel_id, "phone", f"json://127.0.0.1:{httpserver.port}/***", "JSON", True)
    ]
    tested = api.call("POST", f"/api/channels/{channel_id}/test").json()
    assert tested == {"channel": channel_id, "sent": True, "error": None}
    assert "test of the channel 'phone'" in posts(httpserver)[0]["message"]

    assert api.call("POST", "/api/channels", json={"name": "phone", "url": "ntfy://other"}).status_code == 409
    bad = api.call("POST", "/api/channels", json={"name": "x", "url": f"nosuch://{SECRET}"})
    assert bad.status_code == 422 and bad.json()["field"] == "url"  # a scheme://, which apprise lacks
    assert "apprise does not know the scheme 'nosuch'" in bad.json()["error"]
    off = api.call("PATCH", f"/api/channels/{channel_id}", json={"enabled": False})
    assert off.json()["channel"]["enabled"] is False
    assert api.call("PATCH", f"/api/channels/{channel_id}", json={"enabled": "no"}).json()["field"] == "enabled"
    assert api.call("DELETE", f"/api/channels/{channel_id}").status_code == 200
    assert api.call("DELETE", f"/api/channels/{channel_id}").status_code == 404
    assert api.call("GET", "/api/channels").json()["channels"] == []
    assert_no_secret(*api.seen)


def test_a_test_send_to_a_dead_receiver_says_why_without_the_secret(api):
    channel_id = api.channel("dead", f"json://127.0.0.1:{free_port()}/hook/{SECRET}")
    tested = api.call("POST", f"/api/channels/{channel_id}/test").json()
    assert tested["sent"] is False
    assert "Connection error" in tested["error"]
    assert_no_secret(*api.seen)


def test_an_alert_with_two_channels_fires_once_one_post_and_one_email(api, app, stack, httpserver, smtp):
    inbox, smtp_port = smtp
    httpserver.expect_request(f"/hook/{SECRET}", method="POST").respond_with_data("ok")
    hook = api.channel("hook", webhook_url(httpserver))
    mail = api.channel("mail", mail_url(smtp_port))
    alert_id = api.alert(symbol="BTC-USD", rule="above", threshold=1, note="time to sell", channels=[hook, mail])

    def sent() -> bool:
        return [d.status for d in deliveries(app)] == ["sent", "sent"]

    wait_for(sent, 45, "both deliveries sent")
    time.sleep(4)  # two more ticks and a sweep: nothing may be sent again
    assert len(posts(httpserver)) == 1 and len(inbox.messages) == 1
    body = posts(httpserver)[0]
    event = api.events(alert_id)
    assert len(event) == 1
    price = f"{event[0]['price']:,.2f}"
    assert body["title"] == "Stock Ticker: BTC-USD rose above 1.0000"
    # Once, in TIMEZONE, named (issue 20: twice, in UTC only).
    when = datetime.fromisoformat(event[0]["observed_at"]).astimezone(ZoneInfo("America/New_York"))
    for message in (body["message"], inbox.texts()[0]):
        assert f"Price: {price} at {when:%Y-%m-%d %H:%M:%S} {when:%Z} Alert #" in " ".join(message.split())
        assert "UTC" not in message and "+00:00" not in message
        assert "Note: time to sell" in message and "Dashboard: https://ticker.example.org/" in message
    assert inbox.messages[0]["Subject"] == "Stock Ticker: BTC-USD rose above 1.0000"
    # One stable key per delivery, in a header a receiver can drop a retry's copy by.
    keys = {f"stockticker-delivery-{d.id}" for d in deliveries(app)}
    assert {httpserver.log[0][0].headers["Idempotency-Key"], inbox.messages[0]["Idempotency-Key"]} == keys
    assert sorted((d["channel"], d["status"], d["attempts"]) for d in event[0]["deliveries"]) == [
        ("hook", "sent", 1),
        ("mail", "sent", 1),
    ]
    alert = api.call("GET", "/api/alerts?status=triggered").json()["alerts"][0]
    assert [c["name"] for c in alert["channels"]] == ["hook", "mail"]
    assert [d["status"] for d in alert["last_deliveries"]] == ["sent", "sent"]
    assert_no_secret(*api.seen, api.call("GET", "/api/status").text, stack.dump_logs())


def test_a_receiver_failing_twice_gets_one_message_on_the_third_attempt(api, app, httpserver):
    answers = iter([500, 500])

    def flaky(request: Request) -> Response:
        return Response("busy", status=next(answers, 200))

    httpserver.expect_request(f"/hook/{SECRET}", method="POST").respond_with_handler(flaky)
    api.alert(symbol="ETH-USD", rule="above", threshold=1, channels=[api.channel("flaky", webhook_url(httpserver))])
    wait_for(lambda: [d.status for d in deliveries(app)] == ["sent"], 45, "the delivery sent")
    assert [d.attempts for d in deliveries(app)] == [3]
    assert [r.status_code for _, r in httpserver.log] == [500, 500, 200]
    assert len(posts(httpserver)) == 1
    assert len({request.headers["Idempotency-Key"] for request, _ in httpserver.log}) == 1  # one key, 3 tries
    # the two failures made it failing; the message it took made it healthy again
    channel = api.call("GET", "/api/channels").json()["channels"][0]
    assert (channel["failing_since"], channel["last_error"]) == (None, None)
    assert channel["last_sent_at"] > channel["last_error_at"]


def test_a_receiver_slower_than_apprises_own_4_s_is_waited_for_up_to_the_timeout(httpserver: HTTPServer):
    """apprise reads for 4 s by default; a receiver that answers in 5 s within an 8 s timeout took
    the message once, and the send says so (issue 19: it was cut at 4 s and sent again)."""

    def slow(request: Request) -> Response:
        time.sleep(5)
        return Response("ok")

    httpserver.expect_request(f"/hook/{SECRET}", method="POST").respond_with_handler(slow)
    assert send(webhook_url(httpserver), "title", "body", timeout=8, key="k-1") is None
    assert len(httpserver.log) == 1 and httpserver.log[0][0].headers["Idempotency-Key"] == "k-1"


def test_a_receiver_down_for_good_fails_while_the_other_channel_is_sent(api, app, stack, httpserver):
    httpserver.expect_request(f"/hook/{SECRET}", method="POST").respond_with_data("ok")
    dead = api.channel("dead", f"json://127.0.0.1:{free_port()}/down/{SECRET}")
    alive = api.channel("alive", webhook_url(httpserver))
    api.alert(symbol="DOGE-USD", rule="above", threshold="0.000001", channels=[dead, alive])

    def settled() -> list[Delivery] | None:
        rows = deliveries(app)
        return rows if sorted(d.status for d in rows) == ["failed", "sent"] else None

    rows = {d.channel_name: d for d in wait_for(settled, 60, "one delivery failed, one sent")}
    assert rows["dead"].attempts == MAX_ATTEMPTS and "Connection error" in rows["dead"].last_error
    assert rows["alive"].attempts == 1 and len(posts(httpserver)) == 1
    # the channel says it is failing, since its first attempt, with the error, here and on the alert
    channels = {c["name"]: c for c in api.call("GET", "/api/channels").json()["channels"]}
    assert channels["dead"]["last_error"] == rows["dead"].last_error
    assert datetime.fromisoformat(channels["dead"]["failing_since"]) < rows["dead"].next_attempt_at
    assert (channels["alive"]["failing_since"], channels["alive"]["last_error"]) == (None, None)
    alert = api.call("GET", "/api/alerts").json()["alerts"][0]
    on_alert = {c["name"]: (c["failing_since"], c["last_error"]) for c in alert["channels"]}
    assert on_alert == {
        "alive": (None, None),
        "dead": (channels["dead"]["failing_since"], channels["dead"]["last_error"]),
    }
    assert_no_secret(rows["dead"].last_error, stack.dump_logs(), *api.seen)


def test_an_expired_alert_tells_its_channel_once(api, app, httpserver):
    httpserver.expect_request(f"/hook/{SECRET}", method="POST").respond_with_data("ok")
    hook = api.channel("hook", webhook_url(httpserver))
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    alert_id = api.alert(symbol="BTC-USD", rule="above", threshold=10**9, expires_at=soon, channels=[hook], note="x")
    # the sweep (every 10 s) expires it and queues the message
    wait_for(lambda: [d.status for d in deliveries(app)] == ["sent"], 45, "the expiry told to the channel")
    [post] = posts(httpserver)
    assert post["title"] == "Stock Ticker: alert on BTC-USD expired (at or above 1,000,000,000.00)"
    assert f"Alert #{alert_id} on BTC-USD expired at " in post["message"] and "it never fired." in post["message"]
    assert api.call("GET", f"/api/alerts/{alert_id}").json()["alert"]["status"] == "expired"
    assert [(e["kind"], e["price"], len(e["deliveries"])) for e in api.events(alert_id)] == [("expired", None, 1)]
    time.sleep(1)
    assert len(posts(httpserver)) == 1


def postdated_alerts(api: Api, app, seconds: int, **body) -> list[int]:
    """Alerts that count only ticks received ``seconds`` from now: the running pipeline's ticks
    cannot fire them, only the test's own (deterministic, no race with the beat)."""
    ids = [api.alert(**body, threshold=t) for t in body.pop("thresholds")]
    with app.app_context():
        db.session.execute(
            text("UPDATE alerts SET created_at = now() + make_interval(secs => :s) WHERE id = ANY(:ids)"),
            {"s": seconds, "ids": ids},
        )
        db.session.commit()
    return ids


def future_tick(symbol: str, price: str, seconds: int) -> Tick:
    now = datetime.now(UTC)
    return Tick(symbol, Decimal(price), now, now + timedelta(seconds=seconds), "simulated")


def send_deliver_tasks(settings, delivery_ids: list[int]) -> None:
    broker = Celery("kill-test", broker=settings.redis_url)
    for delivery_id in delivery_ids:
        broker.send_task(DELIVER_TASK, (delivery_id,), queue=NOTIFY_QUEUE)
    broker.close()


def test_kill_9_of_the_worker_between_firing_and_sending_loses_and_repeats_nothing(
    api, app, stack, settings, httpserver, smtp
):
    inbox, smtp_port = smtp
    httpserver.expect_request(f"/hook/{SECRET}", method="POST").respond_with_data("ok")
    channels = [api.channel("hook", webhook_url(httpserver)), api.channel("mail", mail_url(smtp_port))]
    alert_ids = postdated_alerts(api, app, 3600, symbol="BTC-USD", rule="above", thresholds=[1, 2], channels=channels)
    stack.stop("beat")  # no pipeline tasks meanwhile: the worker's prefetch slots are for these
    children = wait_for(lambda: pool_children(stack), 10, "the worker's pool processes")
    for pid in children:
        os.kill(pid, signal.SIGSTOP)  # the pool takes tasks but runs none
    try:
        with app.app_context():
            result = check_ticks([future_tick("BTC-USD", "100", 3601)])  # fired here, sent by the worker
        assert sorted(a["id"] for a in result.fired) == alert_ids and len(result.deliveries) == 4
        send_deliver_tasks(settings, result.deliveries)
        client = redis.Redis.from_url(settings.redis_url)
        wait_for(lambda: client.llen(NOTIFY_QUEUE) == 0, 15, "the worker to take the tasks")
        held = [m.decode() for m in client.hvals("unacked")]
        assert held and not any(SECRET in m or PASSWORD in m for m in held)  # ids only, never a URL
        client.close()
    finally:
        stack.kill("worker")  # kill -9 the whole group; stopped processes die too
    assert posts(httpserver) == [] and inbox.messages == []
    killed_at = time.monotonic()
    commands = procfile_commands()
    stack.start("worker", commands["worker"])
    stack.start("beat", commands["beat"])
    wait_for(lambda: [d.status for d in deliveries(app)] == ["sent"] * 4, 60, "every delivery sent after the restart")
    recovery = time.monotonic() - killed_at
    send_deliver_tasks(settings, result.deliveries)  # duplicated tasks must send nothing
    time.sleep(3)
    titles = sorted(p["title"] for p in posts(httpserver))
    assert titles == ["Stock Ticker: BTC-USD rose above 1.0000", "Stock Ticker: BTC-USD rose above 2.0000"]
    assert len(inbox.messages) == 2
    assert [d.attempts for d in deliveries(app)] == [1] * 4
    print(f"every delivery sent {recovery:.1f} s after the worker's restart")


def test_a_bad_alert_body_writes_nothing(api, app):
    cases = [
        ({"symbol": "BTC-USD", "rule": "above", "threshold": 1, "channels": [424242]}, 422, "channels"),
        ({"symbol": "BTC-USD", "rule": "change", "percent": 5, "window": "1m"}, 422, "window"),
        ({"symbol": "BTC-USD", "rule": "falls", "threshold": 1}, 400, "rule"),
    ]
    for body, status, field in cases:
        response = api.call("POST", "/api/alerts", json=body)
        assert (response.status_code, response.json()["field"]) == (status, field)
    assert api.call("GET", "/api/alerts").json()["alerts"] == []


def test_the_sweep_queues_a_delivery_whose_task_was_never_sent(api, app, httpserver):
    """The check committed the delivery but the worker died before queueing it."""
    httpserver.expect_request(f"/hook/{SECRET}", method="POST").respond_with_data("ok")
    hook = api.channel("hook", webhook_url(httpserver))
    postdated_alerts(api, app, 3600, symbol="ETH-USD", rule="below", thresholds=[10**9], channels=[hook])
    with app.app_context():
        fired = check_ticks([future_tick("ETH-USD", "3000", 3601)])  # nobody queues its delivery
    assert len(fired.deliveries) == 1
    wait_for(lambda: [d.status for d in deliveries(app)] == ["sent"], 45, "the sweep to queue and send it")
    assert len(posts(httpserver)) == 1


def test_a_portfolio_total_and_a_daily_summary_reach_their_channel_once(api, app, httpserver):
    """Through the running stack: the total alert fires in the pipeline's own alert check, the
    summary in the beat's sweep; each is posted once, in words."""
    httpserver.expect_request(f"/hook/{SECRET}", method="POST").respond_with_data("ok")
    hook = api.channel("hook", webhook_url(httpserver))
    bought = api.call("POST", "/api/transactions", json={"symbol": "BTC-USD", "side": "buy", "quantity": "0.001",
                                                          "price": "1", "date": "2026-01-05"})  # fmt: skip
    assert bought.status_code == 201, bought.text
    total = api.alert(rule="total", direction="above", threshold="1", channels=[hook])
    wait_for(lambda: len(posts(httpserver)) == 1, 30, "the total alert's message")
    [post] = posts(httpserver)
    assert re.fullmatch(r"Stock Ticker: portfolio worth [0-9,]+\.[0-9]{2} USD \(at or above 1\.00 USD\)", post["title"])
    assert api.call("GET", f"/api/alerts/{total}").json()["alert"]["status"] == "triggered"
    local = datetime.now(UTC).astimezone(ZoneInfo("America/New_York"))
    daily = api.alert(rule="daily", at=f"{local:%H:%M}", channels=[hook], note="end of day")
    assert api.call("GET", f"/api/alerts/{daily}").json()["alert"]["timezone"] == "America/New_York"  # TIMEZONE
    with app.app_context():  # made after today's time: as if made yesterday, today's is due now
        db.session.execute(
            text("UPDATE alerts SET created_at = now() - interval '1 day' WHERE id = :id"), {"id": daily}
        )
        db.session.commit()
    wait_for(lambda: len(posts(httpserver)) == 2, 30, "the daily summary, sent by the sweep")
    summary = posts(httpserver)[1]
    assert summary["title"] == f"Stock Ticker: portfolio summary, {local:%Y-%m-%d}"
    lines = summary["message"].splitlines()
    assert re.fullmatch(rf"Portfolio on {local:%Y-%m-%d %H:%M} E[SD]T: [0-9,]+\.[0-9]{{2}} USD", lines[0])
    assert lines[2].startswith("BTC-USD: 0.001 worth ")
    assert f"Alert #{daily}: portfolio summary every day at {local:%H:%M} (America/New_York)" in lines
    assert "Note: end of day" in lines
    [event] = api.events(daily)
    assert summary["message"].startswith(event["detail"] + "\n")  # the text kept with the event
    time.sleep(11)  # another sweep: the day's summary went out
    assert len(posts(httpserver)) == 2
