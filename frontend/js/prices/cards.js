// Price cards, one per watched symbol: a button (opens the chart) with price, the 24 h change
// with a sparkline of the last 24 h, the (smaller) change since the previous tick, and the time; below it the
// card's tools: move earlier / later (the keyboard's way to reorder; a drag does it too) and remove.

import { element } from "../core/dom.js";
import { axisFormatter, formatPrice, formatTime, formatWeekdayTime, sourceName } from "../core/format.js";
import { contextFigures, widenDay } from "./context.js";
import { ageSeconds, isStale } from "./freshness.js";
import { isLive, SLOW_MS } from "./subscription.js";

const cardsEl = document.getElementById("cards");
const emptyEl = document.getElementById("no-prices");
const simulatedEl = document.getElementById("simulated");
const cards = new Map();
const markets = new Map(); // symbol -> its market session (the fetch judges it from the exchange's calendar)
const SVG = "http://www.w3.org/2000/svg";
const ARROWS = { up: "▲", down: "▼", flat: "■" }; // a move's direction, in words that need no colour
const SPARK_BUCKET_MS = 1_800_000; // the server's 30-minute sparkline buckets
const DAY_MS = 86_400_000;
const TOUCH = window.matchMedia("(pointer: coarse)"); // a finger is the main pointer
const hourMinute = axisFormatter("24h"); // "6:11 AM"
let openChart = () => {};
let edits = { move: () => {}, remove: () => {} };
let changed = () => {}; // the table view's rows follow the cards

export function onCardChanged(handler) {
  changed = handler;
}

// What a card shows, for the table's row of the same symbol.
function viewOf(c) {
  return {
    symbol: c.el.dataset.symbol, name: c.name, price: c.last, priceText: c.price.textContent, dayPercent: c.dayPercent,
    dayText: c.day.textContent, dayShort: c.dayShort, direction: c.day.dataset.direction ?? "flat", stale: c.el.dataset.stale === "true",
    market: c.el.dataset.market ?? "open", meta: c.meta.textContent, spark: c.line.getAttribute("points"),
  };
}

export function onCardSelected(handler) {
  openChart = handler;
}

// What the card tools ask for: move(symbol, step) and remove(symbol), each answered by the server.
export function onWatchlistEdit(handlers) {
  edits = handlers;
}

function tool(label, text, action) {
  const button = element("button", "card-tool", text);
  button.type = "button";
  button.setAttribute("aria-label", label);
  button.title = label;
  button.addEventListener("click", action);
  return button;
}

// The 24 h sparkline's drawing (its points come with drawSpark): on the cards and the table's rows.
export function sparkline() {
  const spark = document.createElementNS(SVG, "svg");
  spark.setAttribute("class", "spark");
  spark.setAttribute("viewBox", "0 0 100 24");
  spark.setAttribute("preserveAspectRatio", "none");
  spark.setAttribute("aria-hidden", "true");
  const line = document.createElementNS(SVG, "polyline");
  spark.append(line);
  return { spark, line };
}

function card(symbol) {
  if (cards.has(symbol)) return cards.get(symbol);
  const el = element("div", "card");
  el.dataset.symbol = symbol;
  const button = element("button", "card-open");
  button.type = "button";
  const head = element("span", "card-head");
  const name = element("span", "symbol", symbol);
  const badge = element("span", "badge", "SIMULATED");
  badge.hidden = true;
  head.append(name, badge);
  const listing = element("span", "listing"); // what the source says it is: "Bitcoin USD · CCC"
  const price = element("span", "price", "–");
  const currency = element("span", "currency", symbol.match(/-([A-Z]{3})$/)?.[1] ?? ""); // until described
  const priceLine = element("span", "price-line");
  priceLine.append(price, currency);
  const change = element("span", "change", "no change yet");
  const dayLine = element("span", "day-line");
  const day = element("span", "day-change", "24h –");
  const { spark, line } = sparkline();
  dayLine.append(day, spark);
  const holding = element("span", "holding"); // "Held 0.5 · 47,125.00 USD · +1,204.50 USD"
  holding.hidden = true;
  const meta = element("span", "meta", "no price yet");
  const history = element("span", "history"); // "loading history: 43 %" while its past loads
  history.hidden = true;
  const context = element("dl", "context"); // open, previous close, day and 52-week ranges, volume
  button.append(head, listing, priceLine, dayLine, change, holding, context, meta, history); // the 24 h change first: a tick's is noise
  button.addEventListener("click", () => openChart(symbol, button));
  const tools = element("span", "card-tools");
  const grip = element("span", "card-tool card-grip", "⠿");
  grip.title = `Drag to move ${symbol}`;
  grip.setAttribute("aria-hidden", "true"); // the move buttons are the keyboard's and screen readers' way
  tools.append(
    grip,
    tool(`Move ${symbol} earlier`, "◀", () => edits.move(symbol, -1)),
    tool(`Move ${symbol} later`, "▶", () => edits.move(symbol, 1)),
    tool(`Remove ${symbol} from the watchlist`, "✕", () => edits.remove(symbol)),
  );
  el.append(button, tools);
  cardsEl.append(el);
  const entry = { el, button, badge, listing, currency, price, change, day, line, spark: [], dayBase: null, dayPercent: null, holding, meta, history, context, last: null, receivedAt: null };
  cards.set(symbol, entry);
  return entry;
}

