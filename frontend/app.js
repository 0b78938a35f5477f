"use strict";
// Live price cards over /ws; REST gives the first picture and the catch-up after a reconnect.

const cards = new Map();
const cardsEl = document.getElementById("cards");
const connectionEl = document.getElementById("connection");
const simulatedEl = document.getElementById("simulated");

// Decimals follow the price's magnitude (DOGE needs more than BTC); a change is shown
// with the decimals of the price it belongs to.
function formatPrice(value, reference = value) {
  const digits = reference >= 1000 ? 2 : reference >= 1 ? 4 : 6;
  return value.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function card(symbol) {
  if (!cards.has(symbol)) {
    const el = document.createElement("article");
    el.className = "card";
    el.dataset.symbol = symbol;
    const title = document.createElement("h2");
    title.textContent = symbol;
    const price = document.createElement("div");
    price.className = "price";
    price.textContent = "–";
    const change = document.createElement("div");
    change.className = "change";
    const meta = document.createElement("div");
    meta.className = "meta";
    el.append(title, price, change, meta);
    cardsEl.append(el);
    cards.set(symbol, { el, price, change, meta, last: null });
  }
  return cards.get(symbol);
}

function showPrice(tick, previous) {
  const c = card(tick.symbol);
  const before = previous ?? c.last;
  c.price.textContent = formatPrice(tick.price);
  if (before !== null && before !== undefined) {
    const delta = tick.price - before;
    const arrow = delta > 0 ? "▲" : delta < 0 ? "▼" : "■";
    c.change.textContent = `${arrow} ${formatPrice(Math.abs(delta), tick.price)}`;
    c.change.className = `change ${delta > 0 ? "up" : delta < 0 ? "down" : ""}`;
  }
  c.meta.textContent = `${new Date(tick.observed_at).toLocaleTimeString()} · ${tick.source}`;
  c.last = tick.price;
  if (tick.source === "simulated") simulatedEl.hidden = false;
}

async function catchUp() {
  const [symbols, latest] = await Promise.all([
    fetch("/api/symbols").then((r) => r.json()),
    fetch("/api/prices/latest").then((r) => r.json()),
  ]);
  symbols.symbols.forEach(card);
  latest.prices.forEach((p) => showPrice(p, p.previous_price));
}

function setConnection(state) {
  connectionEl.dataset.state = state;
  connectionEl.textContent = state;
}

let retry = 0;
function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.onopen = () => {
    retry = 0;
    setConnection("connected");
    catchUp().catch(() => {});
  };
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "price") showPrice(message);
  };
  ws.onclose = () => {
    setConnection("reconnecting");
    const delay = Math.min(30000, 500 * 2 ** retry++);
    setTimeout(connect, delay);
  };
}

catchUp().catch(() => setConnection("offline"));
connect();
