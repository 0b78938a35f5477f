"""Backing off a source that throttles us: exponential with jitter, capped, shared by every
worker process through Redis, and plain to see in /api/status and on the page.

Yahoo answers 429 (or, throttling more quietly, an empty answer) when asked too often; asking
again every 2 s only prolongs it. After the n-th throttled answer in a row the source rests for
a random time between half and all of ``min(cap, base * 2**(n-1))`` ("equal jitter": several
stacks behind one address do not retry in step), then is tried again; one good answer clears it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

KEY = "stockticker:source:backoff:{source}"  # hash: until (epoch s), attempts, reason, stand_in
BASE_SECONDS = 4.0
CAP_SECONDS = 300.0


@dataclass(frozen=True)
class Resting:
    """A source at rest: until when, why, and how many throttled answers in a row led here."""

    until: float
    reason: str
    attempts: int
    stand_in: str | None = None  # the source asked for crypto pairs meanwhile (CRYPTO_FALLBACK)

    def retry_in(self, now: float) -> int:
        return max(0, round(self.until - now))

    def describe(self, now: float) -> str:
        return f"rate limited, retrying in {self.retry_in(now)} s ({self.reason})"


class Backoff:
    def __init__(
        self,
        client: redis.Redis,
        source: str,
        base: float = BASE_SECONDS,
        cap: float = CAP_SECONDS,
        clock: Any = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.client, self.key = client, KEY.format(source=source)
        self.base, self.cap, self.clock = base, cap, clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not a secret

    def resting(self) -> Resting | None:
        """The rest in force now, if any."""
        raw = {k.decode(): v.decode() for k, v in self.client.hgetall(self.key).items()}
        if not raw or float(raw["until"]) <= self.clock():
            return None
        return Resting(float(raw["until"]), raw["reason"], int(raw["attempts"]), raw.get("stand_in") or None)

    def throttled(self, reason: str, stand_in: str | None = None) -> Resting:
        """Note one more throttled answer in a row; returns the rest it earned."""
        attempts = int(self.client.hincrby(self.key, "attempts", 1))
        ceiling = min(self.cap, self.base * 2 ** (attempts - 1))
        until = self.clock() + self.rng.uniform(ceiling / 2, ceiling)
        self.client.hset(self.key, mapping={"until": until, "reason": reason, "stand_in": stand_in or ""})
        self.client.expire(self.key, int(self.cap * 4))  # forgotten after a long quiet spell
        return Resting(until, reason, attempts, stand_in)

    def recovered(self) -> bool:
        """A good answer: the next throttling starts again from the base. True if it had been
        throttled (so the pages hear that it answers again)."""
        return bool(self.client.delete(self.key))


def source_state(source: str, resting: Resting | None, now: float | None = None) -> dict[str, Any]:
    """What /api/status, /api/prices/latest and the page say about the price source."""
    if resting is None:
        return {"type": "source", "source": source, "state": "ok"}
    now = time.time() if now is None else now
    return {
        "type": "source",
        "source": source,
        "state": "rate_limited",
        "until": datetime.fromtimestamp(resting.until, UTC).isoformat(),
        "retry_in_seconds": resting.retry_in(now),
        "reason": resting.reason,
        "message": resting.describe(now),
        "stand_in": resting.stand_in,
    }