// The watchlist's cards in its order (the server's, not the order prices arrived), each with what
// the source says it is; the cards of symbols no longer watched go.
// A card per watched symbol (every list's: a card keeps its prices while another tab is shown);
// `shown`, the chosen list's symbols, in its order first, the others hidden after them.
export function setWatchlist(watchlist, shown = watchlist.map((s) => s.symbol)) {
  const watched = new Set(watchlist.map((s) => s.symbol));
  for (const [symbol, c] of cards) {
    if (!watched.has(symbol)) {
      c.el.remove();
      cards.delete(symbol);
    }
  }
  for (const s of watchlist) {
    const c = card(s.symbol);
    c.name = s.name;
    c.listing.textContent = [s.name, s.exchange].filter(Boolean).join(" · ");
    c.listing.title = [s.name, s.exchange, s.quote_type?.toLowerCase()].filter(Boolean).join(" · ");
    if (s.currency) c.currency.textContent = s.currency;
    if (s.history) setHistory(s.history);
  }
  const visible = shown.filter((symbol) => cards.has(symbol));
  visible.forEach((symbol, index) => {
    const c = cards.get(symbol);
    c.el.hidden = false;
    const there = cardsEl.children[index];
    if (there !== c.el) cardsEl.insertBefore(c.el, there ?? null); // only what moved: focus stays put
  });
  const onList = new Set(visible);
  for (const [symbol, c] of cards) {
    if (!onList.has(symbol)) {
      c.el.hidden = true;
      cardsEl.append(c.el);
    }
  }
  for (const symbol of visible) changed(viewOf(cards.get(symbol)));
}

function showContext(c, price) {
  const rows = contextFigures(c.el.dataset.symbol, price ?? c.last ?? undefined);
  c.context.replaceChildren(
    ...rows.map(([label, text]) => {
      const row = element("div", "context-row");
      row.append(element("dt", "", label), element("dd", "", text));
      return row;
    }),
  );
  c.context.hidden = !rows.length;
}

// Every card's context afresh (after /api/context was loaded).
export function refreshContext() {
  for (const c of cards.values()) {
    showContext(c, c.last ?? undefined);
    changed(viewOf(c));
  }
}

// How far the loading of a symbol's past has come (the watchlist, then {type: "history"} news).
export function setHistory(progress) {
  const c = cards.get(progress.symbol);
  if (!c) return;
  const loading = !["done", "failed"].includes(progress.state);
  c.history.hidden = !loading;
  c.history.textContent = loading
    ? `loading history: ${progress.percent} %${progress.state === "resting" ? " (the source asked us to wait)" : ""}`
    : "";
  c.el.dataset.history = progress.state;
}

