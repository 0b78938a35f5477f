"""Flower's options (`celery flower --conf=config/flower.py`): where it listens and its login.

Flower reads this file's module-level names as its options. Beyond localhost it asks for the
dashboard's login through its basic auth, which compares a plain password (AUTH_PASSWORD).
"""

import logging as _logging

from config.settings import SettingsError, exit_on, load_settings_or_exit, require_auth_beyond_localhost

_settings = load_settings_or_exit()
try:
    require_auth_beyond_localhost(_settings, "FLOWER_HOST")
except SettingsError as exc:
    exit_on(exc)

logging = _settings.log_level.lower()  # tornado's option: its INFO lines only with LOG_LEVEL=INFO
# Flower asks the workers for their state; a busy worker answering late is not news (Flower asks
# again), so it has longer than the 1 s default and its misses are said only at INFO.
inspect_timeout = 5000.0
_detail = _settings.log_level in ("DEBUG", "INFO")
_logging.getLogger("flower.inspector").setLevel(_settings.log_level if _detail else "ERROR")
address = _settings.flower_host
port = _settings.flower_port
if _settings.auth_enabled and _settings.auth_password is not None:
    basic_auth = [f"{_settings.auth_username}:{_settings.auth_password}"]
