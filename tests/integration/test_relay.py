import json
import time
from datetime import datetime

from app.pipeline.pubsub import ALERTS_CHANNEL, PRICES_CHANNEL, publish
from app.web.price_frames import parse_subscription
from app.web.ws import SLOW_GROUPS, Relay
from tests.integration.helpers import wait_for


def payload(frame: bytes) -> dict:
    """The JSON in a server text frame (short ones: a 2-byte header, or 4 with a 16-bit length)."""
    assert frame[0] == 0x81 and frame[1] <= 126
    return json.loads(frame[2:] if frame[1] < 126 else frame[4:])


def test_one_listener_fans_out_to_every_client_and_forgets_those_that_left(settings, redis_client):
    relay = Relay(settings.redis_url)
    first, second = relay.subscribe(), relay.subscribe()
    # The listener subscribes in its own thread: wait until Redis counts it.
    wait_for(lambda: redis_client.pubsub_numsub(PRICES_CHANNEL)[0][1] >= 1, 10, "the relay's subscription")
    publish(redis_client, PRICES_CHANNEL, [{"type": "price", "symbol": "BTC-USD", "price": 1.5}])
    publish(redis_client, ALERTS_CHANNEL, [{"type": "alert", "alert": {"id": 7}}])
    for client in (first, second):
        got = [payload(client.get(timeout=5)), payload(client.get(timeout=5))]
        assert got == [{"type": "price", "symbol": "BTC-USD", "price": 1.5}, {"type": "alert", "alert": {"id": 7}}]
    relay.unsubscribe(first)
    assert relay.client_count() == 1
    publish(redis_client, PRICES_CHANNEL, [{"type": "price", "symbol": "ETH-USD", "price": 2}])
    assert payload(second.get(timeout=5))["symbol"] == "ETH-USD"
    assert first.empty()
    relay.close()


def test_each_subscriber_gets_what_it_shows_at_every_fetch_and_what_it_keeps_every_slow_round(
    settings, redis_client, monkeypatch
):
    """A socket that never subscribed gets every price in the old frame; a subscriber gets its live
    symbols in the compact frame at once, its slow ones (the newest changed price of each) at the
    next slow round (every SLOW_SECONDS in the listener), and nothing it did not ask for; every
    other message goes to everyone."""
    monkeypatch.setattr("app.web.ws.SLOW_SECONDS", 3600)  # the rounds come when the test says
    relay = Relay(settings.redis_url)
    legacy, shows_btc, shows_eth_keeps_btc = relay.subscribe(), relay.subscribe(), relay.subscribe()
    shows_btc.subscription = parse_subscription('{"type": "subscribe", "live": ["BTC-USD"]}')
    shows_eth_keeps_btc.subscription = parse_subscription(
        '{"type": "subscribe", "live": ["ETH-USD"], "slow": ["BTC-USD", "DOGE-USD"]}'
    )

    # this relay's listener is subscribed once a message reaches its clients (another test's
    # listener may still be counted by Redis for up to a second after its close)
    def heard() -> bool:
        publish(redis_client, ALERTS_CHANNEL, [{"type": "ping"}])
        return not legacy.empty()

    wait_for(heard, 10, "the relay's subscription")
    time.sleep(0.2)
    for client in (legacy, shows_btc, shows_eth_keeps_btc):
        while not client.empty():
            assert payload(client.get(timeout=1)) == {"type": "ping"}
    old_btc = {"symbol": "BTC-USD", "price": 1.5, "observed_at": "2026-12-06T07:00:00+00:00",
               "received_at": "2026-12-06T07:00:00.200000+00:00", "source": "simulated"}  # fmt: skip
    new_btc = old_btc | {"price": 1.75, "observed_at": "2026-12-06T07:00:02+00:00"}
    eth = old_btc | {"symbol": "ETH-USD", "price": 2.5}
    publish(redis_client, PRICES_CHANNEL, [{"type": "prices", "prices": [old_btc, eth]}])
    publish(redis_client, PRICES_CHANNEL, [{"type": "prices", "prices": [new_btc]}])
    publish(redis_client, ALERTS_CHANNEL, [{"type": "alerts", "alerts": [{"id": 7}]}])

    at = round(datetime.fromisoformat(old_btc["observed_at"]).timestamp() * 1000)
    assert [payload(legacy.get(timeout=5)) for _ in range(3)] == [
        {"type": "prices", "prices": [old_btc, eth]}, {"type": "prices", "prices": [new_btc]},
        {"type": "alerts", "alerts": [{"id": 7}]},
    ]  # fmt: skip
    assert [payload(shows_btc.get(timeout=5)) for _ in range(3)] == [
        {"type": "ticks", "sources": ["simulated"], "ticks": [["BTC-USD", 1.5, at, 200, 0]]},
        {"type": "ticks", "sources": ["simulated"], "ticks": [["BTC-USD", 1.75, at + 2000, -1800, 0]]},
        {"type": "alerts", "alerts": [{"id": 7}]},
    ]  # fmt: skip
    assert [payload(shows_eth_keeps_btc.get(timeout=5)) for _ in range(2)] == [
        {"type": "ticks", "sources": ["simulated"], "ticks": [["ETH-USD", 2.5, at, 200, 0]]},
        {"type": "alerts", "alerts": [{"id": 7}]},
    ]  # fmt: skip
    assert shows_eth_keeps_btc.empty()
    for _ in range(SLOW_GROUPS):  # a turn of every group's slow round: BTC-USD's newest, once
        relay._send_slow()  # (DOGE-USD had no price)
    assert payload(shows_eth_keeps_btc.get(timeout=5)) == {
        "type": "ticks", "sources": ["simulated"], "ticks": [["BTC-USD", 1.75, at + 2000, -1800, 0]]
    }  # fmt: skip
    for _ in range(SLOW_GROUPS):  # nothing changed since: nothing sent
        relay._send_slow()
    assert shows_eth_keeps_btc.empty() and shows_btc.empty() and legacy.empty()
    relay.close()
