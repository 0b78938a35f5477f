// The chart modal: Live (the last ticks from /history) or a range (1H to All, OHLC buckets from
// /api/history) as a line or candles; both keep updating from the live prices while open.

import { api } from "../core/api.js";
import { showMessage, themed } from "../core/dom.js";
import { axisFormatter, formatDateTime, formatPrice, formatTime } from "../core/format.js";
import { contextFigures, currencyOf } from "../prices/context.js";
import { staleAfterMsNow } from "../prices/freshness.js";
import { alertAnnotations, clickedAt, hideNewAlert, lineHeld, onLineMoveFailed, watchLineDrags } from "./alert-lines.js";
import { comparison, enableCompare, fillCompareChoices, foldCompared, onCompareChosen, percentFrom, percentText } from "./compare.js";
import { chosenSpecs, indicatorDatasets, watchPicker } from "./indicators.js";
import { crosshairPlugin, resetZoom, zoomOptions } from "./interaction.js";

const dialog = document.getElementById("chart-modal");
const title = document.getElementById("chart-title");
const status = document.getElementById("chart-status");
const canvas = document.getElementById("chart-canvas");
const box = canvas.parentElement;
const headline = document.getElementById("chart-price");
const contextLine = document.getElementById("chart-context");
const rangeButtons = [...document.querySelectorAll("#chart-ranges button")];
const styleButtons = [...document.querySelectorAll("#chart-styles button")];
const logButton = document.getElementById("chart-log");
const picker = document.getElementById("chart-indicators");
const MIN_POINTS = 100;
const RANGE_MS = { "1h": 3_600_000, "24h": 86_400_000, "7d": 604_800_000, "30d": 2_592_000_000, "1y": 31_536_000_000 };
const RANGE_TITLES = { live: "recent prices", "1h": "last hour", "24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days", "1y": "last year", all: "all time" };
const BUCKET_ORIGIN = Date.UTC(2000, 0, 1); // the server's date_bin origin: buckets line up with its
const VOLUME_FORMAT = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 2 });
let chart = null;
let current = null; // { symbol, opener, limit, range, style, bucketMs }
let range = localStorage.getItem("chart-range") || "live";
let style = localStorage.getItem("chart-style") || "line";
let logScale = localStorage.getItem("chart-log") === "true";
window.Chart.register(window.ChartZoom, window["chartjs-plugin-annotation"]);

// Where no ticks were recorded for longer than the staleness limit the line breaks (a null
// point) instead of ramping straight across the hole.
function gapMs() {
  return current?.bucketMs ? 2 * current.bucketMs : staleAfterMsNow();
}

function withGaps(points) {
  const data = [];
  for (const point of points) {
    const previous = data.at(-1);
    if (previous && point.x - previous.x > gapMs()) data.push({ x: previous.x + 1, y: null });
    data.push(point);
  }
  return data;
}

// As many time labels as fit: about one per 90 px, never rotated.
function labelLimit() {
  return Math.max(2, Math.floor(canvas.parentElement.clientWidth / 90));
}

// Chart.js's auto-skip counts on the labels spreading over the whole axis; where they do not (a
// short history at the end of its range, a wide font) neighbours can still overlap. Once the
// axis is laid out, a label that would come closer than LABEL_GAP px to the one kept before it
// is left blank.
const LABEL_GAP = 8;
function thinLabels(scale) {
  const ctx = scale.ctx;
  ctx.save();
  ctx.font = window.Chart.helpers.toFont(scale.options.ticks.font).string;
  let right = -Infinity;
  scale.ticks.forEach((tick, index) => {
    if (!tick.label) return;
    const half = ctx.measureText(tick.label).width / 2;
    const x = scale.getPixelForTick(index);
    if (x - half < right + LABEL_GAP) tick.label = "";
    else right = x + half;
  });
  ctx.restore();
}

