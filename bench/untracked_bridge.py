"""The bridge with the offset tracking taken out: its tasks carry no spans, so they record nothing
and nothing is ever committed. Only the ingest benchmark runs it, as the comparison that says what
the tracking costs (``python -m bench.untracked_bridge``, same settings as the bridge)."""

from __future__ import annotations

from typing import Any

from celery import Celery

from tasks import bridge
from tasks.bridge import Dispatch

_tracked = bridge.celery_dispatch


def _untracked(celery: Celery) -> Dispatch:
    dispatch = _tracked(celery)

    def without_spans(messages: list[dict[str, Any]], spans: Any) -> None:
        dispatch(messages, [])

    return without_spans


if __name__ == "__main__":
    bridge.celery_dispatch = _untracked  # main() makes its dispatch from this name
    bridge.main()
