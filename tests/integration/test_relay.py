import json

from app.pipeline.pubsub import ALERTS_CHANNEL, PRICES_CHANNEL, publish
from app.web.ws import Relay
from tests.integration.helpers import wait_for


def payload(frame: bytes) -> dict:
    """The JSON in a server text frame (these are short: a 2-byte header)."""
    assert frame[0] == 0x81 and frame[1] < 126
    return json.loads(frame[2:])


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
