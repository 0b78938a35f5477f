"""Alerts: rules, the alert check, notification channels and their deliveries."""
