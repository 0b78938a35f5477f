"""The yfinance adapter on recorded Yahoo chart answers, replayed by a requests transport.

No network: every URL yfinance asks for is answered from tests/fixtures/yahoo.
"""

import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

from app.market.sources import Listing, Match, SourceError, Throttled, UnknownSymbol
from app.market.sources.yahoo import CountsThrottling, YahooSource

FIXTURES = Path(__file__).parent.parent / "fixtures" / "yahoo"
NOW = datetime(2026, 11, 24, 12, 30, 0, tzinfo=UTC)


class Replay(BaseAdapter):
    """Answers Yahoo's URLs from recorded files; records which paths were asked for. ``charts``
    "429" answers every chart request Too Many Requests, "empty" with a chart holding no prices
    (how Yahoo answers when it throttles quietly)."""

    def __init__(self, delay: float = 0.0, charts: str = "recorded") -> None:
        super().__init__()
        self.paths: list[str] = []
        self.delay = delay
        self.charts = charts

    def send(self, request, **kwargs):
        time.sleep(self.delay)
        path = urlsplit(request.url).path
        self.paths.append(path)
        response = requests.Response()
        response.url = request.url
        response.request = request
        response.headers["Content-Type"] = "application/json"
        if path.startswith("/v8/finance/chart/") and self.charts == "429":
            response.status_code = 429
            response.headers["Content-Type"] = "text/plain"
            response._content = b"Too Many Requests"
        elif path.startswith("/v8/finance/chart/") and self.charts == "empty":
            response.status_code = 200
            response._content = (FIXTURES / "chart_empty.json").read_bytes()
        elif path.startswith("/v8/finance/chart/"):
            symbol = path.rsplit("/", 1)[1]
            recorded = FIXTURES / f"chart_{symbol}.json"
            if not recorded.exists():
                recorded = FIXTURES / "chart_NOPE.json"
            response.status_code = 200 if symbol != "NOPE" and recorded.name != "chart_NOPE.json" else 404
            response._content = recorded.read_bytes()
        elif path == "/v1/finance/search" and self.charts == "429":
            response.status_code = 429
            response.headers["Content-Type"] = "text/plain"
            response._content = b"Too Many Requests"
        elif path == "/v1/finance/search":  # "apple" as recorded; any other query: the same, no quotes
            response.status_code = 200
            recorded = json.loads((FIXTURES / "search_apple.json").read_bytes())
            if parse_qs(urlsplit(request.url).query).get("q") != ["apple"]:
                recorded |= {"count": 0, "quotes": []}
            response._content = json.dumps(recorded).encode()
        elif path.endswith("/getcrumb"):
            response.status_code = 200
            response.headers["Content-Type"] = "text/plain"
            response._content = b"recorded-crumb"
        else:  # the cookie page
            response.status_code = 200
            response._content = b"{}"
        return response

    def close(self):
        pass


class ReplaySession(CountsThrottling, requests.Session):
    """Counts 429 and 404 answers as the production session (curl_cffi) does."""


def session(adapter: Replay) -> requests.Session:
    s = ReplaySession()
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    return s


@pytest.fixture(autouse=True)
def _yfinance_offline(tmp_path, monkeypatch):
    import yfinance as yf

    yf.set_tz_cache_location(str(tmp_path / "yf-cache"))


def test_one_batched_download_gives_the_last_close_of_each_symbol():
    adapter = Replay()
    source = YahooSource(timeout_seconds=10, session=session(adapter))
    quotes = {q.symbol: q for q in source.fetch(["BTC-USD", "ETH-USD", "DOGE-USD"], NOW)}
    assert quotes["BTC-USD"].price == Decimal("97120.75")
    assert quotes["ETH-USD"].price == Decimal("3516.875")
    # DOGE's last bar has no close: the one before it is the latest price.
    assert quotes["DOGE-USD"].price == Decimal("0.161488")
    # The market is no longer in those bars (NOW is later): stamped at the end of the last bar.
    assert quotes["BTC-USD"].observed_at == datetime(2026, 11, 24, 12, 5, tzinfo=UTC)
    assert quotes["DOGE-USD"].observed_at == datetime(2026, 11, 24, 12, 4, tzinfo=UTC)
    chart_calls = [p for p in adapter.paths if p.startswith("/v8/finance/chart/")]
    assert sorted({p.rsplit("/", 1)[1] for p in chart_calls}) == ["BTC-USD", "DOGE-USD", "ETH-USD"]
    assert not any("quoteSummary" in p for p in adapter.paths)  # never .info


