// The context a price needs, on each card and in the chart header: the day's open, high and low,
// the previous close, the 52-week range and the volume (24 h for crypto), from /api/context.
// The day's high and low widen with live prices until the next load.

import { api } from "../core/api.js";
import { formatPrice } from "../core/format.js";

const figures = new Map(); // symbol -> its context, as /api/context gives it
const VOLUME = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 2 });
let changed = () => {};

export function onContextChanged(handler) {
  changed = handler;
}

export async function loadContext() {
  figures.clear();
  for (const context of (await api.context()).symbols) figures.set(context.symbol, context);
  changed();
}

// A live price past the day's high or low moves it (the day of the newest candle only).
export function widenDay(symbol, price) {
  const day = figures.get(symbol)?.day;
  if (!day || day.date !== new Date().toISOString().slice(0, 10)) return;
  day.high = Math.max(day.high, price);
  day.low = Math.min(day.low, price);
}

// [label, text] pairs for what is known of ``symbol``: none until its first candle.
export function contextFigures(symbol, reference) {
  const c = figures.get(symbol);
  if (!c?.day) return [];
  const price = (value) => formatPrice(value, reference ?? value, symbol);
  const rows = [
    ["Open", price(c.day.open)],
    ["Prev close", c.previous_close === null ? "–" : price(c.previous_close)],
    ["Day", `${price(c.day.low)} – ${price(c.day.high)}`],
  ];
  if (c.year_range) rows.push(["52 wk", `${price(c.year_range.low)} – ${price(c.year_range.high)}`]);
  if (c.volume) rows.push([c.volume_span === "24h" ? "Vol 24 h" : "Vol", VOLUME.format(c.volume)]);
  return rows;
}

// The same figures as numbers: {day: {low, high}, year: {low, high}, volume}, null until known.
export function contextValues(symbol) {
  const c = figures.get(symbol);
  if (!c?.day) return null;
  return { day: { low: c.day.low, high: c.day.high }, year: c.year_range ?? null, volume: c.volume || null };
}

export function currencyOf(symbol) {
  return figures.get(symbol)?.currency ?? "";
}