// Header: the newest price and its change over what the chart shows.
function showHeadline(data) {
  const prices = data.filter((p) => p.y !== null);
  if (!prices.length) {
    headline.textContent = "";
    return;
  }
  const first = prices[0].o ?? prices[0].y; // a range starts at its first bucket's open
  const last = prices.at(-1).y;
  const delta = last - first;
  const sign = delta > 0 ? "+" : delta < 0 ? "−" : "";
  const percent = first ? Math.abs((delta / first) * 100).toFixed(2) : "0.00";
  const symbol = current?.symbol;
  const change = formatPrice(Math.abs(delta), last, symbol);
  headline.textContent = `${formatPrice(last, last, symbol)} · ${sign}${change} (${sign}${percent}%) over the chart`;
  headline.dataset.direction = delta > 0 ? "up" : delta < 0 ? "down" : "flat";
}

function candles() {
  return current?.range !== "live" && current?.style === "candles";
}

// Tooltip lines: the price, or open/high/low/close where the point is a bucket.
function tooltipLines(symbol, raw) {
  if (raw.o === undefined) return [`${symbol} ${formatPrice(raw.y, raw.y, symbol)}`];
  const ref = raw.c;
  const price = (value) => formatPrice(value, ref, symbol);
  return [`Open ${price(raw.o)}`, `High ${price(raw.h)}`, `Low ${price(raw.l)}`, `Close ${price(raw.c)}`];
}

// The x-axis: a range starts where it does (a short history sits at the right end of its hour
// instead of being stretched over the width); one point gets a bucket either side. And which
// labels fit: by the time it spans.
function spanOf(points) {
  const first = points[0]?.x;
  const last = points.at(-1)?.x;
  const pad = Math.max(current.bucketMs || 0, 60_000);
  const from = current.from ?? null;
  const one = points.length === 1;
  const min = from ?? (one ? first - pad : undefined);
  const max = one ? Math.max(last, min ?? last) + pad : undefined;
  const width = (last ?? 0) - (min ?? first ?? 0);
  const labels = width <= 36 * 3_600_000 ? "24h" : width <= 10 * 86_400_000 ? "7d" : width <= 90 * 86_400_000 ? "30d" : "1y";
  return { min, max, labels };
}

// The y-axis around the prices shown, with a little room; a single price gets 0.5 % either side.
function valueRange(points, log = false) {
  if (!points.length) return {};
  const lows = points.map((p) => p.l ?? p.y).filter((v) => v !== null && v !== undefined);
  const highs = points.map((p) => p.h ?? p.y).filter((v) => v !== null && v !== undefined);
  if (!lows.length) return {};
  const [low, high] = [Math.min(...lows), Math.max(...highs)];
  const pad = high > low ? (high - low) * 0.05 : Math.abs(high) * 0.005 || 1;
  return { min: log && low - pad <= 0 ? low / 2 : low - pad, max: high + pad }; // a log axis stays above 0
}

// The RSI pane under the prices: a fifth of the height, with its 30 and 70 levels.
function rsiScale() {
  return {
    type: "linear", position: "left", stack: "panes", stackWeight: 1, offset: true, min: 0, max: 100,
    afterBuildTicks: (scale) => { scale.ticks = [{ value: 30 }, { value: 70 }]; },
  };
}

function rsiLevels() {
  const level = (value) => ({ type: "line", yScaleID: "rsi", yMin: value, yMax: value, borderColor: themed("--muted"), borderWidth: 1, borderDash: [2, 3] });
  return { rsi30: level(30), rsi70: level(70) };
}

// Volume under the prices: bars on an axis of their own that puts them in the bottom fifth of
// the price pane. That axis spans the whole chart, so with the RSI pane (the bottom fifth) its
// zero moves up to the pane's edge: min -1.25 x and max 5 x the highest bar.
function volumeScale(points, traded, withRsi) {
  const highest = traded ? Math.max(...points.map((p) => p.v || 0)) : 1;
  return { type: "linear", axis: "y", position: "right", display: false, min: withRsi ? -1.25 * highest : 0, max: 5 * highest };
}