def test_a_live_bar_is_stamped_with_the_fetch_time():
    during_last_bar = datetime(2026, 11, 24, 12, 4, 30, tzinfo=UTC)
    quotes = YahooSource(timeout_seconds=10, session=session(Replay())).fetch(["BTC-USD"], during_last_bar)
    assert [(q.symbol, q.observed_at) for q in quotes] == [("BTC-USD", during_last_bar)]


def test_symbols_yahoo_does_not_know_are_a_failure_not_throttling():
    source = YahooSource(timeout_seconds=10, session=session(Replay()))
    with pytest.raises(SourceError, match=r"^Yahoo Finance knows none of NOPE \(404\)$") as failure:
        source.fetch(["NOPE"], NOW)
    assert not isinstance(failure.value, Throttled)


def test_a_429_is_throttling():
    source = YahooSource(timeout_seconds=10, session=session(Replay(charts="429")))
    with pytest.raises(Throttled, match=r"^Yahoo Finance answered 429 Too Many Requests \(\d+x\)$"):
        source.fetch(["BTC-USD", "ETH-USD"], NOW)


def test_an_empty_answer_is_throttling_not_no_prices():
    source = YahooSource(timeout_seconds=10, session=session(Replay(charts="empty")))
    expected = r"^Yahoo Finance returned no prices for BTC-USD, ETH-USD \(it answers empty when it throttles\)$"
    with pytest.raises(Throttled, match=expected):
        source.fetch(["BTC-USD", "ETH-USD"], NOW)


def test_a_hanging_yahoo_is_cut_off_at_the_deadline():
    source = YahooSource(timeout_seconds=0.5, session=session(Replay(delay=5)))
    started = time.monotonic()
    with pytest.raises(SourceError, match="Yahoo Finance did not answer within 0.5 s"):
        source.fetch(["BTC-USD"], NOW)
    assert time.monotonic() - started < 3


def test_recorded_answers_are_yahoo_shaped():
    data = json.loads((FIXTURES / "chart_BTC-USD.json").read_text())
    result = data["chart"]["result"][0]
    assert len(result["timestamp"]) == len(result["indicators"]["quote"][0]["close"])


def test_a_symbol_is_described_from_its_chart_answer_and_an_unknown_one_refused_with_yahoos_reason():
    adapter = Replay()
    source = YahooSource(timeout_seconds=10, session=session(adapter))
    listing = source.describe("BTC-USD")
    assert listing == Listing("BTC-USD", None, "USD", "CCC", "CRYPTOCURRENCY", calendar="24/7", price_hint=2)
    # Only that symbol's chart: yfinance asks it once for the timezone (then cached on disk), once for prices.
    charts = [p for p in adapter.paths if p.startswith("/v8/finance/chart/")]
    assert set(charts) == {"/v8/finance/chart/BTC-USD"} and len(charts) <= 2
    with pytest.raises(UnknownSymbol, match="^Yahoo Finance: No data found, symbol may be delisted$"):
        source.describe("NOPE")


def test_a_stock_is_described_with_its_exchanges_calendar_and_after_the_close_its_price_is_the_close():
    source = YahooSource(timeout_seconds=10, session=session(Replay()))
    listing = source.describe("AAPL")
    assert listing == Listing("AAPL", "Apple Inc.", "USD", "NasdaqGS", "EQUITY", calendar="XNAS", price_hint=2)
    saturday = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    (quote,) = source.fetch(["AAPL"], saturday)
    # The day after Thanksgiving closes at 13:00 New York: the last bar ends then, the quote is the close.
    assert (quote.price, quote.observed_at) == (Decimal("278.85"), datetime(2026, 11, 27, 18, 0, tzinfo=UTC))


