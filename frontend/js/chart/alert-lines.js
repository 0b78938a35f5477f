// The symbol's alerts on its chart: a line at each active alert's level, with its words; a click
// (not a drag) on the prices starts a new alert at that level, confirmed in the alert form.
// Dragging a line to change its alert waits for alerts that can be edited.

import { levelAlerts, reviewNewAlert, startAlert } from "../alerts/alerts.js";

const dialog = document.getElementById("chart-modal");
const canvas = document.getElementById("chart-canvas");
const bar = document.getElementById("chart-new-alert");
const words = document.getElementById("chart-new-alert-text");
const CLICK_SLOP_PX = 5; // a pointer that moved further panned the chart: not a click
let down = null;

canvas.addEventListener("pointerdown", (event) => {
  down = { x: event.clientX, y: event.clientY };
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
