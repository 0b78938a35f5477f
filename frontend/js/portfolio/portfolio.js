// Holdings: the Portfolio pane beside the watchlist (totals, positions, allocation, value over
// time, the transactions and their form, CSV in and out) and a held symbol's line on its card.
// Figures come from the server, computed in decimals: after a price of a held symbol arrives the
// pane asks /api/portfolio again (at most one request at a time, a burst of ticks folded into one).

import { api, ApiError } from "../core/api.js";
import { element, showMessage, themed } from "../core/dom.js";
import { axisFormatter, formatDateTime, formatPrice, readNumber } from "../core/format.js";
import { showFailure } from "../core/forms.js";

const byId = (id) => document.getElementById(id);
const pane = byId("portfolio-pane");
const watchPane = byId("watch-pane");
const watchView = byId("watch-view");
const paneButtons = [...document.querySelectorAll("#pane-view button")];
const rangeButtons = [...document.querySelectorAll("#value-range button")];
const form = byId("trade-form");
const answer = byId("trade-answer");
const formError = byId("trade-form-error");
const FIELDS = ["symbol", "side", "quantity", "price", "fees", "date", "note"];
const NOUNS = { quantity: "The quantity", price: "The price", fees: "The fees", date: "The date", symbol: "The symbol", note: "The note", side: "The side" };
// The figures' names, from the table's own heads (a phone shows them beside each figure).
const HOLDING_COLUMNS = [...document.querySelectorAll("#holdings thead th")].slice(1).map((th) => th.textContent);
const REFRESH_DELAY_MS = 400; // ticks of one fetch come in two or three frames: one request for them

let held = new Map(); // symbol -> its position as /api/portfolio gives it
let base = "USD";
let range = localStorage.getItem("portfolio-range") || "30d";
let allocation = null; // the charts
let valueChart = null;
let inFlight = null;
let again = false;
let timer = null;
let showHolding = () => {}; // cards.js: a held symbol's line
let openChart = () => {};
const withLine = new Set(); // the cards showing one

export function onHoldingChanged(handler) {
  showHolding = handler;
}

export function onPositionSelected(handler) {
  openChart = handler;
}

// The symbols the pane shows, for the page's subscription: live while the pane is open.
export function portfolioSymbols() {
  return pane.hidden ? [] : [...held.keys()];
}

// A price came: if it is of a held symbol, the figures are asked for again shortly.
export function portfolioPrice(symbol) {
  if (!held.has(symbol) || timer !== null) return;
  timer = setTimeout(() => {
    timer = null;
    refresh();
  }, REFRESH_DELAY_MS);
}

export function refresh() {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = api
    .portfolio()
    .then(showPortfolio)
    .catch((error) => console.warn("portfolio", error))
    .finally(() => {
      inFlight = null;
      if (again) {
        again = false;
        refresh();
      }
    });
  return inFlight;
}

// Everything the pane shows, afresh (on connecting, and after a change made here).
export async function loadPortfolio() {
  await Promise.all([refresh(), loadTransactions(), loadValueChart()]);
}

// The symbols a transaction may be of: the watched ones, and any held.
export function setTradeSymbols(symbols) {
  const select = byId("trade-symbol");
  const chosen = select.value;
  const all = [...new Set([...symbols, ...held.keys()])];
  select.replaceChildren(...all.map((s) => new Option(s, s)));
  if (all.includes(chosen)) select.value = chosen;
}

function number(text) {
  return text === null || text === undefined ? null : Number(text);
}

function money(text, currency, signed = false) {
  const value = number(text);
  if (value === null) return "–";
  const shown = Math.abs(value).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const sign = value < 0 ? "−" : signed && value > 0 ? "+" : "";
  return `${sign}${shown} ${currency}`;
}

function percent(value) {
  if (value === null || value === undefined) return "";
  return ` (${value > 0 ? "+" : value < 0 ? "−" : ""}${Math.abs(value).toFixed(2)}%)`;
}

// An amount with its percentage under it (the text reads "+2,432.82 USD (+5.41%)").
function change(amount, share) {
  const cell = element("td", "num", amount);
  if (share) cell.append(element("span", "pct", share));
  return cell;
}

function direction(text) {
  const value = number(text);
  return value === null || value === 0 ? "flat" : value > 0 ? "up" : "down";
}

function showPortfolio(answer) {
  base = answer.base_currency;
  held = new Map(answer.positions.filter((p) => Number(p.quantity) > 0).map((p) => [p.symbol, p]));
  showTotals(answer);
  showPositions(answer.positions);
  drawAllocation(answer.positions);
  const before = new Set(withLine);
  withLine.clear();
  for (const position of answer.positions) {
    const line = holdingLine(position);
    showHolding(position.symbol, line);
    if (line) withLine.add(position.symbol);
    before.delete(position.symbol);
  }
  for (const symbol of before) showHolding(symbol, null); // its transactions were deleted
  pane.dataset.value = answer.totals.value;
}