class HistoryReplay(Replay):
    """Every chart request answered with one recorded history answer (tests/fixtures/README.md)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        if urlsplit(request.url).path.startswith("/v8/finance/chart/"):
            response.status_code = 200
            response._content = (FIXTURES / self.name).read_bytes()
        return response


def test_hourly_history_gives_the_complete_bars_of_the_chunk():
    from app.market.sources import Known

    source = YahooSource(timeout_seconds=5, session=session(HistoryReplay("history_NVDA_1h.json")))
    start, stop = datetime(2024, 5, 3, tzinfo=UTC), datetime(2024, 5, 4, tzinfo=UTC)
    bars = source.history("NVDA", "1h", start, stop, Known("XNAS", stop, None))
    assert bars[0] == (
        datetime(2024, 5, 3, 13, 30, tzinfo=UTC), datetime(2024, 5, 3, 14, 30, tzinfo=UTC),
        Decimal("877.8900"), Decimal("889.4746"), Decimal("870.4001"), Decimal("878.6200"), Decimal(13341628),
    )  # fmt: skip
    assert [b.start.hour for b in bars][:7] == [13, 14, 15, 16, 17, 18, 19]  # New York's :30 hours
    assert sum(b.volume for b in bars) == 37_800_012  # the recorded bars' volumes, each once
    assert source.history("NVDA", "1h", stop, stop + timedelta(days=1), Known("XNAS", stop, None)) == []


def test_daily_history_is_stamped_with_the_trading_date_at_utc_midnight():
    from app.market.sources import Known

    source = YahooSource(timeout_seconds=5, session=session(HistoryReplay("history_GS_1d.json")))
    start, stop = datetime(2023, 10, 1, tzinfo=UTC), datetime(2023, 10, 10, tzinfo=UTC)
    bars = source.history("GS", "1d", start, stop, Known("XNYS", stop, None))
    assert [b.start.day for b in bars] == [2, 3, 4, 5, 6, 9]  # Monday to Friday, then Monday
    assert all(b.start.hour == 0 and b.stop - b.start == timedelta(days=1) for b in bars)
    last = (bars[-1].open, bars[-1].close, bars[-1].volume)
    assert last == (Decimal("308.9000"), Decimal("312.6100"), Decimal(1094400))


def test_each_quote_carries_what_was_traded_since_the_previous_fetch():
    from app.market.sources.simulated import MemoryWalkState

    traded = MemoryWalkState()
    source = YahooSource(timeout_seconds=10, session=session(Replay()), traded=traded)
    first = source.fetch(["AAPL"], NOW)
    assert first[0].volume is None  # nothing to count from yet
    day, _, total = traded["AAPL"].partition(":")
    assert int(total) == 4_458_488  # the recorded bars' volumes, added up (Yahoo's crypto minutes carry 0)
    traded["AAPL"] = f"{day}:{int(total) - 1500}"  # as if the last fetch had seen 1,500 fewer
    assert source.fetch(["AAPL"], NOW)[0].volume == Decimal(1500)
    traded["AAPL"] = "2026-11-23:999999999999"  # yesterday's total: today's counts from 0
    assert source.fetch(["AAPL"], NOW)[0].volume == Decimal(total)
    traded["AAPL"] = f"{day}:{int(total) + 10}"  # the total went back (a correction): none
    assert source.fetch(["AAPL"], NOW)[0].volume is None


def test_minute_history_leaves_out_the_bar_still_forming():
    from app.market.sources import Known

    source = YahooSource(timeout_seconds=5, session=session(HistoryReplay("history_AMZN_1m.json")))
    start = datetime(2023, 5, 2, 19, 30, tzinfo=UTC)
    until = datetime(2023, 5, 2, 19, 45, 30, tzinfo=UTC)  # inside the 19:45 minute
    bars = source.history("AMZN", "1m", start, until, Known("XNAS", until, None))
    assert [b.start.minute for b in bars] == list(range(30, 45))  # 19:45 ends after ``until``: live ticks own it
    assert (bars[1].open, bars[1].close, bars[1].volume) == (Decimal("103.6050"), Decimal("103.6000"), Decimal(200320))


def test_a_search_gives_yahoos_quotes_best_first_with_their_names_and_exchanges():
    adapter = Replay()
    found = YahooSource(timeout_seconds=10, session=session(adapter)).search("apple", 3)
    assert found == [
        Match("AAPL", "Apple Inc.", "NASDAQ", "EQUITY"),
        Match("APLE", "Apple Hospitality REIT, Inc.", "NYSE", "EQUITY"),
        Match("AAPL.NE", "Apple Inc.", "NEO", "EQUITY"),
    ]
    assert "/v1/finance/search" in adapter.paths


def test_each_search_asks_yahoo_again_rather_than_yfinances_process_wide_copy():
    first, second = Replay(), Replay()
    YahooSource(timeout_seconds=10, session=session(first)).search("apple", 2)
    found = YahooSource(timeout_seconds=10, session=session(second)).search("apple", 2)
    assert [m.symbol for m in found] == ["AAPL", "APLE"]
    assert first.paths.count("/v1/finance/search") == 1
    assert second.paths.count("/v1/finance/search") == 1  # not answered from the first one's copy


def test_a_refused_search_is_throttling():
    source = YahooSource(timeout_seconds=10, session=session(Replay(charts="429")))
    with pytest.raises(Throttled, match="refused the search"):
        source.search("apple", 5)
