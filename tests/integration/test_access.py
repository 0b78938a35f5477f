"""The login, sessions, CSRF, API tokens, the sign-in rate limit and the security headers, on an
app with the login on (AUTH_USERNAME set) against the real PostgreSQL and Redis."""

from __future__ import annotations

import hashlib

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from app import create_app
from app.extensions import db
from app.models import Alert, ApiToken
from config.settings import Settings, load_settings
from tests.integration.browser import LOGIN_ENV, TEST_PASSWORD, TEST_USER

ALERT = {"symbol": "BTC-USD", "rule": "above", "threshold": 100000}


@pytest.fixture(scope="module")
def secured(app: Flask, server_env: dict[str, str]) -> Flask:
    """A second app on the same servers, with the login on and no SECRET_KEY (kept in Redis)."""
    env = server_env | {k: v for k, v in LOGIN_ENV.items() if k != "SECRET_KEY"} | {"LOGIN_RATE_LIMIT": "3 per minute"}
    return create_app(load_settings(env), TESTING=True)


@pytest.fixture(autouse=True)
def no_tokens(app: Flask) -> None:
    """No API token from an earlier module's stack (signed_in_headers): these tests count them."""
    with app.app_context():
        db.session.execute(text("DELETE FROM api_tokens"))
        db.session.commit()


@pytest.fixture
def web(secured: Flask, app: Flask) -> FlaskClient:  # app: the per-test cleanup runs first
    return secured.test_client()


def sign_in(web: FlaskClient) -> str:
    response = web.post("/api/login", json={"username": TEST_USER, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.json
    return response.json["csrf_token"]


def alert_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Alert))


@pytest.mark.parametrize("path", ["/api/symbols", "/api/prices/latest", "/api/alerts", "/api/status", "/ws"])
def test_every_read_and_the_feed_need_a_sign_in(web: FlaskClient, path: str):
    response = web.get(path)
    assert response.status_code == 401
    assert response.json == {"error": "sign in, or send an API token (Authorization: Bearer st_...)", "field": None}


def test_the_page_sends_strangers_to_the_sign_in_page_and_health_stays_open(web: FlaskClient):
    assert web.get("/").headers["Location"] == "/login"
    with web.get("/login") as login_page:  # files are sent open: close them
        assert login_page.status_code == 200 and b'id="login-form"' in login_page.data
    with web.get("/static/js/account/login.js") as script:
        assert script.status_code == 200
    assert web.get("/healthz").status_code in (200, 503)  # open; its verdict depends on prices
    assert web.get("/api/session").json == {"auth_required": True, "user": None, "csrf_token": None}


def test_a_wrong_password_or_user_is_refused_alike(web: FlaskClient, app: Flask):
    for body in ({"username": TEST_USER, "password": "wrong"}, {"username": "root", "password": TEST_PASSWORD}):
        response = web.post("/api/login", json=body)
        assert response.status_code == 401
        assert response.json == {"error": "wrong username or password", "field": "password"}
    assert web.post("/api/login", data="username=tester").status_code == 415  # JSON only: no cross-site form
    assert web.get("/api/alerts").status_code == 401


