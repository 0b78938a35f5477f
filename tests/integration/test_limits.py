"""Limits on what one user can pile up: clear 409s (the state refuses) naming the setting, and nothing written."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Alert, Channel
from config.settings import load_settings


@pytest.fixture(scope="module")
def limited(app: Flask, server_env: dict[str, str]) -> Flask:
    env = server_env | {"MAX_ACTIVE_ALERTS": "3", "MAX_ALERTS_PER_SYMBOL": "2", "MAX_CHANNELS": "1"}
    return create_app(load_settings(env), TESTING=True)


def count(app: Flask, model: type) -> int:
    """Active alerts, or every channel."""
    active = [Alert.status == "active"] if model is Alert else []
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*active))


def alert(symbol: str, threshold: int) -> dict[str, object]:
    return {"symbol": symbol, "rule": "above", "threshold": threshold}


def test_active_alerts_are_limited_per_symbol_and_in_all(limited: Flask, app: Flask):
    web = limited.test_client()
    assert [web.post("/api/alerts", json=alert("BTC-USD", t)).status_code for t in (1, 2)] == [201, 201]
    third = web.post("/api/alerts", json=alert("BTC-USD", 3))
    assert third.status_code == 409
    assert third.json == {
        "error": "at most 2 active alerts on BTC-USD (MAX_ALERTS_PER_SYMBOL): cancel some first",
        "field": "symbol",
    }
    assert web.post("/api/alerts", json=alert("ETH-USD", 1)).status_code == 201
    over = web.post("/api/alerts", json=alert("DOGE-USD", 1))
    assert over.status_code == 409 and over.json["error"].startswith("at most 3 active alerts (MAX_ACTIVE_ALERTS)")
    assert count(app, Alert) == 3
    first = web.get("/api/alerts").json["alerts"][-1]["id"]
    assert web.delete(f"/api/alerts/{first}").status_code == 200  # a cancelled one no longer counts
    assert web.post("/api/alerts", json=alert("DOGE-USD", 1)).status_code == 201


def test_two_creates_at_once_do_not_both_pass_the_limit(limited: Flask, app: Flask):
    web = limited.test_client()
    assert web.post("/api/alerts", json=alert("BTC-USD", 1)).status_code == 201
    statuses: list[int] = []

    def create(threshold: int) -> None:
        with limited.test_client() as own:
            statuses.append(own.post("/api/alerts", json=alert("BTC-USD", threshold)).status_code)

    threads = [threading.Thread(target=create, args=(t,)) for t in (10, 11, 12, 13)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [201, 409, 409, 409]
    assert count(app, Alert) == 2


def test_channels_are_limited(limited: Flask, app: Flask):
    web = limited.test_client()
    assert web.post("/api/channels", json={"name": "one", "url": "ntfy://topic-one"}).status_code == 201
    second = web.post("/api/channels", json={"name": "two", "url": "ntfy://topic-two"})
    assert second.status_code == 409
    assert second.json == {"error": "at most 1 channels (MAX_CHANNELS): delete one first", "field": "name"}
    assert count(app, Channel) == 1
