"""Price alerts: create, cancel, list, and fire the ones a batch of ticks crosses."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text, update

from app.extensions import db
from app.models import Alert
from app.ticks import Tick

# One statement finds the crossed alerts and fires them. `above` fires at
# price >= threshold, `below` at price <= threshold; the first crossing tick
# (by observed_at) gives the triggered price. Only ticks received after the alert
# was made count, so a replayed old batch cannot fire it on a stale price. Under concurrent checks of the same
# ticks the second UPDATE re-reads `status = 'active'` after the first commits,
# finds it false and skips the row: an alert fires exactly once.
_FIRE_CROSSED = text(
    """
    WITH batch AS (
        SELECT * FROM unnest(CAST(:symbols AS text[]), CAST(:prices AS numeric[]),
                             CAST(:observed AS timestamptz[]), CAST(:received AS timestamptz[]))
                      AS b(symbol, price, observed_at, received_at)
    ),
    crossed AS (
        SELECT DISTINCT ON (a.id) a.id, b.price
        FROM alerts a
        JOIN batch b ON b.symbol = a.symbol
        WHERE a.status = 'active' AND b.received_at >= a.created_at
          AND ((a.direction = 'above' AND b.price >= a.threshold)
            OR (a.direction = 'below' AND b.price <= a.threshold))
        ORDER BY a.id, b.observed_at
    )
    UPDATE alerts
    SET status = 'triggered', triggered_at = now(), triggered_price = crossed.price
    FROM crossed
    WHERE alerts.id = crossed.id AND alerts.status = 'active'
    RETURNING alerts.id, alerts.symbol, alerts.direction, alerts.threshold, alerts.status,
              alerts.created_at, alerts.triggered_at, alerts.triggered_price
    """
)


def alert_json(alert: Any) -> dict[str, Any]:
    """An alert row (model or result row) as the API and the relay show it."""
    return {
        "id": alert.id,
        "symbol": alert.symbol,
        "direction": alert.direction,
        "threshold": float(alert.threshold),
        "status": alert.status,
        "created_at": alert.created_at.isoformat(),
        "triggered_at": alert.triggered_at.isoformat() if alert.triggered_at else None,
        "triggered_price": None if alert.triggered_price is None else float(alert.triggered_price),
    }


def fire_crossed(ticks: Sequence[Tick]) -> list[dict[str, Any]]:
    """Mark every active alert that the ticks cross as triggered; returns the fired ones."""
    if not ticks:
        return []
    rows = db.session.execute(
        _FIRE_CROSSED,
        {
            "symbols": [t.symbol for t in ticks],
            "prices": [t.price for t in ticks],
            "observed": [t.observed_at for t in ticks],
            "received": [t.received_at for t in ticks],
        },
    ).all()
    db.session.commit()
    return [alert_json(row) for row in sorted(rows, key=lambda r: r.id)]


def create_alert(symbol: str, direction: str, threshold: Decimal) -> dict[str, Any]:
    alert = Alert(symbol=symbol, direction=direction, threshold=threshold)
    db.session.add(alert)
    db.session.commit()
    return alert_json(alert)


def cancel_alert(alert_id: int) -> dict[str, Any] | None:
    """Cancel an active alert; None when no such alert exists. A fired alert stays triggered."""
    row = db.session.execute(
        update(Alert).where(Alert.id == alert_id, Alert.status == "active").values(status="cancelled").returning(Alert)
    ).scalar_one_or_none()
    db.session.commit()
    if row is None:
        row = db.session.get(Alert, alert_id)
    return None if row is None else alert_json(row)


def list_alerts(status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    query = select(Alert)
    if status is not None:
        query = query.where(Alert.status == status)
    query = query.order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)
    return [alert_json(a) for a in db.session.scalars(query)]
