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
worker_class = "config.gunicorn_worker.QuickStopGeventWorker"  # gevent, quick to stop
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
