import threading

from sqlalchemy import select

from app.alerts import check_ticks
from app.extensions import db
from app.models import Alert
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


def test_two_checks_racing_on_the_same_ticks_fire_each_alert_exactly_once(app):
    with app.app_context():
        ids = [make_alert("BTC-USD", "above", str(90 + i % 10)) for i in range(60)]
        batch = [tick("BTC-USD", "150", s) for s in range(0, 20, 2)]
    start = threading.Barrier(4)
    results: list[list[int]] = []
    lock = threading.Lock()

    def check() -> None:
        with app.app_context():
            start.wait()
            fired = [a["id"] for a in check_ticks(batch).fired]
        with lock:
            results.append(fired)

    threads = [threading.Thread(target=check) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    all_fired = [alert_id for fired in results for alert_id in fired]
    assert len(results) == 4
    assert sorted(all_fired) == sorted(ids)  # every alert fired, none twice
    with app.app_context():
        assert set(statuses().values()) == {"triggered"}