// points: [{x, y}] for Live, [{x, y, o, h, l, c}] for a range; answer: the range's answer (its
// indicators), none for Live; compared: the compared symbol's closes [{x, price}] on the same range.
function buildChart(symbol, points, answer = null, compared = null) {
  const data = candles() ? points : withGaps(points);
  chart?.destroy();
  resetZoom(null);
  window.Chart.defaults.color = themed("--muted");
  window.Chart.defaults.borderColor = themed("--line");
  const up = themed("--up");
  const down = themed("--down");
  const dataset = candles()
    ? { label: symbol, yAxisID: "y", data, backgroundColors: { up, down, unchanged: themed("--muted") }, borderColors: { up, down, unchanged: themed("--muted") } }
    : // Points are drawn only while there are few of them, so a new chart is not blank.
      { label: symbol, yAxisID: "y", data, borderColor: themed("--accent"), borderWidth: 2, pointRadius: (c) => (c.dataset.data.length < 30 ? 3 : 0), tension: 0, spanGaps: false };
  const traded = points.some((p) => p.v > 0);
  const extra = answer ? indicatorDatasets(answer, points.map((p) => p.x), themed) : [];
  const withRsi = extra.some((d) => d.yAxisID === "rsi");
  const versus = compared?.length ? comparison(points, compared) : null;
  current.versus = versus;
  if (versus) {
    extra.push({
      type: "line", label: current.compare, yAxisID: "y", data: versus.data, borderColor: themed("--compare"), borderWidth: 1.5,
      pointRadius: 0, spanGaps: false, order: 0, compared: true,
    });
  }
  const volume = traded
    ? { type: "bar", label: "volume", yAxisID: "volume", data: points.map((p) => ({ x: p.x, y: p.v })), backgroundColor: themed("--line"), barPercentage: 0.9, categoryPercentage: 1, order: 2 }
    : null;
  const span = spanOf(points);
  const axisLabel = axisFormatter(span.labels); // what the data spans, not the range's name: "All" of days labels days
  const priceOf = (value) => formatPrice(value, points.at(-1)?.y ?? value, symbol);
  chart = new window.Chart(canvas, {
    type: candles() ? "candlestick" : "line",
    data: { datasets: [dataset, ...extra, ...(volume ? [volume] : [])] },
    plugins: [crosshairPlugin({ colour: () => themed("--muted"), formatPrice: priceOf })],
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      interaction: { mode: "nearest", axis: "x", intersect: false },
      onClick: (event, _, clicked) => clickedAt(event, clicked, symbol, lastPrice(clicked)),
      scales: {
        x: {
          type: "time",
          // A range's axis starts where the range does, so a short history sits at the right end
          // of its hour instead of being stretched over the whole width.
          min: span.min,
          max: span.max,
          offset: candles(), // room for the first and last candle's body
          afterUpdate: thinLabels,
          ticks: {
            maxTicksLimit: labelLimit(),
            maxRotation: 0,
            autoSkipPadding: 16,
            source: "auto",
            // Labels a few seconds apart need the seconds, whatever the range; a label the same as
            // the one before it (ticks closer than what the labels tell apart) is left out.
            callback: (value, index, ticks) => {
              const label = (at) => (ticks.at(-1).value - ticks[0].value < 900_000 ? formatTime(at) : axisLabel(at));
              return index > 0 && label(ticks[index - 1].value) === label(value) ? "" : label(value);
            },
          },
        },
        // Stacked panes go bottom up in the order given: RSI first, under the prices.
        ...(withRsi ? { rsi: rsiScale() } : {}),
        y: {
          type: logScale ? "logarithmic" : "linear",
          ...(withRsi ? { stack: "panes", stackWeight: 4 } : {}),
          // One bucket: a band around it, not Chart.js's empty 0 to 1; room for the bands and averages.
          ...valueRange([...points, ...extra.filter((d) => d.yAxisID === "y").flatMap((d) => d.data)], logScale),
          ticks: { callback: versus ? versus.label : priceOf }, // comparing: labelled in % from the start
          ...(versus ? { afterBuildTicks: versus.ticks } : {}),
        },
        volume: volumeScale(points, traded, withRsi),
      },
      plugins: {
        legend: { display: extra.length > 0, labels: { boxWidth: 12, boxHeight: 2, filter: (item) => item.text !== "volume" && !item.text.endsWith(" lower") && !item.text.endsWith(" middle") } },
        zoom: zoomOptions(undefined, () => !lineHeld()),
        annotation: { annotations: annotations(symbol, withRsi) },
        tooltip: {
          callbacks: {
            title: (items) => (current.range === "live" ? formatTime(items[0].parsed.x) : formatDateTime(items[0].parsed.x)),
            label: (item) => tooltipLabel(symbol, item),
          },
        },
      },
    },
  });
  dialog.dataset.points = String(points.length);
  dialog.dataset.gaps = String(data.length - points.length);
  dialog.dataset.indicators = Object.keys(answer?.indicators || {}).join(",");
  dialog.dataset.compare = versus ? current.compare : "";
  dialog.dataset.scale = logScale ? "log" : "linear";
  showHeadline(points);
  refreshChartContext();
  dialog.dataset.last = String(points.at(-1)?.x ?? "");
}

