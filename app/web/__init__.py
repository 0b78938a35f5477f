"""The web layer: REST API, health, and the WebSocket relay (blueprints and routes)."""