def test_a_sign_in_is_a_server_side_session_with_a_safe_cookie(web: FlaskClient, redis_client: redis.Redis):
    sign_in(web)
    cookie = web.get_cookie("stockticker_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax" and not cookie.secure
    assert redis_client.exists(f"stockticker:session:{cookie.value}") == 1  # the session lives in Redis
    assert web.get("/api/symbols").status_code == 200
    assert web.get("/api/session").json["user"] == TEST_USER
    assert web.get("/login").headers["Location"] == "/"


def test_writes_from_a_session_need_the_csrf_token_and_a_refusal_writes_nothing(web: FlaskClient, app: Flask):
    token = sign_in(web)
    refused = web.post("/api/alerts", json=ALERT)
    assert refused.status_code == 403
    assert refused.json["field"] == "X-CSRFToken" and "CSRF token is missing" in refused.json["error"]
    forged = web.post("/api/alerts", json=ALERT, headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 403
    assert alert_count(app) == 0
    created = web.post("/api/alerts", json=ALERT, headers={"X-CSRFToken": token})
    assert created.status_code == 201
    assert alert_count(app) == 1


def test_signing_out_ends_the_session_on_the_server(web: FlaskClient, redis_client: redis.Redis):
    token = sign_in(web)
    session_id = web.get_cookie("stockticker_session").value
    assert web.post("/api/logout", headers={"X-CSRFToken": token}).status_code == 200
    assert redis_client.exists(f"stockticker:session:{session_id}") == 0
    web.set_cookie("stockticker_session", session_id)  # a copied cookie is worth nothing now
    assert web.get("/api/symbols").status_code == 401


def test_a_new_sign_in_gets_a_new_session_id(web: FlaskClient):
    web.set_cookie("stockticker_session", "planted-by-someone-else")
    sign_in(web)
    assert web.get_cookie("stockticker_session").value != "planted-by-someone-else"


def test_failed_sign_ins_are_rate_limited_and_successes_do_not_count(web: FlaskClient):
    for _ in range(3):  # LOGIN_RATE_LIMIT=3 per minute here; good ones are not counted
        sign_in(web)
    for _ in range(3):
        assert web.post("/api/login", json={"username": TEST_USER, "password": "nope"}).status_code == 401
    limited = web.post("/api/login", json={"username": TEST_USER, "password": TEST_PASSWORD})
    assert limited.status_code == 429
    assert limited.json["error"].startswith("too many failed sign-ins (3 per 1 minute)")
    assert 0 < int(limited.headers["Retry-After"]) <= 60


def test_api_tokens_are_shown_once_stored_hashed_used_and_revoked(web: FlaskClient, secured: Flask, app: Flask):
    csrf = sign_in(web)
    made = web.post("/api/tokens", json={"name": "backup script"}, headers={"X-CSRFToken": csrf})
    assert made.status_code == 201
    secret, token_id = made.json["secret"], made.json["token"]["id"]
    assert secret.startswith("st_") and made.json["token"]["hint"] == secret[:10]
    assert "secret" not in str(web.get("/api/tokens").json) and secret not in str(web.get("/api/tokens").json)
    with app.app_context():  # the same database
        stored = db.session.scalars(select(ApiToken.token_sha256)).all()
    assert stored == [hashlib.sha256(secret.encode()).hexdigest()]

    script = secured.test_client()  # no cookie: the token alone, and no CSRF token needed
    bearer = {"Authorization": f"Bearer {secret}"}
    assert script.get("/api/symbols", headers=bearer).status_code == 200
    assert script.post("/api/alerts", json=ALERT, headers=bearer).status_code == 201
    minted = script.post("/api/tokens", json={"name": "more"}, headers=bearer)
    assert minted.status_code == 403 and "signed-in page" in minted.json["error"]
    assert web.get("/api/tokens").json["tokens"][0]["last_used_at"] is not None

    assert web.delete(f"/api/tokens/{token_id}", headers={"X-CSRFToken": csrf}).status_code == 200
    revoked = script.get("/api/symbols", headers=bearer)
    assert revoked.status_code == 401
    assert revoked.json == {"error": "the API token is not valid (revoked, or mistyped)", "field": "Authorization"}


def test_the_tokens_cli_makes_lists_and_revokes(secured: Flask, app: Flask):
    runner = secured.test_cli_runner()
    made = runner.invoke(args=["tokens", "create", "cron"])
    assert made.exit_code == 0 and ": st_" in made.output
    assert "\tcron\t" in runner.invoke(args=["tokens", "list"]).output
    token_id = made.output.split()[1]
    assert runner.invoke(args=["tokens", "revoke", token_id]).output.strip() == f"token {token_id} revoked"
    missing = runner.invoke(args=["tokens", "revoke", "999"])
    assert missing.exit_code == 2 and "no API token with id 999" in missing.output
    with secured.app_context():
        assert db.session.execute(text("SELECT count(*) FROM api_tokens")).scalar() == 0


@pytest.mark.parametrize("path", ["/", "/login", "/api/session", "/api/alerts", "/no/such/page", "/static/style.css"])
def test_every_response_carries_the_security_headers(web: FlaskClient, path: str):
    with web.get(path) as response:
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_a_page_of_another_site_cannot_open_the_feed(web: FlaskClient, secured: Flask, settings: Settings):
    sign_in(web)
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"}
    refused = web.get("/ws", headers=upgrade | {"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert refused.json == {"error": "this origin may not open the live feed (ALLOWED_ORIGINS)", "field": "Origin"}


def test_with_the_login_off_only_this_machines_names_are_served(client: FlaskClient):
    assert client.get("/api/symbols").status_code == 200  # Host: localhost
    assert client.get("/api/symbols", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    rebound = client.get("/api/symbols", headers={"Host": "attacker.example"})
    assert rebound.status_code == 403 and rebound.json["field"] == "Host"


def test_too_many_or_too_long_query_parameters_are_refused(client: FlaskClient):
    many = client.get("/api/alerts?" + "&".join(f"p{i}=1" for i in range(11)))
    assert many.status_code == 400 and many.json["error"] == "at most 10 query parameters"
    long = client.get("/api/alerts?status=" + "x" * 201)
    assert long.status_code == 400 and long.json["field"] == "status"
    twice = client.get("/history/BTC-USD?points=5&points=0.0")  # schemathesis found this one accepted
    assert twice.status_code == 400
    assert twice.json == {"error": "points is given 2 times: give it once", "field": "points"}