function annotations(symbol, withRsi) {
  return { ...(withRsi ? rsiLevels() : {}), ...alertAnnotations(symbol, themed) };
}

function lastPrice(of) {
  return of.data.datasets[0].data.findLast((p) => p.y !== null)?.y ?? null;
}

// The alerts changed (made, edited, deleted, fired in any tab): the open chart's lines follow.
export function refreshAlertLines() {
  if (!chart || !current) return;
  chart.options.plugins.annotation.annotations = annotations(current.symbol, Boolean(chart.scales.rsi));
  chart.update("none");
}

watchLineDrags(() => (chart && current ? { chart, symbol: current.symbol } : null));
onLineMoveFailed(refreshAlertLines);

function tooltipLabel(symbol, item) {
  if (item.dataset.yAxisID === "volume") return `Volume ${VOLUME_FORMAT.format(item.raw.y)}`;
  const versus = current?.versus;
  if (versus && (item.datasetIndex === 0 || item.dataset.compared)) {
    // Each in its own price and its own % from the start.
    const [name, price, base] = item.dataset.compared ? [current.compare, item.raw.price, versus.otherBase] : [symbol, item.raw.y, versus.base];
    return `${name} ${formatPrice(price, price, name)} (${percentText(percentFrom(base, price))})`;
  }
  if (item.dataset.indicator) {
    if (item.raw.y === null) return null;
    const value = item.dataset.yAxisID === "rsi" ? item.raw.y.toFixed(1) : formatPrice(item.raw.y, item.raw.y, symbol);
    return `${item.dataset.label} ${value}`;
  }
  return tooltipLines(symbol, item.raw);
}

function pointsText(count) {
  if (current.range === "live") return `${count} ${count === 1 ? "point" : "points"}, updating live`;
  const minutes = current.bucketMs / 60_000;
  const size = minutes >= 1440 ? `${minutes / 1440} d` : minutes >= 60 ? `${minutes / 60} h` : minutes >= 1 ? `${minutes} min` : `${current.bucketMs / 1000} s`;
  return `${count} ${count === 1 ? "bucket" : "buckets"} of ${size}, the last one updating live`;
}

// Under the header: how many points or buckets, what is compared, where the past came from.
function statusText(count) {
  const versus = current.versus ? ` · % change from the start, against ${current.compare}` : "";
  return (count ? pointsText(count) : "No prices stored for this range yet.") + versus + pastText();
}

// Where the chart's past came from: a simulated one is said so, one still loading says how far.
function pastText() {
  const past = current.range === "live" ? null : current.backfill;
  if (!past) return "";
  const before = formatDateTime(Date.parse(past.until));
  const loading = ["done", "failed"].includes(past.state) ? "" : " (still loading)";
  return past.source === "simulated" ? ` · simulated history before ${before}${loading}` : loading ? ` · history${loading}` : "";
}

// Under the headline: the day's open, high and low, the previous close, the 52 weeks, the volume.
export function refreshChartContext() {
  if (!current) return;
  const figures = contextFigures(current.symbol);
  const currency = currencyOf(current.symbol);
  contextLine.textContent = figures.length
    ? `${figures.map(([label, text]) => `${label} ${text}`).join(" · ")}${currency ? ` (${currency})` : ""}`
    : "";
}

function pressed(buttons, key, value) {
  for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset[key] === value));
}

function showControls() {
  pressed(rangeButtons, "range", current.range);
  pressed(styleButtons, "style", current.range === "live" ? "line" : current.style);
  for (const button of styleButtons) button.disabled = current.range === "live" && button.dataset.style === "candles";
  dialog.dataset.range = current.range;
  dialog.dataset.style = candles() ? "candles" : "line";
  logButton.setAttribute("aria-pressed", String(logScale));
  // Indicators are computed on a range's buckets; Live is the raw ticks.
  picker.querySelector("fieldset").disabled = current.range === "live";
  enableCompare(current.range !== "live");
}

