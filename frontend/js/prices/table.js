// The watchlist as a table, beside the cards (a toggle, remembered): symbol, name, price, 24 h
// change, day and 52-week ranges, volume and the 24 h sparkline, a row per watched symbol. A
// column's header sorts by it (again: the other way, a third time: the watchlist's order). Rows
// show what the cards show, from the same state (cards.js tells each change), so live prices and
// the freshness states are the cards' own.

import { element } from "../core/dom.js";
import { formatPrice } from "../core/format.js";
import { sparkline } from "./cards.js";
import { contextValues } from "./context.js";

const box = document.getElementById("watch-table-box");
const body = document.getElementById("watch-table-body");
const cardsEl = document.getElementById("cards");
const viewButtons = [...document.querySelectorAll("#watch-view button")];
const headers = [...document.querySelectorAll("#watch-table th[data-sort]")];
const VOLUME = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 2 });
const rows = new Map(); // symbol -> { tr, cells, view }
let order = []; // the watchlist's order
let sort = JSON.parse(localStorage.getItem("watch-sort") || "null"); // { key, dir: 1 | -1 } or null
let openChart = () => {};

export function onRowSelected(handler) {
  openChart = handler;
}

// Where the price sits in a range: 0 at its low, 1 at its high (for sorting "near the high").
function placeIn(range, price) {
  if (!range || price === null || range.high === range.low) return null;
  return (price - range.low) / (range.high - range.low);
}

// Each sortable column's value; null sorts last whichever way.
const KEYS = {
  symbol: (r) => r.view.symbol,
  name: (r) => r.view.name || null,
  price: (r) => r.view.price,
  day: (r) => r.view.dayPercent,
  "day-range": (r) => placeIn(contextValues(r.view.symbol)?.day, r.view.price),
  "year-range": (r) => placeIn(contextValues(r.view.symbol)?.year, r.view.price),
  volume: (r) => contextValues(r.view.symbol)?.volume ?? null,
};

function row(symbol) {
  if (rows.has(symbol)) return rows.get(symbol);
  const tr = element("tr");
  tr.dataset.symbol = symbol;
  const open = element("button", "row-open", symbol);
  open.type = "button";
  open.setAttribute("aria-label", `${symbol}: open chart`);
  open.addEventListener("click", () => openChart(symbol, open));
  const cells = {
    symbol: element("th", "row-symbol"),
    name: element("td", "row-name"),
    price: element("td", "num row-price"),
    day: element("td", "num day-change"),
    dayRange: element("td", "num"),
    yearRange: element("td", "num"),
    volume: element("td", "num"),
    spark: element("td", "row-spark"),
  };
  cells.symbol.scope = "row";
  cells.symbol.append(open);
  const { spark, line } = sparkline();
  cells.line = line;
  cells.spark.append(spark);
  cells.priceText = element("span", "", "–");
  cells.state = element("span", "row-state"); // "stale, last price 21 s ago", "market closed"
  cells.price.append(cells.priceText, cells.state);
  tr.append(cells.symbol, cells.name, cells.price, cells.day, cells.dayRange, cells.yearRange, cells.volume, cells.spark);
  const entry = { tr, cells, view: { symbol, price: null, dayPercent: null } };
  rows.set(symbol, entry);
  return entry;
}

function rangeText(range, symbol, reference) {
  if (!range) return "–";
  const price = (value) => formatPrice(value, reference ?? value, symbol);
  return `${price(range.low)} – ${price(range.high)}`;
}

