// The chart modal: the last points of one symbol from /history, kept live while open.

import { api } from "./api.js";
import { formatPrice } from "./format.js";

const dialog = document.getElementById("chart-modal");
const title = document.getElementById("chart-title");
const status = document.getElementById("chart-status");
const canvas = document.getElementById("chart-canvas");
const MIN_POINTS = 100;
let chart = null;
let current = null; // { symbol, opener, limit }

function buildChart(symbol, points) {
  const data = points.map((p) => ({ x: Date.parse(p.observed_at), y: p.price }));
  chart?.destroy();
  chart = new window.Chart(canvas, {
    type: "line",
    data: {
      datasets: [
        // Points are drawn only while there are few of them, so a new chart is not blank.
        { label: symbol, data, borderColor: "#1d4ed8", borderWidth: 2, pointRadius: (c) => (c.dataset.data.length < 30 ? 3 : 0), tension: 0.2 },
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
          time: { tooltipFormat: "PP HH:mm:ss", displayFormats: { millisecond: "HH:mm:ss", second: "HH:mm:ss", minute: "HH:mm", hour: "HH:mm" } },
          ticks: { maxTicksLimit: 6, maxRotation: 0 },
        },
        y: { ticks: { callback: (value) => formatPrice(value, data.at(-1)?.y ?? value) } },
      },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (item) => `${symbol} ${formatPrice(item.parsed.y)}` } },
      },
    },
  });
  dialog.dataset.points = String(data.length);
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
  try {
    const points = await api.history(symbol);
    if (current?.symbol !== symbol) return; // closed or switched meanwhile
    current.limit = Math.max(MIN_POINTS, points.length);
    buildChart(symbol, points);
    status.textContent = points.length ? pointsText(points.length) : "No prices stored yet.";
  } catch (error) {
    status.textContent = `Could not load the history: ${error.message}`;
  }
}

// A live price for the open chart's symbol: append it, keep the window's length.
export function addLivePoint(tick) {
  if (!chart || !dialog.open || current?.symbol !== tick.symbol) return;
  const data = chart.data.datasets[0].data;
  const x = Date.parse(tick.observed_at);
  if (data.length && data.at(-1).x >= x) return;
  data.push({ x, y: tick.price });
  while (data.length > current.limit) data.shift();
  chart.update("none");
  dialog.dataset.points = String(data.length);
  dialog.dataset.last = String(x);
  status.textContent = pointsText(data.length);
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
