"""Editing an alert in place (PATCH /api/alerts/<id>) on the real PostgreSQL: the id, fires and
deliveries stay, the edit is recorded, refusals change nothing, and an edit racing a fire keeps both."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, text

from app.alerting.alerts import check_ticks
from app.alerting.channels import create_channel
from app.alerting.edits import edit_alert
from app.extensions import db
from app.models import Alert, AlertChannel, AlertEvent
from tests.integration.helpers import make_alert, tick


def stored(alert_id: int) -> tuple:
    db.session.rollback()  # a fresh snapshot
    alert = db.session.get(Alert, alert_id, populate_existing=True)
    channels = sorted(db.session.scalars(select(AlertChannel.channel_id).where(AlertChannel.alert_id == alert_id)))
    return (
        alert.rule, alert.direction, alert.threshold, alert.change_percent, alert.window_seconds, alert.frequency,
        alert.cooldown_seconds, alert.expires_at, alert.note, alert.status, alert.version, channels,
    )  # fmt: skip


def test_an_edit_keeps_the_alert_its_fires_and_says_what_changed(client, ctx):
    phone = create_channel({"name": "phone", "url": "json://127.0.0.1:9/hook"})["id"]
    alert_id = make_alert("BTC-USD", "above", "100000", frequency="every_time", cooldown="1m", channels=[phone])
    check_ticks([tick("BTC-USD", "100500", 0)])  # fires once
    answer = client.patch(f"/api/alerts/{alert_id}", json={"threshold": "105,000", "note": "take profit"})
    assert answer.status_code == 200, answer.json
    alert = answer.json["alert"]
    assert (alert["id"], alert["threshold"], alert["note"]) == (alert_id, 105000.0, "take profit")
    assert alert["fire_count"] == 1
    assert alert["condition"] == "at or above 105,000.00"
    healthy = {"enabled": True, "failing_since": None, "last_error": None}
    assert alert["channels"] == [{"id": phone, "name": "phone"} | healthy] and alert["status"] == "active"
    assert client.get(f"/api/alerts/{alert_id}").json["alert"] == alert
    history = client.get(f"/api/alerts/{alert_id}/events").json
    assert len(history["events"]) == 1  # the fire before the edit, with its delivery
    assert history["events"][0]["deliveries"][0]["channel"] == "phone"
    changes = [e["changes"] for e in history["edits"]]
    assert changes == [{"threshold": ["100000", "105000"], "note": ["", "take profit"]}]
    # The new condition is armed afresh: the next tick at the new level, past the cooldown, fires.
    later = tick("BTC-USD", "105001", 120)
    fired = check_ticks([replace(later, received_at=later.received_at + timedelta(minutes=2))]).fired
    assert [(f["id"], f["fire_count"]) for f in fired] == [(alert_id, 2)]


def test_an_edit_to_another_kind_of_rule_frequency_expiry_and_channels(client, ctx):
    phone = create_channel({"name": "phone", "url": "json://127.0.0.1:9/hook"})["id"]
    alert_id = make_alert("ETH-USD", "below", "3000", expires_at="2099-01-01T00:00:00Z", channels=[phone])
    answer = client.patch(
        f"/api/alerts/{alert_id}",
        json={"rule": "change", "percent": 5, "window": "1h", "frequency": "every_time", "expires_at": None,
              "channels": None},
    )  # fmt: skip
    assert answer.status_code == 200, answer.json
    alert = answer.json["alert"]
    assert (alert["rule"], alert["direction"], alert["threshold"], alert["percent"], alert["window"]) == (
        "change", "either", None, 5.0, 3600,
    )  # fmt: skip
    assert (alert["frequency"], alert["cooldown"]) == ("every_time", 300)  # the default cooldown
    assert (alert["expires_at"], alert["channels"]) == (None, [])
    changes = client.get(f"/api/alerts/{alert_id}/events").json["edits"][0]["changes"]
    assert changes == {
        "rule": ["below", "change"], "direction": ["below", "either"], "threshold": ["3000", None],
        "percent": [None, "5"], "window": [None, 3600], "frequency": ["once", "every_time"], "cooldown": [0, 300],
        "expires_at": ["2099-01-01T00:00:00+00:00", None], "channels": [[phone], []],
    }  # fmt: skip


def test_an_edit_that_changes_nothing_is_no_edit(client, ctx):
    alert_id = make_alert("BTC-USD", "above", "100000")
    before = stored(alert_id)
    for body in ({}, {"threshold": "100,000.00"}, {"symbol": "btc-usd"}):
        answer = client.patch(f"/api/alerts/{alert_id}", json=body)
        assert (answer.status_code, answer.json["alert"]["threshold"]) == (200, 100000.0)
    assert stored(alert_id) == before
    assert client.get(f"/api/alerts/{alert_id}/events").json["edits"] == []


def test_refused_edits_name_the_field_and_change_nothing(client, ctx):
    alert_id = make_alert("BTC-USD", "above", "100000")
    other = make_alert("BTC-USD", "above", "110000")
    before = stored(alert_id)
    for body, status, error, field in [
        ({"symbol": "ETH-USD"}, 422, "symbol cannot change: make a new alert for another symbol", "symbol"),
        ({"threshold": "lots"}, 400, "threshold must be a number", "threshold"),
        ({"threshold": None}, 422, "threshold is required for the above rule", "threshold"),
        ({"rule": "change"}, 422, "percent is required for a change rule", "percent"),
        ({"cooldown": 60}, 422, "cooldown applies only to every_time alerts", "cooldown"),
        ({"channels": [999]}, 422, "no channel with id 999", "channels"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, 422, "expires_at must be in the future", "expires_at"),
    ]:
        answer = client.patch(f"/api/alerts/{alert_id}", json=body)
        assert (answer.status_code, answer.json) == (status, {"error": error, "field": field}), body
    same = client.patch(f"/api/alerts/{alert_id}", json={"threshold": 110000})
    assert same.status_code == 409
    identical = f"an identical alert is already active: #{other} BTC-USD at or above 110,000.00, once"
    assert same.json["error"] == identical
    assert stored(alert_id) == before
    assert client.patch("/api/alerts/999", json={"note": "x"}).status_code == 404
    assert client.patch(f"/api/alerts/{alert_id}", json=[1]).status_code == 400


def test_only_an_active_alert_is_edited(client, ctx):
    alert_id = make_alert("BTC-USD", "above", "100000")
    check_ticks([tick("BTC-USD", "100001", 0)])  # once: triggered
    answer = client.patch(f"/api/alerts/{alert_id}", json={"threshold": 120000})
    assert (answer.status_code, answer.json) == (
        409, {"error": f"alert {alert_id} is triggered: only an active alert can be edited", "field": None},
    )  # fmt: skip


def test_an_edit_racing_a_fire_keeps_both(app, ctx):
    """The edit reads the alert, a fire commits right after that read, the edit's UPDATE finds a
    new version, reads again and applies over what the fire left."""
    alert_id = make_alert("BTC-USD", "above", "100000", frequency="every_time", cooldown="1m")
    fired = threading.Event()

    def fire() -> None:
        with app.app_context():
            check_ticks([tick("BTC-USD", "100500", 0)])
            fired.set()

    real_get = db.session.get
    calls = []

    def get_then_fire(*args, **kwargs):
        found = real_get(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:  # after the edit's first read: the fire commits a new version (a read locks nothing)
            worker = threading.Thread(target=fire)
            worker.start()
            worker.join(timeout=30)
            assert fired.is_set()
        return found

    db.session.get = get_then_fire
    try:
        edited = edit_alert(alert_id, {"threshold": 101000})
    finally:
        db.session.get = real_get
    assert (edited["threshold"], edited["fire_count"]) == (101000.0, 1)  # the edit and the fire
    assert len(calls) >= 3  # read, stale update, read again (and the answer's read)
    assert db.session.scalar(select(text("count(*)")).select_from(AlertEvent)) == 1
