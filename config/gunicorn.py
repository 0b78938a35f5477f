"""gunicorn settings: the gthread worker, because each open WebSocket holds a thread."""

from config.settings import load_settings_or_exit

_settings = load_settings_or_exit()

bind = f"0.0.0.0:{_settings.web_port}"
worker_class = "gthread"
workers = 2
threads = _settings.web_threads
timeout = 60
graceful_timeout = 10
accesslog = "-"
errorlog = "-"
loglevel = _settings.log_level.lower()
