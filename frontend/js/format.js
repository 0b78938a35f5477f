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

export function formatTime(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function formatDateTime(iso) {
  return new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "medium" });
}
