"""The Flask application factory: the one way in for web, worker, beat and bridge."""

from __future__ import annotations

from typing import Any

import redis
from flask import Flask, Response, send_from_directory

from app.extensions import db, migrate, sock
from app.market.partitions import include_name
from config.logging import configure_logging
from config.settings import PROJECT_ROOT, Settings, SettingsError, exit_on, load_settings_or_exit

FRONTEND_DIR = PROJECT_ROOT / "frontend"
MAX_BODY_BYTES = 4096
MAX_WS_MESSAGE_BYTES = 64 * 1024  # a subscription of 2,000 symbols (price_frames.MAX_SYMBOLS) fits


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the app from ``settings`` (default: the environment); ``overrides`` go into app.config."""
    settings = settings or load_settings_or_exit()
    try:
        database_url = settings.require("DATABASE_URL")
        redis_url = settings.require("REDIS_URL")
        settings.require("KAFKA_BOOTSTRAP_SERVERS")
    except SettingsError as exc:
        exit_on(exc)
    configure_logging(settings.log_level)
    app = Flask(__name__, static_folder=str(FRONTEND_DIR), static_url_path="/static")
    app.config.update(
        SETTINGS=settings,
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_pre_ping": True,
            # Times leave PostgreSQL in UTC whatever the server's TimeZone (the history's JSON is its own).
            "connect_args": {"options": "-c timezone=UTC"},
        },
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        HISTORY_POINTS=settings.history_points,
        PRICE_SOURCE=settings.price_source,
        # Browsers only listen on /ws; a bigger frame closes that socket (1009), smaller ones are dropped.
        SOCK_SERVER_OPTIONS={"ping_interval": 25, "max_message_size": MAX_WS_MESSAGE_BYTES},
    )
    app.config.update(overrides)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), include_name=include_name)
    sock.init_app(app)

    from app.web.ws import Relay

    app.extensions["redis"] = redis.Redis.from_url(redis_url, socket_timeout=5, health_check_interval=30)
    app.extensions["relay"] = Relay(redis_url)

    from app.cli import register_cli
    from app.web import health
    from app.web.auth import init_access
    from app.web.errors import register_error_handlers
    from app.web.routes import blueprints
    from app.web.schema import api_spec
    from app.web.security import add_security_headers

    api_spec.app = app  # spectree reads the routes from it; its own doc pages (CDN assets) are not mounted
    init_access(app, settings)
    add_security_headers(app, settings)
    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    app.register_blueprint(health.bp)
    register_error_handlers(app)
    register_cli(app)

    @app.get("/")
    def index() -> Response:
        return send_from_directory(FRONTEND_DIR, "index.html")

    return app
