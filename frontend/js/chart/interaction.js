// How the chart answers the pointer: zoom and pan on the time axis (chartjs-plugin-zoom: the
// wheel, a pinch, a drag), and a crosshair that reads the time and price under the pointer.

const dialog = document.getElementById("chart-modal");
const resetButton = document.getElementById("chart-reset-zoom");

// Zoom and pan along time only, never past the data loaded; a zoomed chart offers a reset.
// `canPan()` false: a drag that starts now is not a pan (an alert's line is held).
export function zoomOptions(onChange, canPan = () => true) {
  const changed = ({ chart }) => {
    resetButton.hidden = !chart.isZoomedOrPanned();
    const { min, max } = chart.scales.x;
    dialog.dataset.visibleMin = String(Math.round(min));
    dialog.dataset.visibleMax = String(Math.round(max));
    onChange?.(chart);
  };
  return {
    limits: { x: { min: "original", max: "original", minRange: 60_000 } },
    pan: { enabled: true, mode: "x", onPanStart: () => canPan(), onPanComplete: changed },
    zoom: { wheel: { enabled: true }, pinch: { enabled: true }, mode: "x", onZoomComplete: changed },
  };
}

export function resetZoom(chart) {
  chart?.resetZoom("none");
  resetButton.hidden = true;
  delete dialog.dataset.visibleMin;
  delete dialog.dataset.visibleMax;
}

// The crosshair: dashed lines through the pointer, the price at the pointer's height on the
// right edge. What it reads (the nearest bucket's time, the price under the pointer) is also
// on the dialog (data-crosshair-time, data-crosshair-price) for scripts and tests.
export function crosshairPlugin({ colour, formatPrice }) {
  let at = null; // {x, y} in canvas pixels, inside the chart area
  return {
    id: "crosshair",
    afterEvent(chart, args) {
      const { event, inChartArea } = args;
      if (event.type === "mouseout" || !inChartArea) {
        if (at) args.changed = true;
        at = null;
        delete dialog.dataset.crosshairTime;
        delete dialog.dataset.crosshairPrice;
        return;
      }
      at = { x: event.x, y: event.y };
      args.changed = true;
      const nearest = chart.getElementsAtEventForMode(event, "nearest", { axis: "x", intersect: false }, false)[0];
      const raw = nearest && chart.data.datasets[nearest.datasetIndex].data[nearest.index];
      if (raw) dialog.dataset.crosshairTime = new Date(raw.x).toISOString();
      const price = chart.scales.y.getValueForPixel(event.y);
      dialog.dataset.crosshairPrice = String(price);
    },
    afterDraw(chart) {
      if (!at) return;
      const { ctx, chartArea } = chart;
      const y = chart.scales.y;
      ctx.save();
      ctx.strokeStyle = colour();
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(at.x, chartArea.top);
      ctx.lineTo(at.x, chartArea.bottom);
      if (at.y >= y.top && at.y <= y.bottom) {
        ctx.moveTo(chartArea.left, at.y);
        ctx.lineTo(chartArea.right, at.y);
      }
      ctx.stroke();
      if (at.y >= y.top && at.y <= y.bottom) {
        const text = formatPrice(y.getValueForPixel(at.y));
        ctx.setLineDash([]);
        ctx.font = "12px system-ui, sans-serif";
        const width = ctx.measureText(text).width + 8;
        ctx.fillStyle = colour();
        ctx.fillRect(chartArea.right - width, at.y - 9, width, 18);
        ctx.fillStyle = getComputedStyle(document.documentElement).getPropertyValue("--panel").trim();
        ctx.textBaseline = "middle";
        ctx.fillText(text, chartArea.right - width + 4, at.y);
      }
      ctx.restore();
    },
  };
}
