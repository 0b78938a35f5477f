"""Settings for every Stock Ticker process, parsed once from the environment."""

from config.settings import Settings, SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "load_settings"]