function holdingLine(position) {
  if (!Number(position.quantity)) return null;
  const text = `Held ${Number(position.quantity).toLocaleString(undefined, { maximumFractionDigits: 10 })} · ${money(position.value, position.currency)}`;
  return { text: `${text}${position.unrealised === null ? "" : ` · ${money(position.unrealised, position.currency, true)}`}`, direction: direction(position.unrealised) };
}

function showTotals(answer) {
  const t = answer.totals;
  const rows = [
    ["Value", money(t.value, base), null],
    ["Day", `${money(t.day_change, base, true)}${percent(t.day_change_percent)}`, direction(t.day_change)],
    ["Unrealised", money(t.unrealised, base, true), direction(t.unrealised)],
    ["Realised", money(t.realised, base, true), direction(t.realised)],
    ["Total P&L", money(t.total_pnl, base, true), direction(t.total_pnl)],
  ];
  byId("portfolio-totals").replaceChildren(
    ...rows.map(([label, text, dir]) => {
      const box = element("div");
      const dd = element("dd", "", text);
      if (dir) dd.dataset.direction = dir;
      box.append(element("dt", "", label), dd);
      return box;
    }),
  );
  const rates = Object.entries(answer.rates).map(([currency, r]) => `${currency} at ${Number(r.rate).toPrecision(6)} (${r.symbol}${r.at ? `, ${formatDateTime(r.at)}` : ""})`);
  byId("portfolio-rates").textContent = `Totals in ${base}${rates.length ? `; ${rates.join("; ")}` : ""}. Average cost, fees included.`;
  const missing = byId("portfolio-missing");
  missing.hidden = !answer.missing_rates.length;
  missing.textContent = `No exchange rate stored yet for ${answer.missing_rates.join(", ")}: those positions are left out of the totals until one arrives.`;
}

function showPositions(positions) {
  byId("portfolio-empty").hidden = positions.length > 0;
  byId("holdings-box").hidden = positions.length === 0;
  byId("holdings-body").replaceChildren(
    ...positions.map((p) => {
      const tr = element("tr");
      tr.dataset.symbol = p.symbol;
      const price = number(p.price);
      const open = element("button", "row-open", p.symbol);
      open.type = "button";
      open.setAttribute("aria-label", `${p.symbol}: open chart`);
      open.addEventListener("click", () => openChart(p.symbol, open));
      const name = element("th");
      name.append(open);
      const cells = [
        name,
        element("td", "num", Number(p.quantity).toLocaleString(undefined, { maximumFractionDigits: 10 })),
        element("td", "num", p.average_cost === null ? "–" : formatPrice(Number(p.average_cost), Number(p.average_cost), p.symbol)),
        element("td", "num", price === null ? "–" : formatPrice(price, price, p.symbol)),
        element("td", "num", money(p.value, p.currency)),
        change(money(p.day_change, p.currency, true), percent(p.day_change_percent)),
        change(money(p.unrealised, p.currency, true), percent(p.unrealised_percent)),
        element("td", "num", money(p.realised, p.currency, true)),
        element("td", "num", p.allocation_percent === null ? "–" : `${p.allocation_percent.toFixed(1)}%`),
      ];
      // each figure says what it is where a phone stacks the row (no column heads there)
      HOLDING_COLUMNS.forEach((label, i) => (cells[i + 1].dataset.label = label));
      cells[5].dataset.direction = direction(p.day_change);
      cells[6].dataset.direction = direction(p.unrealised);
      cells[7].dataset.direction = direction(p.realised);
      tr.append(...cells);
      return tr;
    }),
  );
}

const PALETTE = ["--accent", "--sma", "--ema", "--bands", "--rsi", "--compare", "--up", "--down", "--warn-line", "--muted"];

function drawAllocation(positions) {
  const shown = positions.filter((p) => p.allocation_percent);
  const data = { labels: shown.map((p) => p.symbol), datasets: [{ data: shown.map((p) => p.allocation_percent), backgroundColor: shown.map((_, i) => themed(PALETTE[i % PALETTE.length])), borderColor: themed("--panel") }] };
  if (allocation) {
    allocation.data = data;
    allocation.update("none");
    return;
  }
  if (!window.Chart) return;
  window.Chart.defaults.color = themed("--muted");
  allocation = new window.Chart(byId("allocation-chart"), {
    type: "doughnut",
    data,
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { position: "right" }, tooltip: { callbacks: { label: (item) => `${item.label} ${item.raw.toFixed(1)}%` } } },
    },
  });
}

