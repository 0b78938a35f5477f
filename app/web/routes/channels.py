"""Notification channels: apprise URLs that fired alerts are delivered to."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from app.alerting import channels
from app.alerting.channels import send
from app.web import schema as S
from app.web.errors import ApiError
from app.web.routes import json_body
from app.web.schema import answers, documented

bp = Blueprint("channels", __name__)


@bp.get("/api/channels")
@documented(answers(200, S.ChannelList), "channels")
def list_channels() -> Response:
    return jsonify(channels=channels.list_channels())


@bp.post("/api/channels")
@documented(answers(201, S.OneChannel, 409, 413, 415, 422), "channels", json=S.NewChannel)
def create_channel() -> tuple[Response, int]:
    max_channels = current_app.config["SETTINGS"].max_channels
    return jsonify(channel=channels.create_channel(json_body(), max_channels)), 201


@bp.patch("/api/channels/<int:channel_id>")
@documented(answers(200, S.OneChannel, 404, 413, 415), "channels", json=S.ChannelChange)
def update_channel(channel_id: int) -> Response:
    body = json_body()
    if not isinstance(body, dict) or "enabled" not in body:
        raise ApiError(400, 'send {"enabled": true or false}', "enabled")
    return jsonify(channel=channels.set_enabled(channel_id, body["enabled"]))


@bp.delete("/api/channels/<int:channel_id>")
@documented(answers(200, S.OneChannel, 404), "channels")
def delete_channel(channel_id: int) -> Response:
    return jsonify(channel=channels.delete_channel(channel_id))


@bp.post("/api/channels/<int:channel_id>/test")
@documented(answers(200, S.TestSend, 404), "channels")
def test_channel(channel_id: int) -> Response:
    """Send a test message now; the answer says whether the channel took it."""
    channel = channels.get_channel(channel_id)
    settings = current_app.config["SETTINGS"]
    error = send(
        channel.url,
        "Stock Ticker: test message",
        f"This is a test of the channel {channel.name!r}. Alerts will arrive like this.\n"
        f"Dashboard: {settings.public_url}",
        settings.notify_timeout_seconds,
    )
    return jsonify(channel=channel.id, sent=error is None, error=error)
