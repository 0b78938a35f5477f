"""Sign in, sign out, the session's CSRF token, API tokens, and the guard in front of every route.

The login is on when AUTH_USERNAME is set; off it is allowed only while the web listens on
localhost (config/gunicorn.py refuses to start otherwise). A request is let in by a server-side
session (cookie, with a CSRF token on every write) or by `Authorization: Bearer <API token>`
(no CSRF: browsers never attach that header by themselves).
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, g, jsonify, redirect, request, send_from_directory, session
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.wrappers import Response as WerkzeugResponse

from app.access import tokens
from app.access.passwords import Credentials
from app.extensions import csrf, limiter, server_sessions
from app.services import redis_client
from app.web import schema as S
from app.web.errors import CONFLICT, ApiError, error_response
from app.web.schema import answers, documented
from app.web.validation import MAX_QUERY_PARAMS, MAX_QUERY_VALUE
from config.settings import PROJECT_ROOT, Settings, is_loopback

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

FRONTEND_DIR = PROJECT_ROOT / "frontend"
SIGNING_KEY_LOCATION = "stockticker:secret_key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reachable without signing in: the sign-in page and its assets, health checks for orchestrators.
OPEN_ENDPOINTS = frozenset({"static", "auth.login_page", "auth.login", "auth.session_info", "health.healthz"})
MAX_CREDENTIAL_LENGTH = 1024


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def _json_object() -> dict[str, Any]:
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        raise ApiError(415 if not request.is_json else 400, "send a JSON object (Content-Type: application/json)")
    return body


def _text_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_CREDENTIAL_LENGTH:
        raise ApiError(400, f"{name} must be a non-empty string", name)
    return value


@bp.get("/login")
def login_page() -> Response | WerkzeugResponse:
    if not _settings().auth_enabled or g.get("user"):
        return redirect("/")
    return send_from_directory(FRONTEND_DIR, "login.html")


def _failed_login(response: Response) -> bool:
    return response.status_code == 401


@bp.post("/api/login")
@limiter.limit(lambda: _settings().login_rate_limit, deduct_when=_failed_login)
@documented(answers(200, S.SignedIn, 409, 413, 415, 429), "access", json=S.Credentials, security={})
def login() -> Response:
    """JSON only (a cross-site form cannot send it without a CORS preflight we never answer)."""
    credentials: Credentials | None = current_app.extensions.get("credentials")
    if credentials is None:
        raise ApiError(CONFLICT, "the login is off (AUTH_USERNAME is not set)")
    body = _json_object()
    username, password = _text_field(body, "username"), _text_field(body, "password")
    if not credentials.check(username, password):
        log.warning("failed sign-in from %s", request.remote_addr)
        raise ApiError(401, "wrong username or password", "password")
    current_app.session_interface.regenerate(session)  # a new session id: no fixation
    session.clear()
    session["user"] = credentials.username
    log.info("signed in from %s", request.remote_addr)
    return jsonify(user=credentials.username, csrf_token=generate_csrf())


@bp.post("/api/logout")
@documented(answers(200, S.SignedOut), "access")
def logout() -> Response:
    session.clear()
    return jsonify(user=None)


@bp.get("/api/session")
@documented(answers(200, S.SessionInfo), "access", security={})
def session_info() -> Response:
    """Who the page is signed in as, and the CSRF token its writes send (X-CSRFToken)."""
    settings = _settings()
    user = g.get("user")
    return jsonify(
        auth_required=settings.auth_enabled,
        user=user,
        csrf_token=generate_csrf() if settings.auth_enabled and g.get("via") == "session" else None,
    )


@bp.get("/api/tokens")
@documented(answers(200, S.TokenList), "access")
def list_api_tokens() -> Response:
    return jsonify(tokens=tokens.list_tokens())


@bp.post("/api/tokens")
@documented(answers(201, S.MadeToken, 409, 413, 415), "access", json=S.NewToken)
def create_api_token() -> tuple[Response, int]:
    _only_from_a_session()
    row, token = tokens.create_token(tokens.parse_token_name(_json_object().get("name")))
    log.info("API token %d (%s) created", row["id"], row["name"])
    return jsonify(token=row, secret=token), 201


@bp.delete("/api/tokens/<int:token_id>")
@documented(answers(200, S.Revoked, 404), "access")
def revoke_api_token(token_id: int) -> Response:
    _only_from_a_session()
    if not tokens.revoke_token(token_id):
        raise ApiError(404, f"no API token with id {token_id}")
    log.info("API token %d revoked", token_id)
    return jsonify(revoked=token_id)


def _only_from_a_session() -> None:
    """A leaked token must not be able to mint or revoke tokens."""
    if g.get("via") == "token":
        raise ApiError(403, "API tokens are managed from a signed-in page or `flask --app wsgi tokens`")


# --- the guard ------------------------------------------------------------------------------


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _allowed_origins(settings: Settings) -> set[str]:
    public = urlsplit(settings.public_url)
    return {f"{public.scheme}://{public.netloc}".lower(), *settings.allowed_origins}


def _check_origin(settings: Settings) -> None:
    """Browsers send Origin on a WebSocket handshake; a page of another site must not open ours."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    if urlsplit(origin).netloc.lower() == request.host.lower() or origin.lower() in _allowed_origins(settings):
        return
    log.warning("refused a WebSocket from origin %s (served host %s; see ALLOWED_ORIGINS)", origin[:100], request.host)
    raise ApiError(403, "this origin may not open the live feed (ALLOWED_ORIGINS)", "Origin")


