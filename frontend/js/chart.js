// The chart modal: the last points of one symbol from /history, kept live while open.

import { api } from "./api.js";
import { showMessage } from "./dom.js";
import { formatPrice, formatTime } from "./format.js";
import { staleAfterMsNow } from "./freshness.js";

const dialog = document.getElementById("chart-modal");
const title = document.getElementById("chart-title");
const status = document.getElementById("chart-status");
const canvas = document.getElementById("chart-canvas");
const box = canvas.parentElement;
const headline = document.getElementById("chart-price");
const MIN_POINTS = 100;
let chart = null;
let current = null; // { symbol, opener, limit }

// Where no ticks were recorded for longer than the staleness limit the line breaks (a null
// point) instead of ramping straight across the hole.
function withGaps(points) {
  const data = [];
  for (const point of points) {
    const previous = data.at(-1);
    if (previous && point.x - previous.x > staleAfterMsNow()) data.push({ x: previous.x + 1, y: null });
    data.push(point);
  }
  return data;
}

// As many time labels as fit: about one per 90 px, never rotated.
function labelLimit() {
  return Math.max(2, Math.floor(canvas.parentElement.clientWidth / 90));
}

// The page's own colours (light or dark scheme) for the line, the labels and the grid.
function themed(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// Header: the newest price and its change over what the chart shows.
function showHeadline(data) {
  const prices = data.filter((p) => p.y !== null);
  if (!prices.length) {
    headline.textContent = "";
    return;
  }
  const first = prices[0].y;
  const last = prices.at(-1).y;
  const delta = last - first;
  const sign = delta > 0 ? "+" : delta < 0 ? "−" : "";
  const percent = first ? Math.abs((delta / first) * 100).toFixed(2) : "0.00";
  headline.textContent = `${formatPrice(last)} · ${sign}${formatPrice(Math.abs(delta), last)} (${sign}${percent}%) over the chart`;
  headline.dataset.direction = delta > 0 ? "up" : delta < 0 ? "down" : "flat";
}

function buildChart(symbol, points) {
  const data = withGaps(points.map((p) => ({ x: Date.parse(p.observed_at), y: p.price })));
  chart?.destroy();
  window.Chart.defaults.color = themed("--muted");
  window.Chart.defaults.borderColor = themed("--line");
  chart = new window.Chart(canvas, {
    type: "line",
    data: {
      datasets: [
        // Points are drawn only while there are few of them, so a new chart is not blank.
        { label: symbol, data, borderColor: themed("--accent"), borderWidth: 2, pointRadius: (c) => (c.dataset.data.length < 30 ? 3 : 0), tension: 0, spanGaps: false },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      interaction: { mode: "nearest", axis: "x", intersect: false },
      scales: {
        x: {
          type: "time",
          ticks: { maxTicksLimit: labelLimit(), maxRotation: 0, autoSkipPadding: 16, callback: (value) => formatTime(value) },
        },
        y: { ticks: { callback: (value) => formatPrice(value, data.at(-1)?.y ?? value) } },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => formatTime(items[0].parsed.x),
            label: (item) => `${symbol} ${formatPrice(item.parsed.y)}`,
          },
        },
      },
    },
  });
  dialog.dataset.points = String(points.length);
  dialog.dataset.gaps = String(data.length - points.length);
  showHeadline(data);
  dialog.dataset.last = String(data.at(-1)?.x ?? "");
}

function pointsText(count) {
  return `${count} ${count === 1 ? "point" : "points"}, updating live`;
}

export async function openChart(symbol, opener) {
  current = { symbol, opener, limit: MIN_POINTS };
  title.textContent = `${symbol}: recent prices`;
  status.textContent = "Loading…";
  dialog.dataset.symbol = symbol;
  dialog.dataset.points = "0";
  if (!dialog.open) dialog.showModal();
  box.hidden = false;
  try {
    const points = await api.history(symbol);
    if (current?.symbol !== symbol) return; // closed or switched meanwhile
    current.limit = Math.max(MIN_POINTS, points.length);
    buildChart(symbol, points);
    status.textContent = points.length ? pointsText(points.length) : "No prices stored yet.";
  } catch (error) {
    if (current?.symbol !== symbol) return;
    box.hidden = true; // no large empty chart: the message and a way to try again
    showMessage(status, `Could not load the history: ${error.message}`, () => openChart(symbol, opener));
  }
}

// A live price for the open chart's symbol: append it, keep the window's length.
export function addLivePoint(tick) {
  if (!chart || !dialog.open || current?.symbol !== tick.symbol) return;
  const data = chart.data.datasets[0].data;
  const x = Date.parse(tick.observed_at);
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
  status.textContent = pointsText(points);
}

function close() {
  if (dialog.open) dialog.close();
}

dialog.addEventListener("close", () => {
  const opener = current?.opener;
  current = null;
  chart?.destroy();
  chart = null;
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
