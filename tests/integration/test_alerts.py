import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.alerting.alerts import check_ticks, expire_alerts
from app.extensions import db
from app.market.prices import store_ticks
from app.market.ticks import Tick
from app.models import Alert, AlertEvent, Delivery
from tests.integration.helpers import make_alert, tick


def statuses() -> dict[int, str]:
    return {row.id: row.status for row in db.session.execute(select(Alert.id, Alert.status))}


def test_above_fires_at_or_over_the_threshold_below_at_or_under(ctx):
    above = make_alert("BTC-USD", "above", "100")
    above_miss = make_alert("BTC-USD", "above", "100.01")
    below = make_alert("BTC-USD", "below", "100")
    below_miss = make_alert("BTC-USD", "below", "99.99")
    other_symbol = make_alert("ETH-USD", "below", "1000")
    fired = check_ticks([tick("BTC-USD", "100", 0)]).fired
    assert sorted(a["id"] for a in fired) == [above, below]
    assert statuses() == {
        above: "triggered",
        above_miss: "active",
        below: "triggered",
        below_miss: "active",
        other_symbol: "active",
    }
    assert all(a["triggered_price"] == 100.0 and a["status"] == "triggered" for a in fired)


def test_the_first_crossing_tick_gives_the_price_and_it_fires_once(ctx):
    alert = make_alert("ETH-USD", "above", "3500")
    batch = [tick("ETH-USD", "3499", 0), tick("ETH-USD", "3501", 2), tick("ETH-USD", "3510", 4)]
    fired = check_ticks(batch).fired
    assert [(a["id"], a["triggered_price"]) for a in fired] == [(alert, 3501.0)]
    assert check_ticks(batch).fired == []  # the same ticks again: already triggered


def test_an_alert_whose_condition_already_holds_fires_on_the_next_tick(ctx):
    alert = make_alert("DOGE-USD", "below", "0.5")
    assert [a["id"] for a in check_ticks([tick("DOGE-USD", "0.16", 10)]).fired] == [alert]


def test_ticks_received_before_the_alert_was_made_do_not_fire_it(ctx):
    old = tick("BTC-USD", "200", 0)  # received now, before the alert exists
    alert = make_alert("BTC-USD", "above", "100")
    assert check_ticks([old]).fired == []
    assert statuses() == {alert: "active"}


def test_cancelled_alerts_never_fire(ctx, client):
    alert = make_alert("BTC-USD", "above", "1")
    assert client.delete(f"/api/alerts/{alert}").status_code == 200
    assert check_ticks([tick("BTC-USD", "5", 0)]).fired == []
    assert statuses() == {alert: "cancelled"}


def race(app, batch: list[Tick], checks: int = 4) -> list[list[int]]:
    """Run ``checks`` alert checks of the same batch at once; the ids each one fired."""
    start = threading.Barrier(checks)
    results: list[list[int]] = []
    lock = threading.Lock()

    def check() -> None:
        with app.app_context():
            start.wait()
            fired = [a["id"] for a in check_ticks(batch).fired]
        with lock:
            results.append(fired)

    threads = [threading.Thread(target=check) for _ in range(checks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == checks
    return results


def test_two_checks_racing_on_the_same_ticks_fire_each_alert_exactly_once(app):
    with app.app_context():
        ids = [make_alert("BTC-USD", "above", str(90 + i)) for i in range(60)]
        batch = [tick("BTC-USD", "150", s) for s in range(0, 20, 2)]
    all_fired = [alert_id for fired in race(app, batch) for alert_id in fired]
    assert sorted(all_fired) == sorted(ids)  # every alert fired, none twice
    with app.app_context():
        assert set(statuses().values()) == {"triggered"}


def at(symbol: str, price: str, observed: datetime, received: datetime | None = None) -> Tick:
    return Tick(symbol, Decimal(price), observed, received or datetime.now(UTC), "simulated")


def test_change_compares_with_the_stored_price_one_window_ago(ctx):
    now = datetime.now(UTC)
    history = [at("DOGE-USD", p, now - timedelta(minutes=m)) for p, m in (("0.100", 90), ("0.200", 60), ("0.150", 30))]
    store_ticks(history)
    up = make_alert("DOGE-USD", "change", percent=5, window="1h", direction="up")
    down = make_alert("DOGE-USD", "change", percent=5, window="1h", direction="down")
    wide = make_alert("DOGE-USD", "change", percent=150, window="2h", direction="either")
    # 0.2095 vs 0.200 one hour ago: +4.75 %, nothing; 0.2101: +5.05 %, up fires
    assert check_ticks([at("DOGE-USD", "0.2095", now)]).fired == []
    fired = check_ticks([at("DOGE-USD", "0.2101", now + timedelta(seconds=2))]).fired
    assert [a["id"] for a in fired] == [up]
    event = db.session.execute(select(AlertEvent)).scalar_one()
    assert (event.price, event.reference_price) == (Decimal("0.2101"), Decimal("0.200"))
    # two hours back there is no tick: the oldest one inside the window (0.100) is the reference
    assert [a["id"] for a in check_ticks([at("DOGE-USD", "0.2501", now + timedelta(seconds=4))]).fired] == [wide]
    assert statuses()[down] == "active"


def test_every_time_fires_again_only_after_leaving_and_after_the_cooldown(ctx):
    alert = make_alert("BTC-USD", "above", "100", frequency="every_time", cooldown=60)
    now = datetime.now(UTC)

    def check(price: str, second: int) -> list[int]:
        moment = now + timedelta(seconds=second)
        return [a["id"] for a in check_ticks([at("BTC-USD", price, moment, moment)]).fired]

    assert check("101", 1) == [alert]
    assert check("102", 3) == []  # still above: disarmed
    assert check("99", 5) == []  # left: re-armed
    assert check("101", 7) == []  # back, but within the cooldown of the first fire
    first = db.session.scalar(select(Alert.triggered_at).where(Alert.id == alert))
    assert check("101", int((first - now).total_seconds()) + 61) == [alert]  # past the cooldown, still above
    row = db.session.get(Alert, alert)
    assert (row.status, row.fire_count) == ("active", 2)
    assert db.session.scalar(select(func.count()).select_from(AlertEvent)) == 2


def test_expired_alerts_never_fire_and_are_marked_expired(ctx):
    alert = make_alert("ETH-USD", "above", "1", expires_at=(datetime.now(UTC) + timedelta(seconds=1)).isoformat())
    time.sleep(1.2)
    assert check_ticks([tick("ETH-USD", "3000", 0)]).fired == []
    assert [a["id"] for a in expire_alerts().fired] == [alert]
    assert statuses() == {alert: "expired"}


def test_racing_checks_fire_an_every_time_alert_once_per_occurrence(app):
    with app.app_context():
        ids = [make_alert("ETH-USD", "below", str(5000 + i), frequency="every_time", cooldown=60) for i in range(30)]
        batch = [tick("ETH-USD", "4000", s) for s in range(0, 10, 2)]
    fired = [alert_id for ids_fired in race(app, batch) for alert_id in ids_fired]
    assert sorted(fired) == sorted(ids)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AlertEvent)) == 30


