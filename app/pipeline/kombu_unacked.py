"""kombu 5.7.0's Redis transport can end the worker when Redis goes away.

When the broker connection drops, Celery closes the connection (the transport forgets its
``client``) and then its channels; closing a channel gives back the tasks it took and has not
acknowledged (``QoS.restore_unacked``), which builds a new Redis connection from the forgotten
client: ``AttributeError: 'NoneType' object has no attribute 'hostname'``, which the worker takes
for an unrecoverable error and exits (issue 19: 2 of 8 Redis kills). Nothing is lost by not giving
them back there: Redis hands unacknowledged tasks out again after the visibility timeout, and what
Redis itself lost the bridge dispatches again from Kafka. ``survive_lost_connection`` makes that
give-back a logged no-op when the connection is gone.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def survive_lost_connection() -> None:
    """Wrap the Redis transport's give-back of unacknowledged tasks (once per process)."""
    import redis
    from kombu.transport.redis import QoS

    original = QoS.restore_unacked
    if getattr(original, "survives_lost_connection", False):
        return

    def restore_unacked(self: Any, client: Any = None) -> Any:
        try:
            return original(self, client)
        except (AttributeError, redis.RedisError) as exc:  # the connection is gone under the channel
            log.warning(
                "could not give back %d unacknowledged tasks as the broker connection closed (%s): "
                "Redis hands them out again after the visibility timeout",
                len(self._delivered), exc,
            )  # fmt: skip
            return None

    restore_unacked.survives_lost_connection = True  # type: ignore[attr-defined]
    QoS.restore_unacked = restore_unacked  # type: ignore[method-assign]