// A card changed (a price, its freshness, its context): its row follows.
export function showRow(view) {
  const r = rows.get(view.symbol);
  if (!r) return;
  const moved = r.view.price !== null && view.price !== r.view.price;
  r.view = view;
  const { cells } = r;
  const context = contextValues(view.symbol);
  cells.name.textContent = view.name ?? "";
  cells.priceText.textContent = view.priceText;
  cells.state.textContent = view.stale || view.market === "closed" ? view.meta : "";
  cells.day.textContent = view.dayPercent === null ? "–" : view.dayShort; // "▲ +2.31%"; since when, on hover
  cells.day.title = view.dayText;
  cells.day.dataset.direction = view.direction;
  cells.dayRange.textContent = rangeText(context?.day, view.symbol, view.price);
  cells.yearRange.textContent = rangeText(context?.year, view.symbol, view.price);
  cells.volume.textContent = context?.volume ? VOLUME.format(context.volume) : "–";
  cells.line.setAttribute("points", view.spark ?? "");
  cells.line.dataset.direction = view.direction;
  r.tr.dataset.stale = String(view.stale);
  r.tr.dataset.market = view.market;
  if (moved) {
    cells.priceText.classList.remove("flash");
    void cells.priceText.offsetWidth; // restart the animation
    cells.priceText.classList.add("flash");
  }
  if (sort && !box.hidden) arrangeSoon();
}

// A batch of prices changes many rows: sort once for all of them, at the next frame.
let arranging = false;
function arrangeSoon() {
  if (arranging) return;
  arranging = true;
  requestAnimationFrame(() => {
    arranging = false;
    arrange();
  });
}

// While the socket is down the numbers are not live: the table says so as the cards do.
export function setTableLive(live) {
  box.classList.toggle("stale", !live);
}

// The watched symbols, in the watchlist's order: rows of the others go.
export function setTableSymbols(symbols) {
  const watched = new Set(symbols);
  for (const [symbol, r] of rows) {
    if (!watched.has(symbol)) {
      r.tr.remove();
      rows.delete(symbol);
    }
  }
  order = symbols;
  for (const symbol of symbols) row(symbol);
  arrange();
}

function compare(a, b) {
  const [x, y] = [KEYS[sort.key](a), KEYS[sort.key](b)];
  if (x === y) return order.indexOf(a.view.symbol) - order.indexOf(b.view.symbol);
  if (x === null || x === undefined) return 1;
  if (y === null || y === undefined) return -1;
  return (typeof x === "string" ? x.localeCompare(y) : x - y) * sort.dir;
}

// Rows in the chosen order; only rows that moved are moved (focus and hover stay put).
function arrange() {
  const entries = order.map((symbol) => rows.get(symbol)).filter(Boolean);
  if (sort) entries.sort(compare);
  entries.forEach((r, index) => {
    const there = body.children[index];
    if (there !== r.tr) body.insertBefore(r.tr, there ?? null);
  });
  for (const th of headers) {
    const on = sort?.key === th.dataset.sort;
    th.setAttribute("aria-sort", on ? (sort.dir > 0 ? "ascending" : "descending") : "none");
  }
  box.dataset.sort = sort ? `${sort.key}:${sort.dir > 0 ? "asc" : "desc"}` : "";
}

// A header: sort by it (numbers high first, text A first), again the other way, then the
// watchlist's order.
for (const th of headers) {
  th.querySelector("button").addEventListener("click", () => {
    const key = th.dataset.sort;
    const first = key === "symbol" || key === "name" ? 1 : -1;
    if (sort?.key !== key) sort = { key, dir: first };
    else if (sort.dir === first) sort = { key, dir: -first };
    else sort = null;
    localStorage.setItem("watch-sort", JSON.stringify(sort));
    arrange();
  });
}

function showView(view) {
  const table = view === "table";
  box.hidden = !table;
  cardsEl.hidden = table;
  for (const button of viewButtons) button.setAttribute("aria-pressed", String(button.dataset.view === view));
  document.getElementById("watch-hint-cards").hidden = table;
  document.getElementById("watch-hint-table").hidden = !table;
  if (table) arrange();
}

for (const button of viewButtons) {
  button.addEventListener("click", () => {
    localStorage.setItem("watch-view", button.dataset.view);
    showView(button.dataset.view);
  });
}
showView(localStorage.getItem("watch-view") === "table" ? "table" : "cards");
