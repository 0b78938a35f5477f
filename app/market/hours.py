"""Trading hours: is a symbol's market open now, and when does it next open or close.

A stock quoted outside its exchange's session is the last close, not a stale price: the page
says "market closed" and the fetch stops asking for it until the next open. Sessions, holidays
and early closes come from ``exchange_calendars``; which calendar is the symbol's comes from the
exchange Yahoo names when the symbol is added (``CALENDARS``). Crypto trades around the clock.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.market.sources.routes import Watched

ALWAYS = "24/7"
# Yahoo's exchange codes (chart meta "exchangeName") -> exchange_calendars names.
CALENDARS: Mapping[str, str] = {
    "NMS": "XNAS", "NGM": "XNAS", "NCM": "XNAS", "NAS": "XNAS", "NIM": "XNAS",
    "NYQ": "XNYS", "NYS": "XNYS", "SNP": "XNYS", "DJI": "XNYS", "ASE": "XASE", "PCX": "ARCX",
    "BTS": "XNYS", "PNK": "OOTC",
    "TOR": "XTSE", "VAN": "XTSX", "MEX": "XMEX", "SAO": "BVMF", "BUE": "XBUE", "SGO": "XSGO",
    "LSE": "XLON", "IOB": "XLON", "GER": "XETR", "FRA": "XFRA", "STU": "XSTU", "DUS": "XDUS",
    "HAM": "XHAM", "PAR": "XPAR", "AMS": "XAMS", "BRU": "XBRU", "LIS": "XLIS", "MIL": "XMIL",
    "MCE": "XMAD", "EBS": "XSWX", "VIE": "XWBO", "STO": "XSTO", "CPH": "XCSE", "HEL": "XHEL",
    "OSL": "XOSL", "ICE": "XICE", "ISE": "XDUB", "WSE": "XWAR", "PRA": "XPRA", "BUD": "XBUD",
    "IST": "XIST", "TLV": "XTAE", "SAU": "XSAU", "JNB": "XJSE",
    "JPX": "XTKS", "HKG": "XHKG", "SHH": "XSHG", "TAI": "XTAI", "KSC": "XKRX", "KOE": "XKRX",
    "ASX": "XASX", "NZE": "XNZE", "BSE": "XBOM", "NSI": "XBOM", "SES": "XSES", "JKT": "XIDX",
    "KLS": "XKLS", "SET": "XBKK",
}  # fmt: skip


def calendar_for(exchange_code: str | None, quote_type: str | None) -> str | None:
    """The symbol's calendar: crypto never closes, a currency pair trades Monday to Friday
    round the clock, anything else follows its exchange's; None where we do not know it."""
    if quote_type == "CRYPTOCURRENCY":
        return ALWAYS
    if quote_type == "CURRENCY":
        return "24/5"
    return CALENDARS.get(exchange_code or "")


@functools.cache
def _calendar(name: str) -> Any:
    import exchange_calendars  # pandas-heavy: imported where hours are judged (the worker), not the web

    with _quiet_pandas():
        return exchange_calendars.get_calendar(name)


@contextlib.contextmanager
def _quiet_pandas() -> Iterator[None]:
    """exchange_calendars 4.13 reads ``Series.values`` of zoned times, which pandas 3.1 warns will
    change; its answers are right today, and the warning would repeat in every worker's log."""
    from pandas.errors import Pandas4Warning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Pandas4Warning)
        yield


@dataclass(frozen=True)
class Session:
    """Where a market stands at one moment."""

    calendar: str
    open: bool
    last_close: datetime | None  # the close before now (None around the clock)
    next_open: datetime | None  # while closed
    next_close: datetime | None  # while open (None around the clock)

    def as_json(self) -> dict[str, Any]:
        def iso(at: datetime | None) -> str | None:
            return at.isoformat() if at else None

        return {
            "calendar": self.calendar,
            "state": "open" if self.open else "closed",
            "last_close": iso(self.last_close),
            "next_open": iso(self.next_open),
            "next_close": iso(self.next_close),
        }


def session_at(calendar: str, now: datetime) -> Session:
    """The market of ``calendar`` at ``now`` (to the minute, as exchange calendars count)."""
    if calendar == ALWAYS:
        return Session(calendar, True, None, None, None)
    return _session(calendar, now.astimezone(UTC).replace(second=0, microsecond=0))


@functools.lru_cache(maxsize=512)
def _session(calendar: str, minute: datetime) -> Session:
    """One calendar's answer per minute: every fetch in that minute shares it."""
    import pandas as pd

    cal, at = _calendar(calendar), pd.Timestamp(minute)
    with _quiet_pandas():
        is_open = bool(cal.is_open_on_minute(at, ignore_breaks=True))
        last_close = cal.previous_close(at).to_pydatetime()
        if is_open:
            return Session(calendar, True, last_close, None, cal.next_close(at).to_pydatetime())
        return Session(calendar, False, last_close, cal.next_open(at).to_pydatetime(), None)


def settling(session: Session, now: datetime, settle: timedelta) -> bool:
    """Closed less than ``settle`` ago: the source may still correct the closing price."""
    return session.last_close is not None and now - session.last_close < settle


def sessions(watched: Sequence[Watched], now: datetime) -> dict[str, Session]:
    """The session of each watched symbol whose calendar is known."""
    return {w.symbol: session_at(w.calendar, now) for w in watched if w.calendar}


def to_ask(
    watched: Sequence[Watched],
    markets: Mapping[str, Session],
    now: datetime,
    settle: timedelta,
    priced: Callable[[Sequence[str]], Mapping[str, Any]],
) -> tuple[list[Watched], set[str]]:
    """The symbols worth asking the source for, and which of them are asked for a first price:
    a closed market's quote is its last close, asked for until ``settle`` after the close, and
    once for a symbol with no price at all (``priced`` names those with one). Repeats that do get
    through are dropped by the ticks' unique key."""
    closed = [
        w.symbol for w in watched
        if w.symbol in markets and not markets[w.symbol].open and not settling(markets[w.symbol], now, settle)
    ]  # fmt: skip
    if not closed:
        return list(watched), set()
    resting = set(priced(closed))
    return [w for w in watched if w.symbol not in resting], set(closed) - resting


def as_of_close(observed_at: datetime, session: Session | None, first: bool) -> datetime | None:
    """When a quote counts from: a closed market's quote is its close. One from after the close
    is a post-market trade and is not kept (None), unless it is the symbol's first price at all:
    that one counts as of the close."""
    if session is None or session.open or session.last_close is None or observed_at <= session.last_close:
        return observed_at
    return session.last_close if first else None
