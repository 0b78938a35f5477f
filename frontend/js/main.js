// Wires the page: REST for the first picture and every catch-up, /ws for live updates.

import { loadAccount } from "./account/account.js";
import { api } from "./core/api.js";
import {
  alertCancelled, alertChanged, alertCreated, alertExpired, alertsFired, alertSymbols, catchUpFires, loadAlerts, onAlertsChange, onPriceLookup,
  refreshDistances, setChannels, setSymbols, updatePreview,
} from "./alerts/alerts.js";
import {
  currentPrice, onCardChanged, onCardSelected, refreshContext, refreshFreshness, setHistory, setLive, setMarkets, setSparklines,
  setWatchlist, showHolding, showPrice,
} from "./prices/cards.js";
import {
  loadPortfolio, onHoldingChanged, onPositionSelected, portfolioPrice, portfolioSymbols, setTradeSymbols,
} from "./portfolio/portfolio.js";
import { onRowSelected, setTableLive, setTableSymbols, showRow } from "./prices/table.js";
import { loadContext, onContextChanged } from "./prices/context.js";
import { loadChannels, onChannelsChanged } from "./alerts/channels.js";
import { keepClearOfTop } from "./alerts/notice.js";
import { addLivePoint, chartSymbols, openChart, refreshAlertLines, refreshChartContext } from "./chart/chart.js";
import { setCompareChoices } from "./chart/compare.js";
import { setPriceHints } from "./core/format.js";
import { clearOutages } from "./core/forms.js";
import { setServerClock } from "./prices/freshness.js";
import { connect, setDelayed } from "./core/socket.js";
import { refreshSourceState, setSourceState } from "./prices/source.js";
import "./prices/search.js"; // the add box's suggestions
import { startWatchlistEditing } from "./prices/watchlist.js";
import { activeList, onListChosen, setLists } from "./prices/lists.js";
import { startSubscribing, subscribe } from "./prices/subscription.js";

async function catchUp() {
  const news = watchlistNews;
  const [watched, latest] = await Promise.all([api.symbols(), api.latest()]);
  setServerClock(latest.server_time, latest.stale_after_seconds);
  setSourceState(latest.source_state);
  if (news === watchlistNews) showWatchlist(watched); // else the socket's is newer
  setMarkets(latest.markets);
  latest.prices.forEach((tick) => showPrice(tick, tick.previous_price));
  await Promise.all([loadAlerts(), loadChannels(), loadSparklines(), loadContext(), catchUpFires(), loadPortfolio()]);
}

// Watchlists that came on the socket: a REST answer asked for before one of them is older.
let watchlistNews = 0;

async function loadWatchlist(request) {
  const news = watchlistNews;
  const watched = await request;
  if (news === watchlistNews) showWatchlist(watched);
}

// `watched`: every watched symbol (cards keep their prices whichever tab shows them) and the lists.
let shownWatchlist = { symbols: [], watchlists: [] };

function showWatchlist(watched) {
  shownWatchlist = watched;
  const { symbols, watchlists = [] } = watched; // a server before the lists sent none
  setLists(watchlists);
  const shown = activeList()?.symbols ?? symbols.map((s) => s.symbol);
  setPriceHints(symbols); // before the cards: their prices are written in these decimals
  setTableSymbols(shown); // rows first: the cards tell them what they show
  setWatchlist(symbols, shown);
  setSymbols(symbols.map((s) => s.symbol));
  setTradeSymbols(symbols.map((s) => s.symbol));
  setCompareChoices(symbols.map((s) => s.symbol));
  refreshDistances();
}

async function loadSparklines() {
  setSparklines((await api.sparklines()).symbols);
}

function onPrice(tick) {
  showPrice(tick);
  addLivePoint(tick);
  portfolioPrice(tick.symbol);
}

// The compact frame a subscribed page gets: [symbol, price, observed_at ms, received_at - observed_at ms, source number].
function ticksOf(message) {
  return message.ticks.map(([symbol, price, observedMs, lateMs, source]) => ({
    symbol,
    price,
    observed_at: new Date(observedMs).toISOString(),
    received_at: new Date(observedMs + lateMs).toISOString(),
    source: message.sources[source],
  }));
}

function pricesOf(message) {
  if (message.type === "ticks") return ticksOf(message);
  if (message.type === "prices") return message.prices; // a page that has not subscribed yet (and older servers)
  if (message.type === "price") return [message];
  return null;
}

function onMessage(message) {
  const prices = pricesOf(message);
  if (prices) {
    prices.forEach(onPrice);
    updatePreview();
    refreshDistances();
  } else if (message.type === "error") {
    console.warn(message.message); // a subscription the server could not take: it keeps the last one
  } else if (message.type === "alerts") {
    alertsFired(message.alerts); // every fire of one batch in one frame
  } else if (message.type === "alert") {
    alertsFired([message.alert]); // one fire per frame, as servers before this one sent
  } else if (message.type === "alert_expired") {
    alertExpired(message.alert);
  } else if (message.type === "alert_created") {
    alertCreated(message.alert);
  } else if (message.type === "alert_changed") {
    alertChanged(message.alert); // edited here or in another tab (a line dragged on a chart too)
  } else if (message.type === "alert_cancelled") {
    alertCancelled(message.alert);
  } else if (message.type === "source") {
    setSourceState(message); // the fetch began or ended a rest after throttling
  } else if (message.type === "history") {
    setHistory(message); // the loading of a symbol's past went on
  } else if (message.type === "markets") {
    setMarkets(message.markets); // a market opened or closed
  } else if (message.type === "watchlist") {
    watchlistNews += 1;
    showWatchlist(message); // added, removed or reordered, a list made or renamed, here or in another tab
    loadSparklines().catch(() => {});
    loadContext().catch(() => {});
  }
}

// Every second: judge each card's age, and the feed as a whole. Every 5 minutes: the sparklines
// afresh (live prices only move their newest point).
setInterval(() => {
  setDelayed(refreshFreshness());
  refreshSourceState();
}, 1000);
setInterval(() => loadSparklines().catch(() => {}), 300_000);
setInterval(() => loadContext().catch(() => {}), 60_000); // the day's figures, the 52 weeks, the volume
onContextChanged(() => {
  refreshContext();
  refreshChartContext();
});

keepClearOfTop(document.getElementById("top"));
onCardSelected(openChart);
onRowSelected(openChart);
onPositionSelected(openChart);
onCardChanged(showRow);
onAlertsChange(refreshAlertLines);
startWatchlistEditing(loadWatchlist);
onListChosen(() => showWatchlist(shownWatchlist));
onPriceLookup(currentPrice);
onChannelsChanged(setChannels);
onHoldingChanged(showHolding);
startSubscribing({
  cards: document.getElementById("cards"),
  rows: document.getElementById("watch-table-body"),
  elsewhere: () => [...chartSymbols(), ...alertSymbols(), ...portfolioSymbols()],
  symbols: () => shownWatchlist.symbols.map((s) => s.symbol),
});
connect({
  onMessage,
  onOpen: () => {
    subscribe(true); // a new socket knows nothing of the last one's subscription
    setLive(true);
    setTableLive(true);
    clearOutages(); // "the server did not answer" under a form no longer holds
    // The session too: a page left open across a server restart gets its CSRF token afresh.
    Promise.all([loadAccount(), catchUp()]).catch((error) => console.error("catch-up failed", error));
  },
  onDown: () => {
    setLive(false);
    setTableLive(false);
  },
});