async function loadValueChart() {
  for (const button of rangeButtons) button.setAttribute("aria-pressed", String(button.dataset.range === range));
  const history = await api.portfolioHistory(range);
  const points = (key) => history.points.map((p) => ({ x: Date.parse(p.t), y: Number(p[key]) }));
  const datasets = [
    { label: `Value (${history.base_currency})`, data: points("value"), borderColor: themed("--accent"), backgroundColor: themed("--accent"), pointRadius: 0, borderWidth: 2 },
    { label: "Cost", data: points("cost"), borderColor: themed("--muted"), backgroundColor: themed("--muted"), pointRadius: 0, borderWidth: 1, borderDash: [5, 4] },
  ];
  pane.dataset.valuePoints = String(history.points.length);
  if (!window.Chart) return;
  if (valueChart) valueChart.destroy();
  valueChart = new window.Chart(byId("value-chart"), {
    type: "line",
    data: { datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      interaction: { mode: "nearest", axis: "x", intersect: false },
      scales: {
        x: { type: "time", ticks: { maxRotation: 0, autoSkipPadding: 12, callback: axisFormatter(labelsFor(history)) } },
        y: { ticks: { callback: (v) => v.toLocaleString() } },
      },
      plugins: { tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${item.raw.y.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })}` } } },
    },
  });
}

// The axis labels of the range the answer spans ("all" since a buy five weeks ago reads as a month).
function labelsFor(history) {
  const days = (Date.parse(history.to) - Date.parse(history.from)) / 86_400_000;
  return days <= 2 ? "24h" : days <= 10 ? "7d" : days <= 120 ? "30d" : "1y";
}

for (const button of rangeButtons) {
  button.addEventListener("click", () => {
    range = button.dataset.range;
    localStorage.setItem("portfolio-range", range);
    loadValueChart().catch((error) => console.warn("portfolio history", error));
  });
}

async function loadTransactions() {
  const list = await api.transactions();
  byId("no-transactions").hidden = list.length > 0;
  byId("transactions").replaceChildren(...list.map(transactionItem));
}

function transactionItem(t) {
  const li = element("li");
  li.dataset.id = String(t.id);
  const day = t.date.endsWith("T00:00:00+00:00") ? t.date.slice(0, 10) : formatDateTime(t.date);
  const what = `${day} · ${t.side === "buy" ? "Buy" : "Sell"} ${Number(t.quantity).toLocaleString(undefined, { maximumFractionDigits: 10 })} ${t.symbol} at ${formatPrice(Number(t.price), Number(t.price), t.symbol)}`;
  const fees = Number(t.fees) ? ` (fees ${t.fees})` : "";
  li.append(element("span", "", `${what}${fees}${t.note ? ` — ${t.note}` : ""}`));
  const remove = element("button", "secondary small", "Delete");
  remove.type = "button";
  remove.setAttribute("aria-label", `Delete: ${what}`);
  remove.addEventListener("click", async () => {
    try {
      await api.deleteTransaction(t.id);
      say(`Deleted: ${what}`, true);
      await loadPortfolio();
    } catch (error) {
      say(error.message, false);
    }
  });
  li.append(" ", remove);
  return li;
}

function say(message, ok) {
  answer.dataset.ok = String(ok);
  showMessage(answer, message);
}

function fieldError(field, message) {
  const box = byId(`trade-${field}-error`);
  const input = form.elements[field];
  if (!box || !input) return false;
  box.textContent = message && message.startsWith(`${field} `) ? `${NOUNS[field]}${message.slice(field.length)}` : message || "";
  box.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  return true;
}

function clearErrors() {
  for (const field of FIELDS) fieldError(field, "");
  formError.hidden = true;
  answer.hidden = true;
}

form.addEventListener("input", (event) => fieldError(event.target.name, ""));
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  const f = form.elements;
  const trade = { symbol: f.symbol.value, side: f.side.value, quantity: readNumber(f.quantity.value), price: readNumber(f.price.value), date: f.date.value };
  if (f.fees.value.trim()) trade.fees = readNumber(f.fees.value);
  if (f.note.value.trim()) trade.note = f.note.value;
  try {
    const made = await api.addTransaction(trade);
    for (const name of ["quantity", "price", "fees", "note"]) f[name].value = "";
    say(`Added: ${made.side === "buy" ? "Buy" : "Sell"} ${made.quantity} ${made.symbol} at ${made.price}`, true);
    await loadPortfolio();
  } catch (error) {
    if (error instanceof ApiError && error.field && fieldError(error.field, error.message)) return;
    showFailure(formError, error);
  }
});

byId("trade-import").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = ""; // the same file again is a new choice
  if (!file) return;
  clearErrors();
  try {
    const count = await api.importTransactions(await file.text());
    say(`Imported ${count} transaction${count === 1 ? "" : "s"} from ${file.name}`, true);
    await loadPortfolio();
  } catch (error) {
    say(`${file.name}: ${error.message}. Nothing was imported.`, false);
  }
});

function showPane(chosen) {
  const portfolio = chosen === "portfolio";
  pane.hidden = !portfolio;
  watchPane.hidden = portfolio;
  watchView.hidden = portfolio;
  for (const button of paneButtons) button.setAttribute("aria-pressed", String(button.dataset.pane === chosen));
  if (portfolio) {
    allocation?.resize();
    valueChart?.resize();
  }
}

for (const button of paneButtons) {
  button.addEventListener("click", () => {
    localStorage.setItem("pane", button.dataset.pane);
    showPane(button.dataset.pane);
  });
}
byId("trade-date").value = new Date().toISOString().slice(0, 10);
byId("trade-date").max = byId("trade-date").value;
showPane(localStorage.getItem("pane") === "portfolio" ? "portfolio" : "watch");
