"""Security headers on every response (flask-talisman): a CSP without inline script or style,
no framing, no MIME sniffing, a same-origin referrer; HSTS only when PUBLIC_URL is https."""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman

from config.settings import Settings

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",  # CSP 3: 'self' covers ws:// and wss:// to this host
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def add_security_headers(app: Flask, settings: Settings) -> None:
    https = settings.public_url.startswith("https://")
    Talisman(
        app,
        force_https=False,  # TLS ends at the proxy in front; redirecting here would loop behind it
        strict_transport_security=https,
        session_cookie_secure=https,
        session_cookie_http_only=True,
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="same-origin",
        x_content_type_options=True,
    )