// The indicators' values again for the buckets shown, without redrawing the chart (zoom and
// pan stay): when a new bucket opens, its indicator values come from the server too.
async function refreshIndicators() {
  if (!chart || !current || current.range === "live" || !chosenSpecs()) return;
  const { symbol, range } = current;
  const answer = await api.historyRange(symbol, range, maxPoints(), chosenSpecs()).catch(() => null);
  if (!answer || !chart || current?.symbol !== symbol || current.range !== range) return;
  const times = answer.points.map((p) => Date.parse(p.t));
  const fresh = indicatorDatasets(answer, times, themed);
  for (const dataset of chart.data.datasets.filter((d) => d.indicator)) {
    const same = fresh.find((d) => d.label === dataset.label);
    if (same) dataset.data = same.data;
  }
  chart.update("none");
}

// About one candle per 8 px, one line point per 2 px: enough detail, never a smear.
function maxPoints() {
  const width = box.clientWidth || 800;
  return Math.max(20, Math.min(500, Math.floor(width / (current.style === "candles" ? 8 : 2))));
}

async function load() {
  const { symbol } = current;
  const asked = `${current.range}:${current.style}`;
  performance.mark("chart-load"); // to the chart drawn: the "chart-drawn" measure (bench/chart_render.py)
  title.textContent = `${symbol}: ${RANGE_TITLES[current.range]}`;
  status.textContent = "Loading…";
  dialog.dataset.points = "0";
  showControls();
  box.hidden = false;
  try {
    let points;
    let answer = null;
    let compared = null;
    const live = current.range === "live";
    if (live) {
      const ticks = await api.history(symbol);
      points = ticks.map((p) => ({ x: Date.parse(p.observed_at), y: p.price }));
    } else {
      const other = current.compare;
      [answer, compared] = await Promise.all([
        api.historyRange(symbol, current.range, maxPoints(), chosenSpecs()),
        other ? api.historyRange(other, current.range, maxPoints()).then((a) => a.points.map((p) => ({ x: Date.parse(p.t), price: p.close }))) : null,
      ]);
      points = answer.points.map((p) => ({ x: Date.parse(p.t), y: p.close, o: p.open, h: p.high, l: p.low, c: p.close, v: p.volume ?? 0 }));
    }
    // Switched meanwhile: this answer is not the chart's any more, and must not change its state
    // (a Live answer arriving after a range's set the range's bucket to 0: "buckets of 0 s").
    if (current?.symbol !== symbol || `${current.range}:${current.style}` !== asked) return;
    if (live) {
      current.bucketMs = 0;
      current.from = null;
      current.limit = Math.max(MIN_POINTS, points.length);
    } else {
      current.bucketMs = answer.bucket_seconds * 1000;
      current.backfill = answer.backfill;
      current.from = Date.parse(answer.from);
      dialog.dataset.bucket = String(answer.bucket_seconds);
      dialog.dataset.source = answer.source;
    }
    buildChart(symbol, points, answer, compared);
    status.textContent = statusText(points.length);
    performance.measure("chart-drawn", "chart-load");
  } catch (error) {
    if (current?.symbol !== symbol) return;
    box.hidden = true; // no large empty chart: the message and a way to try again
    showMessage(status, `Could not load the history: ${error.message}`, () => load());
  }
}

export function openChart(symbol, opener) {
  current = { symbol, opener, limit: MIN_POINTS, range, style, bucketMs: 0, compare: fillCompareChoices(symbol, null) };
  dialog.dataset.symbol = symbol;
  if (!dialog.open) dialog.showModal();
  return load();
}

for (const button of rangeButtons) {
  button.addEventListener("click", () => {
    if (!current) return;
    range = current.range = button.dataset.range;
    localStorage.setItem("chart-range", range);
    load();
  });
}
for (const button of styleButtons) {
  button.addEventListener("click", () => {
    if (!current || button.disabled) return;
    style = current.style = button.dataset.style;
    localStorage.setItem("chart-style", style);
    load();
  });
}

