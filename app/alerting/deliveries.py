"""Deliveries: each fired alert's message to each of its channels, sent exactly once.

A delivery row is written in the same transaction that fires the alert (``app.alerting.alerts``). A
send locks its row (``FOR UPDATE SKIP LOCKED``), sends only while the row is still pending
and due, and marks it sent in the same transaction: a duplicated or re-delivered task finds
the row locked, sent or not yet due and sends nothing. If the worker dies mid-send the lock
goes with its connection and the row is pending again for the sweep. The one case left is a
crash after the receiver took the message and before the commit: that message goes twice
(at-least-once on the wire for that instant); every other path sends once.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from app.alerting.channels import send
from app.alerting.rules import (
    HOLDING_RULES,
    describe_alert,
    describe_fire,
    describe_holding_fire,
    describe_indicator_fire,
    describe_named,
    format_duration,
    format_price,
)
from app.extensions import db
from app.market.watchlist import decimals_of
from app.models import Alert, AlertEvent, Channel, Delivery
from config.settings import Settings

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600.0

_CLAIM_DUE = text(
    """
    UPDATE deliveries SET enqueued_at = statement_timestamp()
    WHERE id IN (
        SELECT id FROM deliveries
        WHERE status = 'pending' AND next_attempt_at <= statement_timestamp()
          AND (enqueued_at IS NULL OR enqueued_at < statement_timestamp() - make_interval(secs => :stale))
        ORDER BY next_attempt_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED)
    RETURNING id
    """
)


# A channel's health after an attempt. Attempts may commit out of order (two workers): each
# statement keeps the newest outcome, and a success clears the failure only if it came after it.
_SENT = text(
    """
    UPDATE channels SET
        last_sent_at = greatest(last_sent_at, :at),
        failing_since = CASE WHEN last_error_at IS NULL OR last_error_at < :at THEN NULL ELSE failing_since END
    WHERE id = :id
    """
)
_FAILED = text(
    """
    UPDATE channels SET
        last_error = CASE WHEN last_error_at IS NULL OR last_error_at <= :at THEN :error ELSE last_error END,
        last_error_at = greatest(last_error_at, :at),
        failing_since = CASE WHEN failing_since IS NULL AND (last_sent_at IS NULL OR last_sent_at < :at) THEN :at
                             ELSE failing_since END
    WHERE id = :id
    """
)


@dataclass(frozen=True)
class Attempt:
    """What one try did: ``retry_in`` seconds when it failed and will be tried again."""

    status: str  # sent, failed, pending (retry later), or skipped (nothing due)
    retry_in: float | None = None


def backoff_seconds(attempts: int, base: float) -> float:
    """Exponential backoff with ±20 % jitter, so channels failing together do not retry together."""
    delay = min(base * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not cryptography


def message(
    alert: Alert, event: AlertEvent, public_url: str, zone: tzinfo | None = None, decimals: int | None = None
) -> tuple[str, str]:
    """(title, body) of the notification for one fire or expiry: times in ``zone`` (the server's
    if None), named; prices in the symbol's ``decimals`` (its source's), else by magnitude."""
    when = event.observed_at.astimezone(zone)
    rule = describe_alert(alert, decimals)
    named = describe_named(alert, decimals)
    subject = alert.symbol or "the portfolio"
    frequency = (
        f"every time, at most every {format_duration(alert.cooldown_seconds)}"
        if alert.frequency == "every_time"
        else "once"
    )
    if event.kind == "expired":
        fired = f"it fired {alert.fire_count} times" if alert.fire_count != 1 else "it fired once"
        lines = [
            f"Alert #{alert.id} on {subject} expired at {when:%Y-%m-%d %H:%M:%S %Z}:"
            f" {fired if alert.fire_count else 'it never fired'}.",
            f"Alert #{alert.id}: {named}, {frequency}",
        ]
        title = f"Stock Ticker: alert on {subject} expired ({rule})"
    elif alert.rule == "daily":
        local = event.observed_at.astimezone(ZoneInfo(alert.timezone))
        lines = [event.detail or "", f"Alert #{alert.id}: {rule}"]
        title = f"Stock Ticker: portfolio summary, {local:%Y-%m-%d}"
    else:
        if alert.rule in ("cross", "rsi"):
            what = describe_indicator_fire(alert, event.reference_price, decimals)
        elif alert.rule in (*HOLDING_RULES, "total"):
            what = describe_holding_fire(alert, event.reference_price)
        else:
            what = describe_fire(
                alert.rule, alert.threshold, alert.window_seconds, event.price, event.reference_price, decimals
            )
        at = f"{when:%Y-%m-%d %H:%M:%S %Z}"
        if alert.symbol is None:
            lines = [f"The {what}", f"At {at}"]
            title = f"Stock Ticker: {what}"
        else:
            lines = [f"{alert.symbol} {what}", f"Price: {format_price(event.price, decimals)} at {at}"]
            title = f"Stock Ticker: {alert.symbol} {what}"
        lines.append(f"Alert #{alert.id}: {named}, {frequency}")
    if alert.note:
        lines.append(f"Note: {alert.note}")
    lines.append(f"Dashboard: {public_url}")
    return title, "\n".join(lines)


def attempt_delivery(delivery_id: int, settings: Settings, requeue_within: float = 0.0) -> Attempt:
    """Try to send one delivery if it is pending and due; record the outcome. A retry due within
    ``requeue_within`` seconds is marked queued for then (the caller queues it with that
    countdown); a later one is left to the sweep."""
    row = db.session.execute(
        select(Delivery, AlertEvent, Alert, Channel.url, decimals_of(Alert.symbol))
        .join(AlertEvent, AlertEvent.id == Delivery.event_id)
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .outerjoin(Channel, Channel.id == Delivery.channel_id)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == "pending",
            Delivery.next_attempt_at <= func.statement_timestamp(),
        )
        .with_for_update(of=Delivery, skip_locked=True)
    ).first()
    if row is None:
        db.session.rollback()
        return Attempt("skipped")
    delivery, event, alert, url, decimals = row
    if url is None:
        error: str | None = "the channel was deleted before the message went out"
    else:
        title, body = message(alert, event, settings.public_url, settings.timezone, decimals)
        error = send(url, title, body, settings.notify_timeout_seconds, key=f"stockticker-delivery-{delivery.id}")
    delivery.attempts += 1
    delivery.last_error = error
    now = datetime.now(UTC)
    if delivery.channel_id is not None:
        db.session.execute(_SENT if error is None else _FAILED, {"id": delivery.channel_id, "at": now, "error": error})
    result: Attempt
    if error is None:
        delivery.status, delivery.sent_at = "sent", now
        result = Attempt("sent")
        log.info("delivery %d of alert %d sent to channel %r", delivery.id, alert.id, delivery.channel_name)
    elif url is None or delivery.attempts >= settings.notify_max_attempts:
        delivery.status = "failed"
        result = Attempt("failed")
        log.error(
            "delivery %d of alert %d to channel %r failed for good after %d attempts: %s",
            delivery.id, alert.id, delivery.channel_name, delivery.attempts, error,
        )  # fmt: skip
    else:
        delay = backoff_seconds(delivery.attempts, settings.notify_retry_seconds)
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        # queued by the caller for then (the sweep leaves it alone till then), or by the sweep
        delivery.enqueued_at = delivery.next_attempt_at if delay <= requeue_within else None
        result = Attempt("pending", delay)
        log.warning(
            "delivery %d of alert %d to channel %r failed (attempt %d of %d), retrying in %.0f s: %s",
            delivery.id, alert.id, delivery.channel_name, delivery.attempts, settings.notify_max_attempts, delay, error,
        )  # fmt: skip
    db.session.commit()
    return result


def claim_due(stale_seconds: float, limit: int = 1000) -> list[int]:
    """Pending deliveries that are due and not queued (or queued so long ago that the task was
    lost, e.g. with a worker killed before it acked): marked queued now, ids returned to queue."""
    ids = list(db.session.scalars(_CLAIM_DUE, {"stale": stale_seconds, "limit": limit}))
    db.session.commit()
    return ids


def delivery_counts() -> dict[str, Any]:
    rows = db.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return {status: int(count) for status, count in rows}
