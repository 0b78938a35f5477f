// Number and time formatting shared by the cards, the chart and the alerts.

// Decimals follow the price's magnitude: BTC in cents, DOGE in millionths.
export function decimalsFor(price) {
  if (price >= 1000) return 2;
  if (price >= 1) return 4;
  return 6;
}

// `reference` picks the decimals: a change is shown with those of its price.
export function formatPrice(value, reference = value) {
  const digits = decimalsFor(Math.abs(reference));
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

// One clock format for the whole page, the browser's locale (12 or 24 h as it says). Spaces
// inside a time become no-break spaces: "2:05:14 PM" never wraps "PM" onto a line of its own.
const TIME = new Intl.DateTimeFormat([], { hour: "numeric", minute: "2-digit", second: "2-digit" });
const DATE = new Intl.DateTimeFormat([], { dateStyle: "short" });

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
