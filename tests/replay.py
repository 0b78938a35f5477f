"""Recorded answers of the price sources' HTTP APIs, served to a requests session: no network.

The Kraken answers in tests/fixtures/kraken follow Kraken's documented public REST answers
(Assets, AssetPairs, Ticker) field for field; ccxt parses them exactly as it parses the live ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter

KRAKEN = Path(__file__).parent / "fixtures" / "kraken"


class KrakenReplay(BaseAdapter):
    """Kraken's public endpoints from the recorded files. ``ticker`` = "429" answers the price
    call Too Many Requests, "busy" with Kraken's own rate-limit error in a 200 answer;
    ``unlisted`` pairs (Kraken's ids: XDGUSD) are left out of its list of markets."""

    def __init__(self, ticker: str = "recorded", unlisted: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.ticker, self.unlisted = ticker, unlisted
        self.asked: list[str] = []  # "Ticker?pair=XXBTZUSD,XETHZUSD"

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        endpoint = parts.path.removeprefix("/0/public/")
        pairs = parse_qs(parts.query).get("pair", [""])[0]
        self.asked.append(f"{endpoint}?pair={pairs}" if pairs else endpoint)
        response = requests.Response()
        response.url, response.request, response.status_code, response.reason = request.url, request, 200, "OK"
        response.headers["Content-Type"] = "application/json"
        if endpoint == "Ticker" and self.ticker == "429":
            response.status_code, response.reason, response._content = 429, "Too Many Requests", b"Too Many Requests"
            response.headers["Content-Type"] = "text/plain"
        elif endpoint == "Ticker" and self.ticker == "busy":
            response._content = b'{"error":["EGeneral:Too many requests"]}'
        elif endpoint == "AssetPairs" and self.unlisted:
            answer = json.loads((KRAKEN / "AssetPairs.json").read_bytes())
            answer["result"] = {k: v for k, v in answer["result"].items() if k not in self.unlisted}
            response._content = json.dumps(answer).encode()
        else:
            response._content = (KRAKEN / f"{endpoint}.json").read_bytes()
        return response

    def close(self) -> None:
        pass


def kraken_session(adapter: KrakenReplay) -> requests.Session:
    session = requests.Session()
    session.mount("https://", adapter)
    return session
