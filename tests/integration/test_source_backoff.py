"""A throttled source rests (exponential, jittered, capped; shared through the real Redis), the
fetch skips it meanwhile and says so in /api/status and to the page, and one good answer ends it."""

from __future__ import annotations

import json
import random

import pytest

import tasks.fetch as fetch
from app.market.sources import Throttled, chosen
from app.market.sources.backoff import Backoff
from app.market.sources.simulated import SimulatedSource
from app.pipeline.pubsub import ALERTS_CHANNEL


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_each_throttled_answer_in_a_row_doubles_the_rest_up_to_the_cap_and_one_good_answer_ends_it(redis_client):
    clock = Clock()
    backoff = Backoff(redis_client, "yfinance", base=4, cap=60, clock=clock, rng=random.Random(7))
    assert backoff.resting() is None
    rests = [backoff.throttled("429 Too Many Requests").until - clock.now for _ in range(7)]
    ceilings = [4, 8, 16, 32, 60, 60, 60]
    assert all(c / 2 <= r <= c for r, c in zip(rests, ceilings, strict=True)), rests
    resting = backoff.resting()
    assert resting is not None and resting.attempts == 7 and resting.reason == "429 Too Many Requests"
    assert resting.describe(clock.now) == f"rate limited, retrying in {round(rests[-1])} s (429 Too Many Requests)"
    other_process = Backoff(redis_client, "yfinance", clock=clock)
    assert other_process.resting() == resting  # every worker process sees the same rest
    clock.now += 61
    assert backoff.resting() is None  # the rest is over: ask again
    backoff.recovered()
    assert 2 <= backoff.throttled("again").until - clock.now <= 4  # from the base once more


class ThrottledSource:
    name = "yfinance"

    def __init__(self) -> None:
        self.calls = 0

    def fetch(self, symbols, now):
        self.calls += 1
        raise Throttled("Yahoo Finance answered 429 Too Many Requests")


@pytest.fixture
def events(redis_client):
    listener = redis_client.pubsub()
    listener.subscribe(ALERTS_CHANNEL)
    listener.get_message(timeout=1)  # the subscription's confirmation
    yield lambda: [
        told for m in iter(lambda: listener.get_message(timeout=0.5), None)
        if (told := json.loads(m["data"]))["type"] == "source"
    ]  # fmt: skip
    listener.close()


def test_a_throttled_source_rests_the_fetch_says_so_and_a_good_answer_ends_it(ctx, client, redis_client, events):
    throttled = ThrottledSource()
    chosen._source = throttled
    try:
        assert fetch.fetch_prices.run() == 0
        assert fetch.fetch_prices.run() == 0  # resting: the source is not asked
        assert throttled.calls == 1
        told = events()
        assert [(e["type"], e["source"], e["state"]) for e in told] == [("source", "yfinance", "rate_limited")]
        assert told[0]["reason"] == "Yahoo Finance answered 429 Too Many Requests"
        state = client.get("/api/status").json["source_state"]
        assert (state["source"], state["state"]) == ("yfinance", "rate_limited")
        assert 2 <= state["retry_in_seconds"] <= 4  # the first rest: between half the base (4 s) and all of it
        assert state["message"] == (
            f"rate limited, retrying in {state['retry_in_seconds']} s (Yahoo Finance answered 429 Too Many Requests)"
        )
        assert client.get("/api/prices/latest").json["source_state"]["until"] == state["until"]
        refused = client.post("/api/symbols", json={"symbol": "AAPL"})  # Yahoo is not asked while it rests
        assert refused.status_code == 503 and throttled.calls == 1
        assert refused.json["error"].startswith("could not check AAPL: yfinance is rate limited, retrying in ")

        redis_client.hset("stockticker:source:backoff:yfinance", "until", 0)  # the rest is over
        chosen._source = SimulatedSource(seed=1, interval_seconds=2)
        chosen._source.name = "yfinance"  # the same source answering again
        assert fetch.fetch_prices.run() == 3
        assert [(e["type"], e["state"]) for e in events()] == [("source", "ok")]
        assert client.get("/api/status").json["source_state"] == {"type": "source", "source": "yfinance", "state": "ok"}
        assert Backoff(redis_client, "yfinance").resting() is None
    finally:
        chosen._source = None
