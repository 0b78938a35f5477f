// Number and time formatting shared by the cards, the chart and the alerts.

// Numbers are written as the viewer's locale writes them ("97,000.50", "97.000,50").
// A symbol's decimals are its source's (a stock in cents, EUR/USD in 4 decimals); where the
// server gives none (crypto, or a source that did not say), by magnitude: BTC in cents, DOGE in
// millionths.
const hints = new Map();

export function setPriceHints(watchlist) {
  hints.clear();
  for (const s of watchlist) if (s.price_hint !== null && s.price_hint !== undefined) hints.set(s.symbol, s.price_hint);
}

export function decimalsFor(price) {
  if (price >= 1000) return 2;
  if (price >= 1) return 4;
  return 6;
}

// `reference` picks the decimals by magnitude (a change is shown with those of its price);
// `symbol`'s own, when its source gave them, win.
export function formatPrice(value, reference = value, symbol = null) {
  const digits = hints.get(symbol) ?? decimalsFor(Math.abs(reference));
  return value.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

// A number typed as the page shows numbers, in the viewer's locale or plainly: "12,345.6" (or
// "12.345,6" where the comma is the decimal mark) is 12345.6; "0.5" is 0.5 everywhere.
const PARTS = new Intl.NumberFormat().formatToParts(12345.6);
const GROUP = PARTS.find((p) => p.type === "group")?.value ?? ",";
const DECIMAL = PARTS.find((p) => p.type === "decimal")?.value ?? ".";

export function readNumber(raw) {
  const spaced = /\s/.test(GROUP); // "12 345,6" (fr): any space goes
  let text = spaced ? raw.replace(/\s/g, "") : raw.trim();
  const escape = (mark) => mark.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const grouped = new RegExp(`^\\d{1,3}(${escape(GROUP)}\\d{3})+(${escape(DECIMAL)}\\d*)?$`);
  if (!spaced && grouped.test(text)) text = text.replaceAll(GROUP, "");
  if (DECIMAL !== "." && text.includes(DECIMAL) && !text.includes(".")) text = text.replace(DECIMAL, ".");
  return text;
}

// One clock format for the whole page, the browser's locale (12 or 24 h as it says). Spaces
// inside a time become no-break spaces: "2:05:14 PM" never wraps "PM" onto a line of its own.
const TIME = new Intl.DateTimeFormat([], { hour: "numeric", minute: "2-digit", second: "2-digit" });
const DATE = new Intl.DateTimeFormat([], { year: "numeric", month: "numeric", day: "numeric" }); // 12/1/2026

function unbroken(text) {
  return text.replace(/\s/g, "\u00a0");
}

export function formatTime(value) {
  return unbroken(TIME.format(new Date(value)));
}

// A price source as people know it: "Yahoo Finance", "Kraken" for ccxt:kraken.
export function sourceName(source) {
  if (source?.startsWith("ccxt:")) return source.charAt(5).toUpperCase() + source.slice(6);
  return { yfinance: "Yahoo Finance" }[source] ?? source;
}

// "Mon 9:30 AM": when a closed market opens, within the week to come.
const WEEKDAY_TIME = new Intl.DateTimeFormat([], { weekday: "short", hour: "numeric", minute: "2-digit" });

export function formatWeekdayTime(iso) {
  return unbroken(WEEKDAY_TIME.format(new Date(iso)));
}

export function formatDateTime(iso) {
  return `${unbroken(DATE.format(new Date(iso)))} ${formatTime(iso)}`;
}

// Time-axis labels that fit the range: seconds for Live, hours within a day, weekday and hour
// for a week, dates for a month and up, months for a year and all time.
const AXIS = {
  "1h": new Intl.DateTimeFormat([], { hour: "numeric", minute: "2-digit" }),
  "24h": new Intl.DateTimeFormat([], { hour: "numeric", minute: "2-digit" }),
  "7d": new Intl.DateTimeFormat([], { weekday: "short", hour: "numeric" }),
  "30d": new Intl.DateTimeFormat([], { month: "short", day: "numeric" }),
  "1y": new Intl.DateTimeFormat([], { month: "short", year: "numeric" }),
  all: new Intl.DateTimeFormat([], { month: "short", year: "numeric" }),
};

export function axisFormatter(range) {
  const format = AXIS[range];
  return format ? (value) => unbroken(format.format(new Date(value))) : formatTime;
}
