"""Notification channels: one apprise URL each (ntfy, Telegram, Discord, Slack, e-mail, webhooks…).

A channel URL carries tokens and passwords. It is read from the table only to send, and it
never leaves this module whole: the API shows ``mask_url``, errors go through ``scrub``, and
Celery messages carry delivery ids only. apprise's own log lines are kept out of our logs
(``config.logging``) because some of its plugins name parts of the URL.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote

import apprise
from apprise.manager_plugins import NotificationManager
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app.alerting.rules import describe_alert
from app.extensions import db
from app.models import Alert, AlertChannel, Channel
from app.pipeline.deadline import DeadlineExceeded, call_with_deadline
from app.web.errors import CONFLICT, INVALID, UNPROCESSABLE, ApiError
from app.web.validation import parse_name

MAX_NAME_LENGTH = 64
LIMIT_LOCK = 0x5354_4348  # pg_advisory_xact_lock key of the channel limit ('STCH')
MAX_URL_LENGTH = 2048
URL_PATTERN = r"^ *[A-Za-z][A-Za-z0-9+.-]*://"  # scheme://, as /openapi.json states; the rest is the plugin's
URL_RE = re.compile(URL_PATTERN)
PLUGINS = NotificationManager()  # the schemes apprise knows ("ntfy" in PLUGINS)
MAX_ERROR_LENGTH = 500
SECRET_MIN_LENGTH = 3  # shorter URL parts (ports, "v1") are not worth hiding and would mangle errors
HOSTNAME_RE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$", re.IGNORECASE)


def _host(url: str) -> tuple[str, str]:
    """(scheme, host[:port]) of a URL, the host only when it names a network host: in many
    apprise URLs the 'host' is a token (tgram://BOTTOKEN/..., ntfy://TOPIC, discord://ID/...)."""
    scheme, _, rest = url.partition("://")
    netloc = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    host, _, port = netloc.partition(":") if not netloc.startswith("[") else (netloc, "", "")
    try:
        ipaddress.ip_address(host.strip("[]"))
        network = True
    except ValueError:
        network = host.lower() == "localhost" or bool(HOSTNAME_RE.match(host))
    if not network:
        return scheme, ""
    return scheme, f"{host}:{port}" if port.isdigit() else host


def mask_url(url: str) -> str:
    """Scheme and network host, the rest ***: json://hooks.example.com/***, tgram://***."""
    scheme, host = _host(url)
    return f"{scheme}://{host}/***" if host else f"{scheme}://***"


def _secrets(url: str) -> list[str]:
    """Every part of the URL that might be a secret, longest first."""
    scheme, host = _host(url)
    rest = url.partition("://")[2]
    path, _, query = rest.partition("?")
    parts = {url, rest, path, query}
    parts.update(re.split(r"[/@:]", path))
    for key, value in parse_qsl(query, keep_blank_values=True):
        parts.update((key, value))
    parts.update([unquote(p) for p in parts])
    parts -= {scheme, host, *host.split(":")}
    return sorted((p for p in parts if len(p) >= SECRET_MIN_LENGTH), key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` with every secret-looking part of ``url`` replaced by ***, cut to a sane length."""
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text[:MAX_ERROR_LENGTH]


def parse_url(url: object) -> Any:
    """The apprise plugin for ``url``, or ApiError 400 naming ``url`` (the URL is not echoed)."""
    if not isinstance(url, str) or not URL_RE.match(url):
        raise ApiError(INVALID, "url must be an apprise URL such as ntfy://topic or json://host/path", "url")
    if len(url) > MAX_URL_LENGTH:  # as sent: the limit /openapi.json states
        raise ApiError(INVALID, f"url must be at most {MAX_URL_LENGTH} characters", "url")
    url = url.strip(" ")
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:  # each plugin reads its own URL form: the document cannot state them all
        scheme = url.partition("://")[0]
        reason = (
            f"apprise cannot read this {scheme}:// URL"
            if scheme.lower() in PLUGINS
            else (f"apprise does not know the scheme {scheme!r}")
        )
        raise ApiError(UNPROCESSABLE, f"url is not a URL apprise can send to ({reason}); see the URL forms", "url")
    return plugin


IDEMPOTENCY_HEADER = "Idempotency-Key"


def send(url: str, title: str, body: str, timeout: float, key: str | None = None) -> str | None:
    """Send one message; None when the channel took it, else what went wrong (secrets scrubbed).

    The channel waits for an answer up to ``timeout`` seconds (apprise's own read timeout is 4 s,
    shorter than ours: a slow receiver that took the message was sent it again). The whole call is
    cut off after ``timeout`` seconds whatever the plugin does. ``key`` is the same for every try of
    one delivery and goes out as an ``Idempotency-Key`` header wherever the channel sends headers
    (json://, form://, xml://, mailto://), so a receiver can drop the copy a retry makes.
    """
    plugin = parse_url(url)
    if hasattr(plugin, "socket_read_timeout"):
        plugin.socket_read_timeout = timeout
    if hasattr(plugin, "socket_connect_timeout"):
        plugin.socket_connect_timeout = min(plugin.socket_connect_timeout or timeout, timeout)
    if key is not None and isinstance(getattr(plugin, "headers", None), dict):
        plugin.headers[IDEMPOTENCY_HEADER] = key

    def notify() -> tuple[bool, str]:
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
            ok = plugin.notify(body=body, title=title)
        return bool(ok), captured.getvalue()

    try:
        ok, logged = call_with_deadline(notify, timeout, "the channel")
    except DeadlineExceeded as exc:
        return str(exc)
    except Exception as exc:  # a plugin bug must not lose the delivery: record it as a failure
        return scrub(f"{exc.__class__.__name__}: {exc}", url)
    if ok:
        return None
    lines = [line.strip() for line in logged.splitlines() if line.strip()]
    return scrub("; ".join(lines[-3:]) or "the channel refused the message", url)


def channel_json(channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "url": mask_url(channel.url),
        "service": type(apprise.Apprise.instantiate(channel.url)).__name__.removeprefix("Notify"),
        "enabled": channel.enabled,
        "created_at": channel.created_at.isoformat(),
    } | channel_health(channel)


def channel_health(channel: Any) -> dict[str, Any]:
    """``failing_since`` (null: its last attempt went through, or none yet), the last error and when."""
    return {
        "failing_since": channel.failing_since.isoformat() if channel.failing_since else None,
        "last_error": channel.last_error if channel.failing_since else None,
        "last_error_at": channel.last_error_at.isoformat() if channel.last_error_at else None,
        "last_sent_at": channel.last_sent_at.isoformat() if channel.last_sent_at else None,
    }


def create_channel(body: Any, max_channels: int | None = None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object with name and url")
    name = parse_name(body.get("name"), "name", MAX_NAME_LENGTH)
    parse_url(body.get("url"))
    if max_channels is not None:
        db.session.execute(select(func.pg_advisory_xact_lock(LIMIT_LOCK)))  # to the commit: no two pass at once
        if db.session.scalar(select(func.count()).select_from(Channel)) >= max_channels:
            raise ApiError(CONFLICT, f"at most {max_channels} channels (MAX_CHANNELS): delete one first", "name")
    channel = Channel(name=name, url=body["url"].strip())
    db.session.add(channel)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ApiError(409, f"a channel named {name!r} exists already", "name") from None
    return channel_json(channel)


def list_channels() -> list[dict[str, Any]]:
    """Every channel with the active alerts that use it (the page names them before a delete)."""
    used = _active_alerts()
    channels = db.session.scalars(select(Channel).order_by(Channel.name))
    return [channel_json(c) | {"alerts": used[c.id]} for c in channels]


def _active_alerts(channel_id: int | None = None) -> dict[int, list[dict[str, Any]]]:
    """The active alerts of each channel (or of one): id, symbol, condition."""
    query = (
        select(AlertChannel.channel_id, Alert)
        .join(Alert, Alert.id == AlertChannel.alert_id)
        .where(Alert.status == "active")
        .order_by(Alert.symbol, Alert.id)
    )
    if channel_id is not None:
        query = query.where(AlertChannel.channel_id == channel_id)
    used: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for channel, alert in db.session.execute(query):
        used[channel].append({"id": alert.id, "symbol": alert.symbol, "condition": describe_alert(alert)})
    return used


def get_channel(channel_id: int) -> Channel:
    channel = db.session.get(Channel, channel_id)
    if channel is None:
        raise ApiError(404, f"no channel with id {channel_id}")
    return channel


def set_enabled(channel_id: int, enabled: object) -> dict[str, Any]:
    if not isinstance(enabled, bool):
        raise ApiError(400, "enabled must be true or false", "enabled")
    get_channel(channel_id)
    db.session.execute(update(Channel).where(Channel.id == channel_id).values(enabled=enabled))
    db.session.commit()
    return channel_json(get_channel(channel_id))


def delete_channel(channel_id: int) -> dict[str, Any]:
    """Forget the channel and its URL; past deliveries keep its name. The answer names the active
    alerts it was taken from (``alerts``)."""
    shown = channel_json(get_channel(channel_id)) | {"alerts": _active_alerts(channel_id)[channel_id]}
    db.session.execute(delete(Channel).where(Channel.id == channel_id))
    db.session.commit()
    return shown


def check_channel_ids(ids: Iterable[int]) -> None:
    """ApiError 422 naming ``channels`` unless every id is a channel."""
    wanted = set(ids)
    found = set(db.session.scalars(select(Channel.id).where(Channel.id.in_(wanted)))) if wanted else set()
    missing = sorted(wanted - found)
    if missing:
        raise ApiError(UNPROCESSABLE, f"no channel with id {', '.join(map(str, missing))}", "channels")