// `previous` comes with REST snapshots; live ticks compare with the card's last price.
export function showPrice(tick, previous) {
  if (!cards.has(tick.symbol)) return; // not (or no longer) on the watchlist
  const c = cards.get(tick.symbol);
  // A live price no newer than the one shown (the 10 s round of a symbol that was just shown
  // live, a catch-up crossing the socket) would show a change of zero: it is news to nobody.
  if (previous === undefined && c.observedAt && Date.parse(tick.observed_at) <= Date.parse(c.observedAt)) return;
  const before = previous ?? c.last;
  c.price.textContent = formatPrice(tick.price, tick.price, tick.symbol);
  if (before !== null && before !== undefined) {
    const delta = tick.price - before;
    const direction = delta > 0 ? "up" : delta < 0 ? "down" : "flat";
    const arrow = ARROWS[direction];
    const percent = before ? ((delta / before) * 100).toFixed(2) : "0.00";
    const sign = delta > 0 ? "+" : delta < 0 ? "−" : "";
    c.change.textContent = `${arrow} ${sign}${formatPrice(Math.abs(delta), tick.price, tick.symbol)} (${sign}${percent.replace("-", "")}%)`;
    c.change.className = `change ${direction}`;
    c.change.dataset.direction = direction;
  }
  if (c.last !== null && tick.price !== c.last) {
    c.price.classList.remove("flash");
    void c.price.offsetWidth; // restart the animation
    c.price.classList.add("flash");
  }
  if (tick.price_24h_ago !== undefined) {
    c.dayBase = tick.price_24h_ago; // REST snapshots carry it, and when that price was
    c.dayAt = tick.price_24h_ago_at ? Date.parse(tick.price_24h_ago_at) : null;
  } else if (c.dayBase === null) {
    c.dayBase = tick.price; // a symbol's first price came live: the oldest price known, as the server would say
    c.dayAt = Date.parse(tick.observed_at);
  }
  showDayChange(c, tick.price);
  widenDay(tick.symbol, tick.price);
  showContext(c, tick.price);
  extendSpark(c, Date.parse(tick.observed_at), tick.price);
  c.receivedAt = tick.received_at ?? tick.observed_at;
  c.observedAt = tick.observed_at;
  c.badge.hidden = tick.source !== "simulated";
  c.el.dataset.source = tick.source;
  c.source = sourceName(tick.source);
  c.last = tick.price;
  emptyEl.hidden = true;
  if (tick.source === "simulated") simulatedEl.hidden = false;
  refreshCard(c);
}

// The change against the price 24 h ago (the server's, from the candles): "24h ▲ +2.31%"; while
// the history is younger than a day it says since when: "since 6:11:40 AM ▲ +0.20%".
function showDayChange(c, price) {
  if (c.dayBase === null || !c.dayBase) {
    c.day.textContent = "24h –";
    c.day.dataset.direction = "flat";
    c.dayPercent = null;
    return;
  }
  const percent = ((price - c.dayBase) / c.dayBase) * 100;
  c.dayPercent = percent;
  const direction = percent > 0 ? "up" : percent < 0 ? "down" : "flat";
  const sign = percent > 0 ? "+" : percent < 0 ? "−" : "";
  const label = c.dayAt && Date.now() - c.dayAt < DAY_MS - 3_600_000 ? `since ${hourMinute(c.dayAt)}` : "24h";
  c.dayShort = `${ARROWS[direction]} ${sign}${Math.abs(percent).toFixed(2)}%`;
  c.day.textContent = `${label} ${c.dayShort}`;
  c.day.dataset.direction = direction;
  c.line.dataset.direction = direction;
}

// Sparkline points are [time ms, close]; drawn scaled to the card's width and their own range.
function drawSpark(c) {
  const points = c.spark;
  if (points.length < 2) {
    c.line.setAttribute("points", "");
    return;
  }
  const [t0, t1] = [points[0][0], points.at(-1)[0]];
  const prices = points.map((p) => p[1]);
  const [low, high] = [Math.min(...prices), Math.max(...prices)];
  const x = (t) => (t1 === t0 ? 100 : ((t - t0) / (t1 - t0)) * 100);
  const y = (v) => (high === low ? 12 : 22 - ((v - low) / (high - low)) * 20);
  c.line.setAttribute("points", points.map(([t, v]) => `${x(t).toFixed(2)},${y(v).toFixed(2)}`).join(" "));
  c.el.dataset.sparkPoints = String(points.length);
  changed(viewOf(c));
}

// A live price moves the newest 30-minute point, or starts the next one.
function extendSpark(c, at, price) {
  if (!c.spark.length) return;
  const bucket = Math.floor(at / SPARK_BUCKET_MS) * SPARK_BUCKET_MS;
  const last = c.spark.at(-1);
  if (bucket === last[0]) last[1] = price;
  else if (bucket > last[0]) c.spark.push([bucket, price]);
  while (c.spark.length && c.spark[0][0] < at - DAY_MS) c.spark.shift();
  drawSpark(c);
}

