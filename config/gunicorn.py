"""gunicorn settings: the gevent worker, so an open WebSocket costs a greenlet, not a thread.

With the gthread worker each socket held one of 2 x 64 threads: at ~130 open dashboards new
sockets and plain HTTP queued behind them (docs/benchmarks.md, fanout). gevent's worker patches
the standard library before the app loads (flask-sock supports that), and psycogreen makes
psycopg2 yield to other greenlets while it waits on PostgreSQL.
"""

from config import http_errors
from config.settings import SettingsError, exit_on, load_settings_or_exit, require_auth_beyond_localhost

_settings = load_settings_or_exit()
try:
    require_auth_beyond_localhost(_settings, "WEB_HOST")
except SettingsError as exc:
    exit_on(exc)

http_errors.install()  # 414, 431 and other refusals gunicorn writes itself: JSON like the API's

bind = f"{_settings.web_host}:{_settings.web_port}"
worker_class = "gevent"
workers = _settings.web_workers
worker_connections = _settings.web_connections
timeout = 60
graceful_timeout = 10
accesslog = "-" if _settings.log_level in ("DEBUG", "INFO") else None  # a line per request: detail
errorlog = "-"
loglevel = _settings.log_level.lower()


def post_fork(server, worker):  # noqa: ANN001, ARG001 - gunicorn's hook signature
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()


def post_worker_init(worker):  # noqa: ANN001 - gunicorn's hook signature
    """On a stop (any signal) the worker waits for its open connections up to graceful_timeout:
    open dashboards would hold it 10 s, till a supervisor's SIGKILL. Close their sockets with 1001
    "going away" as soon as the worker stops being alive; the pages reconnect to whoever is next."""
    import gevent

    def close_sockets_when_stopping() -> None:
        while worker.alive:
            gevent.sleep(0.2)
        worker.wsgi.extensions["relay"].close_clients()

    gevent.spawn(close_sockets_when_stopping)
