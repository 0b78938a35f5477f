"""Pause, snooze, resume and restore (the page's Undo) on the real PostgreSQL, through the API: a
paused or snoozed alert is not checked and says so; each change is recorded; refusals change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from app.alerting.alerts import check_ticks, expire_alerts
from app.extensions import db
from app.models import Alert, Symbol
from tests.integration.helpers import make_alert, tick


def fired(*ticks) -> list[int]:
    return [a["id"] for a in check_ticks(list(ticks)).fired]


def test_a_paused_alert_is_not_checked_until_it_is_resumed(client, ctx):
    alert_id = make_alert("BTC-USD", "above", "100000")
    paused = client.post(f"/api/alerts/{alert_id}/pause")
    assert paused.status_code == 200, paused.json
    shown = paused.json["alert"]
    assert (shown["status"], shown["checked"], shown["paused_at"] is not None) == ("active", False, True)
    assert fired(tick("BTC-USD", "101000", 0)) == []
    assert client.post(f"/api/alerts/{alert_id}/pause").json["alert"]["paused_at"] == shown["paused_at"]  # no-op
    resumed = client.post(f"/api/alerts/{alert_id}/resume").json["alert"]
    assert (resumed["checked"], resumed["paused_at"]) == (True, None)
    assert fired(tick("BTC-USD", "101000", 2)) == [alert_id]
    edits = client.get(f"/api/alerts/{alert_id}/events").json["edits"]
    assert [e["changes"] for e in edits] == [{"paused": [True, False]}, {"paused": [False, True]}]


def test_a_snoozed_alert_is_checked_again_once_the_time_has_come(client, ctx):
    alert_id = make_alert("ETH-USD", "below", "3000", frequency="every_time", cooldown="1m")
    answer = client.post(f"/api/alerts/{alert_id}/snooze", json={"for": "2h"})
    assert answer.status_code == 200, answer.json
    until = datetime.fromisoformat(answer.json["alert"]["snoozed_until"])
    assert timedelta(minutes=119) < until - datetime.now(UTC) <= timedelta(hours=2)
    assert answer.json["alert"]["checked"] is False
    assert fired(tick("ETH-USD", "2900", 0)) == []
    # two hours later (the snooze moved back rather than the clock forward)
    db.session.execute(
        text("UPDATE alerts SET snoozed_until = now() - interval '1 s' WHERE id = :id"), {"id": alert_id}
    )
    db.session.commit()
    shown = client.get(f"/api/alerts/{alert_id}").json["alert"]
    assert (shown["snoozed_until"], shown["checked"]) == (None, True)  # a snooze that ran out is not shown
    assert fired(tick("ETH-USD", "2900", 2)) == [alert_id]


def test_snooze_until_a_time_and_its_refusals(client, ctx):
    alert_id = make_alert("DOGE-USD", "above", "1")
    later = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    answer = client.post(f"/api/alerts/{alert_id}/snooze", json={"until": later.isoformat()})
    assert datetime.fromisoformat(answer.json["alert"]["snoozed_until"]) == later
    version = db.session.scalar(select(Alert.version).where(Alert.id == alert_id))
    refusals = {
        "both": ({"until": later.isoformat(), "for": "1h"}, 422, "until"),
        "neither": ({}, 422, "until"),
        "not an object": ([], 400, "until"),
        "past": ({"until": "2020-01-01T00:00:00Z"}, 422, "until"),
        "too far": ({"for": "31d"}, 422, "for"),
        "not a duration": ({"for": "soon"}, 400, "for"),
    }
    for name, (body, status, field) in refusals.items():
        refused = client.post(f"/api/alerts/{alert_id}/snooze", json=body)
        assert (refused.status_code, refused.json["field"]) == (status, field), name
    db.session.rollback()
    assert db.session.scalar(select(Alert.version).where(Alert.id == alert_id)) == version  # nothing written
    assert client.post("/api/alerts/999999/snooze", json={"for": "1h"}).status_code == 404
    resumed = client.post(f"/api/alerts/{alert_id}/resume").json["alert"]
    assert resumed["snoozed_until"] is None and resumed["checked"] is True


def test_only_an_active_alert_is_paused_and_a_paused_one_still_expires(client, ctx):
    done = make_alert("BTC-USD", "above", "1")
    assert fired(tick("BTC-USD", "5", 0)) == [done]
    refused = client.post(f"/api/alerts/{done}/pause")
    assert refused.status_code == 409 and "triggered" in refused.json["error"]
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    alert_id = make_alert("ETH-USD", "above", "100000", expires_at=soon)
    client.post(f"/api/alerts/{alert_id}/pause")
    db.session.execute(text("UPDATE alerts SET expires_at = now() WHERE id = :id"), {"id": alert_id})
    db.session.commit()
    assert [a["id"] for a in expire_alerts().fired] == [alert_id]
    events = client.get(f"/api/alerts/{alert_id}/events").json["events"]
    assert [(e["kind"], e["price"]) for e in events] == [("expired", None)]


def test_a_cancelled_alert_is_restored_with_its_id_and_fires(client, ctx):
    alert_id = make_alert("DOGE-USD", "change", percent="5", window="1h", frequency="every_time", cooldown="1m")
    windows = lambda: db.session.scalar(select(Symbol.alert_windows).where(Symbol.symbol == "DOGE-USD"))  # noqa: E731
    assert windows() == [3600]
    assert client.delete(f"/api/alerts/{alert_id}").json["alert"]["status"] == "cancelled"
    db.session.rollback()
    assert windows() == []
    restored = client.post(f"/api/alerts/{alert_id}/restore")
    assert restored.status_code == 200, restored.json
    assert (restored.json["alert"]["id"], restored.json["alert"]["status"]) == (alert_id, "active")
    db.session.rollback()
    assert windows() == [3600]  # checked again: its window is looked up
    again = client.post(f"/api/alerts/{alert_id}/restore")
    assert again.status_code == 409 and "active" in again.json["error"]
    edits = client.get(f"/api/alerts/{alert_id}/events").json["edits"]
    assert [e["changes"] for e in edits] == [{"status": ["cancelled", "active"]}]


def test_a_restore_that_would_duplicate_an_active_alert_is_refused(client, ctx):
    first = make_alert("BTC-USD", "below", "90000")
    client.delete(f"/api/alerts/{first}")
    second = make_alert("BTC-USD", "below", "90000")  # the same rule, made again meanwhile
    refused = client.post(f"/api/alerts/{first}/restore")
    assert refused.status_code == 409 and f"#{second}" in refused.json["error"]
    db.session.rollback()
    assert db.session.get(Alert, first, populate_existing=True).status == "cancelled"