def _check_host(settings: Settings) -> None:
    """With the login off, only names of this machine: a DNS-rebinding page gets its own host name."""
    host = (request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host).strip("[]")
    allowed = {urlsplit(o).hostname for o in _allowed_origins(settings)}
    if not (is_loopback(host) or host in allowed):
        raise ApiError(403, f"host {host[:100]} is not this machine's; the login is off (AUTH_USERNAME)", "Host")


def _check_query() -> None:
    if len(request.args) > MAX_QUERY_PARAMS:
        raise ApiError(400, f"at most {MAX_QUERY_PARAMS} query parameters")
    for name, value in request.args.items(multi=True):
        if len(value) > MAX_QUERY_VALUE or len(name) > MAX_QUERY_VALUE:
            raise ApiError(400, f"query parameter values are at most {MAX_QUERY_VALUE} characters", name[:50])
    for name, values in request.args.lists():
        if len(values) > 1:  # which one was meant? (Flask would silently take the first)
            raise ApiError(400, f"{name[:50]} is given {len(values)} times: give it once", name[:50])


def guard() -> WerkzeugResponse | None:
    settings = _settings()
    _check_query()
    if request.headers.get("Upgrade", "").lower() == "websocket":
        _check_origin(settings)
    if not settings.auth_enabled:
        _check_host(settings)
        g.user, g.via = "local", "open"
        return None
    if current_app.secret_key is None:
        current_app.secret_key = _shared_secret_key()
    token = _bearer_token()
    if token is not None:
        name = tokens.token_name(token)
        if name is None:
            raise ApiError(401, "the API token is not valid (revoked, or mistyped)", "Authorization")
        g.user, g.via = f"token:{name}", "token"
        return None
    if session.get("user") == settings.auth_username:
        g.user, g.via = settings.auth_username, "session"
        if request.method not in SAFE_METHODS and request.endpoint != "auth.login":
            csrf.protect()
        return None
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if request.method == "GET" and request.path == "/":
        return redirect("/login")
    raise ApiError(401, "sign in, or send an API token (Authorization: Bearer st_...)")


def _shared_secret_key() -> str:
    """SECRET_KEY, or one kept in Redis beside the sessions it protects (every web process shares it)."""
    client = redis_client()
    client.set(SIGNING_KEY_LOCATION, secrets.token_hex(32), nx=True)
    return client.get(SIGNING_KEY_LOCATION).decode()


def init_access(app: Flask, settings: Settings) -> None:
    secure = settings.public_url.startswith("https://")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_TYPE="redis",
        SESSION_REDIS=app.extensions["redis"],
        SESSION_KEY_PREFIX="stockticker:session:",
        SESSION_COOKIE_NAME="stockticker_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(days=settings.session_days),
        WTF_CSRF_CHECK_DEFAULT=False,  # checked by the guard, for session-authenticated writes only
        WTF_CSRF_TIME_LIMIT=None,  # as long as the session lives
        RATELIMIT_STORAGE_URI=settings.redis_url,
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_KEY_PREFIX="stockticker:ratelimit",
    )
    server_sessions.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    if settings.auth_enabled:
        app.extensions["credentials"] = Credentials(settings)
    app.before_request(guard)
    app.register_blueprint(bp)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> tuple[Response, int]:
        return error_response(403, f"{exc.description}: reload the page", "X-CSRFToken")

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(exc: RateLimitExceeded) -> tuple[Response, int]:
        # Flask-Limiter's after_request adds Retry-After and the X-RateLimit headers.
        return error_response(429, f"too many failed sign-ins ({exc.description}): wait and try again")
