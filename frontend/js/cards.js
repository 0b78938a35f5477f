// Price cards: one button per symbol with price, change since the previous tick and time.

import { element } from "./dom.js";
import { formatPrice, formatTime } from "./format.js";

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
  const change = element("span", "change", "no change yet");
  const meta = element("span", "meta", "no price yet");
  button.append(head, price, change, meta);
  button.addEventListener("click", () => openChart(symbol, button));
  cardsEl.append(button);
  const entry = { button, badge, price, change, meta, last: null };
  cards.set(symbol, entry);
  return entry;
}

export function ensureCards(symbols) {
  symbols.forEach(card);
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
  c.meta.textContent = `updated ${formatTime(tick.observed_at)}`;
  c.button.setAttribute(
    "aria-label",
    `${tick.symbol} ${formatPrice(tick.price)}, ${c.change.textContent}, ${c.meta.textContent}. Open chart`,
  );
  c.badge.hidden = tick.source !== "simulated";
  c.button.dataset.source = tick.source;
  c.last = tick.price;
  emptyEl.hidden = true;
  if (tick.source === "simulated") simulatedEl.hidden = false;
}

// While the socket is down the numbers are not live: say so on every card.
export function setLive(live) {
  cardsEl.classList.toggle("stale", !live);
  for (const c of cards.values()) c.button.dataset.live = String(live);
}
