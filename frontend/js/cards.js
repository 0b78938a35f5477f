// Price cards: one button per symbol with price, change since the previous tick and time.

import { element } from "./dom.js";
import { formatPrice, formatTime } from "./format.js";
import { ageSeconds, isStale } from "./freshness.js";

const cardsEl = document.getElementById("cards");
const emptyEl = document.getElementById("no-prices");
const simulatedEl = document.getElementById("simulated");
const cards = new Map();
let openChart = () => {};

export function onCardSelected(handler) {
  openChart = handler;
}

function card(symbol) {
  if (cards.has(symbol)) return cards.get(symbol);
  const button = element("button", "card");
  button.type = "button";
  button.dataset.symbol = symbol;
  const head = element("span", "card-head");
  const name = element("span", "symbol", symbol);
  const badge = element("span", "badge", "SIMULATED");
  badge.hidden = true;
  head.append(name, badge);
  const price = element("span", "price", "–");
  const currency = symbol.match(/-([A-Z]{3})$/)?.[1]; // BTC-USD is priced in USD
  const priceLine = element("span", "price-line");
  priceLine.append(price);
  if (currency) priceLine.append(element("span", "currency", currency));
  const change = element("span", "change", "no change yet");
  const meta = element("span", "meta", "no price yet");
  button.append(head, priceLine, change, meta);
  button.addEventListener("click", () => openChart(symbol, button));
  cardsEl.append(button);
  const entry = { button, badge, price, change, meta, last: null, receivedAt: null };
  cards.set(symbol, entry);
  return entry;
}

// Cards in the configured order (the server's), not in the order prices arrived.
export function ensureCards(symbols) {
  symbols.forEach(card);
  symbols.forEach((symbol) => cardsEl.append(cards.get(symbol).button));
}

// `previous` comes with REST snapshots; live ticks compare with the card's last price.
export function showPrice(tick, previous) {
  const c = card(tick.symbol);
  const before = previous ?? c.last;
  c.price.textContent = formatPrice(tick.price);
  if (before !== null && before !== undefined) {
    const delta = tick.price - before;
    const direction = delta > 0 ? "up" : delta < 0 ? "down" : "flat";
    const arrow = { up: "▲", down: "▼", flat: "■" }[direction];
    const percent = before ? ((delta / before) * 100).toFixed(2) : "0.00";
    const sign = delta > 0 ? "+" : delta < 0 ? "−" : "";
    c.change.textContent = `${arrow} ${sign}${formatPrice(Math.abs(delta), tick.price)} (${sign}${percent.replace("-", "")}%)`;
    c.change.className = `change ${direction}`;
    c.change.dataset.direction = direction;
  }
  if (c.last !== null && tick.price !== c.last) {
    c.price.classList.remove("flash");
    void c.price.offsetWidth; // restart the animation
    c.price.classList.add("flash");
  }
  c.receivedAt = tick.received_at ?? tick.observed_at;
  c.observedAt = tick.observed_at;
  c.badge.hidden = tick.source !== "simulated";
  c.button.dataset.source = tick.source;
  c.last = tick.price;
  emptyEl.hidden = true;
  if (tick.source === "simulated") simulatedEl.hidden = false;
  refreshCard(c);
}

// "updated 2:05:14 PM" while fresh, "stale, last price 21 s ago" once older than the limit.
function refreshCard(c) {
  if (!c.receivedAt) return;
  const stale = isStale(c.receivedAt);
  c.button.dataset.stale = String(stale);
  c.meta.textContent = stale
    ? `stale, last price ${ageSeconds(c.receivedAt)} s ago`
    : `updated ${formatTime(c.observedAt)}`;
  c.button.setAttribute(
    "aria-label",
    `${c.button.dataset.symbol} ${c.price.textContent}, ${c.change.textContent}, ${c.meta.textContent}. Open chart`,
  );
}

// Re-judges every card's age; true when every card with a price is stale (the feed is delayed).
export function refreshFreshness() {
  const priced = [...cards.values()].filter((c) => c.receivedAt);
  priced.forEach(refreshCard);
  return priced.length > 0 && priced.every((c) => c.button.dataset.stale === "true");
}

export function currentPrice(symbol) {
  return cards.get(symbol)?.last ?? null;
}

// While the socket is down the numbers are not live: say so on every card.
export function setLive(live) {
  cardsEl.classList.toggle("stale", !live);
  for (const c of cards.values()) c.button.dataset.live = String(live);
}