// The symbols the open chart draws (none while it is closed).
export function chartSymbols() {
  return current ? [current.symbol, current.compare].filter(Boolean) : [];
}

// A live price for the open chart's symbol. Live: append it, keep the window's length. A range:
// fold it into the newest bucket (or open the next one), drop buckets that left the range.
export function addLivePoint(tick) {
  if (chart && dialog.open && current?.versus && tick.symbol === current.compare) {
    const dataset = chart.data.datasets.find((d) => d.compared);
    if (dataset && foldCompared(dataset, current.versus, bucketStartOf(Date.parse(tick.observed_at)), tick.price)) chart.update("none");
    return;
  }
  if (!chart || !dialog.open || current?.symbol !== tick.symbol) return;
  const data = chart.data.datasets[0].data;
  const x = Date.parse(tick.observed_at);
  if (current.range !== "live") {
    foldIntoBuckets(data, x, tick.price);
    return;
  }
  if (data.length && data.at(-1).x >= x) return;
  if (data.length && x - data.at(-1).x > staleAfterMsNow()) data.push({ x: data.at(-1).x + 1, y: null });
  data.push({ x, y: tick.price });
  let points = data.filter((p) => p.y !== null).length;
  while (points > current.limit || data[0].y === null) {
    if (data.shift().y !== null) points -= 1;
  }
  chart.update("none");
  showHeadline(data);
  dialog.dataset.points = String(points);
  dialog.dataset.last = String(x);
  status.textContent = statusText(points);
}

function bucketStartOf(x) {
  return BUCKET_ORIGIN + Math.floor((x - BUCKET_ORIGIN) / current.bucketMs) * current.bucketMs;
}

function foldIntoBuckets(data, x, price) {
  const start = bucketStartOf(x);
  const last = [...data].reverse().find((p) => p.y !== null);
  if (last && start < last.x) return; // older than the newest bucket: the next load has it
  if (last && start === last.x) {
    Object.assign(last, { h: Math.max(last.h, price), l: Math.min(last.l, price), c: price, y: price });
  } else {
    if (last && start - last.x > gapMs() && !candles()) data.push({ x: last.x + 1, y: null });
    data.push({ x: start, y: price, o: price, h: price, l: price, c: price });
    refreshIndicators();
  }
  const oldest = RANGE_MS[current.range] ? x - RANGE_MS[current.range] - current.bucketMs : -Infinity;
  while (data.length && (data[0].x < oldest || data[0].y === null)) data.shift();
  chart.update("none");
  const points = data.filter((p) => p.y !== null);
  showHeadline(points);
  dialog.dataset.points = String(points.length);
  dialog.dataset.last = String(x);
  status.textContent = statusText(points.length);
}

logButton.addEventListener("click", () => {
  logScale = !logScale;
  localStorage.setItem("chart-log", String(logScale));
  if (current) load();
});
document.getElementById("chart-reset-zoom").addEventListener("click", () => resetZoom(chart));
onCompareChosen((symbol) => {
  if (!current) return;
  current.compare = symbol;
  load();
});
watchPicker(() => {
  if (current && current.range !== "live") load();
});

function close() {
  if (dialog.open) dialog.close();
}

dialog.addEventListener("close", () => {
  const opener = dialog.dataset.keepFocus ? null : current?.opener;
  delete dialog.dataset.keepFocus;
  current = null;
  chart?.destroy();
  chart = null;
  hideNewAlert();
  opener?.focus(); // focus goes back to the card that opened it
});
// A click on the backdrop lands on the dialog element itself, outside its content box.
dialog.addEventListener("click", (event) => {
  if (event.target !== dialog) return;
  const box = dialog.getBoundingClientRect();
  const inside =
    event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
  if (!inside) close();
});
document.getElementById("chart-close").addEventListener("click", close);
// Keep Tab inside the dialog: showModal makes the page inert, this also stops focus
// from leaving for the browser's own controls.
dialog.addEventListener("keydown", (event) => {
  if (event.key !== "Tab") return;
  const focusable = [...dialog.querySelectorAll("button, [href], input, select, textarea, [tabindex]:not([tabindex='-1'])")];
  const first = focusable[0];
  const last = focusable.at(-1);
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
});
