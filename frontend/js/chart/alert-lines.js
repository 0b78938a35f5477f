// The symbol's alerts on its chart: a line at each active alert's level, with its words; a click
// (not a drag) on the prices starts a new alert at that level, confirmed in the alert form; a
// line dragged up or down moves its alert there (saved as an edit of that alert when let go).

import { levelAlerts, moveAlert, reviewNewAlert, startAlert } from "../alerts/alerts.js";
import { showMessage } from "../core/dom.js";
import { formatPrice } from "../core/format.js";

const dialog = document.getElementById("chart-modal");
const canvas = document.getElementById("chart-canvas");
const bar = document.getElementById("chart-new-alert");
const words = document.getElementById("chart-new-alert-text");
const moved = document.getElementById("chart-alert-moved");
const CLICK_SLOP_PX = 5; // a pointer that moved further panned the chart: not a click
const GRAB_PX = 6; // a press this close to a line takes the line, not the chart
let down = null;
let drag = null; // {id, symbol, chart, level, from}: the line being moved
let shown = () => null; // {chart, symbol} of the open chart

// `current()` tells the open chart and its symbol (chart.js owns them).
export function watchLineDrags(current) {
  shown = current;
}

// The zoom plugin's pan starts with a drag too: not while a line is held.
export function lineHeld() {
  return drag !== null;
}

function lineAt(chart, symbol, y) {
  const scale = chart.scales.y;
  if (!scale || y < scale.top || y > scale.bottom) return null;
  return levelAlerts(symbol).find((a) => Math.abs(scale.getPixelForValue(a.threshold) - y) <= GRAB_PX) ?? null;
}

// Captured before the pan's own listeners (hammer.js): a press on a line never starts a pan.
canvas.addEventListener(
  "pointerdown",
  (event) => {
    down = { x: event.clientX, y: event.clientY };
    const open = shown();
    const line = open && lineAt(open.chart, open.symbol, event.offsetY);
    if (!line) return;
    event.stopImmediatePropagation();
    canvas.setPointerCapture(event.pointerId);
    drag = { id: line.id, symbol: open.symbol, chart: open.chart, level: line.threshold, from: line.threshold };
    dialog.dataset.dragging = String(line.id);
  },
  { capture: true },
);

canvas.addEventListener("pointermove", (event) => {
  const open = shown();
  if (!drag) {
    canvas.style.cursor = open && lineAt(open.chart, open.symbol, event.offsetY) ? "ns-resize" : "";
    return;
  }
  const scale = drag.chart.scales.y;
  const y = Math.min(Math.max(event.offsetY, scale.top), scale.bottom);
  drag.level = scale.getValueForPixel(y);
  const line = drag.chart.options.plugins.annotation.annotations[`alert-${drag.id}`];
  if (line) {
    line.yMin = line.yMax = drag.level;
    line.label.content = `Move to ${formatPrice(drag.level, drag.level, drag.symbol)}`;
    drag.chart.update("none");
  }
});

async function letGo() {
  if (!drag) return;
  const { id, symbol, chart, level, from } = drag;
  drag = null;
  delete dialog.dataset.dragging;
  const scale = chart.scales.y;
  if (Math.abs(scale.getPixelForValue(level) - scale.getPixelForValue(from)) < CLICK_SLOP_PX) return; // a press, not a move
  const text = formatPrice(level, level, symbol); // the level as the chart shows it, sent as that text
  try {
    say(`Alert moved: ${await moveAlert(id, text)}.`, true);
  } catch (error) {
    say(`Could not move the alert: ${error.message}`, false);
    onLinesChanged(); // back where the server has it
  }
}

let onLinesChanged = () => {};
export function onLineMoveFailed(redraw) {
  onLinesChanged = redraw;
}

function say(message, ok) {
  moved.dataset.ok = String(ok);
  showMessage(moved, message);
}

canvas.addEventListener("pointerup", letGo);
canvas.addEventListener("pointercancel", letGo);
dialog.addEventListener("close", () => {
  drag = null;
  moved.hidden = true;
});

export function alertAnnotations(symbol, themed) {
  const colour = themed("--warn-line");
  const lines = {};
  for (const alert of levelAlerts(symbol)) {
    lines[`alert-${alert.id}`] = {
      type: "line", yScaleID: "y", yMin: alert.threshold, yMax: alert.threshold, borderColor: colour, borderWidth: 1.5, borderDash: [6, 4],
      label: { display: true, content: alert.text, position: "start", backgroundColor: colour, color: themed("--warn-ink"), font: { size: 11 }, padding: 3 },
    };
  }
  dialog.dataset.alertLines = Object.keys(lines).length ? levelAlerts(symbol).map((a) => a.threshold).join(",") : "";
  return lines;
}

// Chart.js's onClick: a click on the price pane proposes an alert at the price under the pointer.
export function clickedAt(event, chart, symbol, lastPrice) {
  const native = event.native;
  if (dialog.dataset.dragging) return;
  if (down && native && Math.hypot(native.clientX - down.x, native.clientY - down.y) > CLICK_SLOP_PX) return;
  const y = chart.scales.y;
  if (lastPrice === null || event.y < y.top || event.y > y.bottom) return;
  const level = y.getValueForPixel(event.y);
  words.textContent = `New alert: ${startAlert(symbol, level, lastPrice)}?`;
  bar.hidden = false;
}

export function hideNewAlert() {
  bar.hidden = true;
}

document.getElementById("chart-new-alert-cancel").addEventListener("click", hideNewAlert);
document.getElementById("chart-new-alert-review").addEventListener("click", () => {
  hideNewAlert();
  dialog.dataset.keepFocus = "true"; // closing hands the focus to the form, not back to the card
  dialog.close();
  reviewNewAlert();
});