export function setSparklines(lines) {
  for (const [symbol, points] of Object.entries(lines)) {
    const c = cards.get(symbol);
    if (!c) continue;
    c.spark = points.map(([t, close]) => [Date.parse(t), close]);
    if (c.last !== null) extendSpark(c, Date.now(), c.last);
    drawSpark(c);
  }
}

// Sessions as the server sends them, all or only the ones that changed: {symbol: {state, next_open, ...}}.
export function setMarkets(sessions) {
  for (const [symbol, session] of Object.entries(sessions ?? {})) markets.set(symbol, session);
  for (const c of cards.values()) refreshCard(c);
}

function marketClosed(c) {
  return markets.get(c.el.dataset.symbol)?.state === "closed";
}

// "updated 2:05:14 PM · Yahoo Finance" while fresh, "stale, last price 21 s ago" once older than
// the limit, "market closed · last close Fri 4:00 PM · opens Mon 9:30 AM" while the exchange is shut.
function refreshCard(c) {
  const closed = marketClosed(c);
  c.el.dataset.market = closed ? "closed" : "open";
  if (!c.receivedAt && !closed) return changed(viewOf(c));
  const stale = !closed && isStale(c.receivedAt, isLive(c.el.dataset.symbol) ? 0 : SLOW_MS);
  c.el.dataset.stale = String(stale);
  if (closed) {
    const opens = markets.get(c.el.dataset.symbol).next_open;
    c.meta.textContent = [
      "market closed",
      c.observedAt ? `last close ${formatWeekdayTime(c.observedAt)}` : "no price yet",
      opens ? `opens ${formatWeekdayTime(opens)}` : "",
    ].filter(Boolean).join(" · ");
  } else {
    c.meta.textContent = stale
      ? `stale, last price ${ageSeconds(c.receivedAt)} s ago`
      : `updated ${formatTime(c.observedAt)}${c.source && c.source !== "simulated" ? ` · ${c.source}` : ""}`;
  }
  c.button.setAttribute(
    "aria-label",
    `${c.el.dataset.symbol} ${c.price.textContent}, ${c.change.textContent}, ${c.day.textContent}, ${c.meta.textContent}. Open chart`,
  );
  changed(viewOf(c));
}

// Re-judges every card's age; true when every card with a price is stale (the feed is delayed).
// A closed market's card is not stale: its price is the close.
export function refreshFreshness() {
  const priced = [...cards.values()].filter((c) => c.receivedAt && !marketClosed(c));
  priced.forEach(refreshCard);
  return priced.length > 0 && priced.every((c) => c.el.dataset.stale === "true");
}

// The chosen list's symbols in the order the cards show them.
export function cardOrder() {
  return [...cardsEl.children].filter((el) => !el.hidden).map((el) => el.dataset.symbol);
}

// A drag (SortableJS) reorders the cards; `done` gets the new order. With a mouse a card drags
// from anywhere; on a touch screen only from its grip, so that a swipe on a card scrolls the page
// (a long-press delay instead is unreliable in Chrome on Android: SortableJS issues 1556, 1469).
export function onDragReorder(done) {
  window.Sortable.create(cardsEl, {
    animation: 150,
    handle: TOUCH.matches ? ".card-grip" : null,
    chosenClass: "lifted",
    filter: ".card-tool:not(.card-grip)",
    preventOnFilter: false,
    onEnd: (event) => {
      if (event.oldIndex !== event.newIndex) done(cardOrder());
    },
  });
}

export function focusCardTool(symbol, index) {
  cards.get(symbol)?.el.querySelectorAll("button.card-tool")[index]?.focus();
}

export function currentPrice(symbol) {
  return cards.get(symbol)?.last ?? null;
}

// While the socket is down the numbers are not live: say so on every card.
export function setLive(live) {
  cardsEl.classList.toggle("stale", !live);
  for (const c of cards.values()) c.el.dataset.live = String(live);
}

// A held symbol's position under its price (portfolio.js gives it); null: not held.
export function showHolding(symbol, line) {
  const c = cards.get(symbol);
  if (!c) return;
  c.holding.hidden = !line;
  c.holding.textContent = line?.text ?? "";
  if (line) c.holding.dataset.direction = line.direction;
}