def test_a_fire_records_its_event_and_one_delivery_per_enabled_channel_in_one_go(ctx, client):
    on = client.post("/api/channels", json={"name": "on", "url": "json://127.0.0.1:9/on"}).json["channel"]["id"]
    off = client.post("/api/channels", json={"name": "off", "url": "json://127.0.0.1:9/off"}).json["channel"]["id"]
    client.patch(f"/api/channels/{off}", json={"enabled": False})
    alert = make_alert("BTC-USD", "below", "1000000", channels=[on, off])
    result = check_ticks([tick("BTC-USD", "90000", 0)])
    assert [a["id"] for a in result.fired] == [alert]
    rows = db.session.execute(select(Delivery.id, Delivery.channel_name, Delivery.status)).all()
    assert [(r.channel_name, r.status) for r in rows] == [("on", "pending")]
    assert result.deliveries == [rows[0].id]
    events = client.get(f"/api/alerts/{alert}/events").json["events"]
    assert [(e["price"], [d["channel"] for d in e["deliveries"]]) for e in events] == [(90000.0, ["on"])]


def test_fires_after_an_event_are_given_oldest_first_from_there(ctx, client):
    """What a page whose socket was down asks for on reconnecting (issue 19)."""
    assert client.get("/api/alerts/fired").json == {"fired": [], "last_event_id": 0, "more": False}
    ids = [make_alert("BTC-USD", "above", str(threshold)) for threshold in (100, 200, 300)]
    check_ticks([tick("BTC-USD", "150", 0)])
    first = client.get("/api/alerts/fired").json
    (seen,) = first["fired"]
    assert (seen["alert"]["id"], seen["price"], first["last_event_id"]) == (ids[0], 150.0, seen["event_id"])
    check_ticks([tick("BTC-USD", "250", 2)])
    check_ticks([tick("BTC-USD", "350", 4)])

    missed = client.get(f"/api/alerts/fired?after={seen['event_id']}").json
    assert [(f["alert"]["id"], f["price"]) for f in missed["fired"]] == [(ids[1], 250.0), (ids[2], 350.0)]
    assert missed["last_event_id"] == missed["fired"][-1]["event_id"] and missed["more"] is False
    assert missed["fired"][0]["alert"]["status"] == "triggered" and missed["fired"][0]["fired_at"]

    cut = client.get(f"/api/alerts/fired?after={seen['event_id']}&limit=1").json
    assert ([f["alert"]["id"] for f in cut["fired"]], cut["more"]) == ([ids[1]], True)
    newest = client.get("/api/alerts/fired?limit=2").json
    assert [f["alert"]["id"] for f in newest["fired"]] == ids[1:]  # the newest two, oldest first
    assert client.get(f"/api/alerts/fired?after={missed['last_event_id']}").json["fired"] == []
    for query, field in (("after=-1", "after"), ("after=x", "after"), ("limit=0", "limit"), ("limit=1001", "limit")):
        refused = client.get(f"/api/alerts/fired?{query}")
        assert (refused.status_code, refused.json["field"]) == (400, field), query
