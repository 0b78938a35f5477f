// Compare: a second symbol on the chart, both read as % change from the range's start. The other
// symbol's prices are drawn in the shown symbol's units (its price times base / its own base), so
// the same % sits at the same height on the one price axis, whose labels then say the %. Live
// prices, indicators, alert lines, log scale and the crosshair keep working in prices.

const select = document.getElementById("chart-compare");
let symbols = [];

// The watched symbols the chart can compare with (all but the one it shows).
export function setCompareChoices(watched) {
  symbols = watched;
}

export function fillCompareChoices(shown, chosen) {
  const options = [new Option("Compare with…", "")];
  for (const symbol of symbols) if (symbol !== shown) options.push(new Option(symbol, symbol));
  select.replaceChildren(...options);
  select.value = chosen && symbols.includes(chosen) && chosen !== shown ? chosen : "";
  return select.value || null;
}

export function onCompareChosen(callback) {
  select.addEventListener("change", () => callback(select.value || null));
}

export function enableCompare(enabled) {
  select.disabled = !enabled;
}

export function percentFrom(base, value) {
  return (value / base - 1) * 100;
}

export function percentText(percent, digits = 2) {
  return `${percent > 0 ? "+" : percent < 0 ? "−" : ""}${Math.abs(percent).toFixed(digits)}%`;
}

// Where each series starts: the first bucket's open (the range's start), else its first close.
function baseOf(points) {
  const first = points.find((p) => p.y !== null && p.y !== undefined);
  return first ? (first.o ?? first.y) : null;
}

// The comparison of `points` (the shown symbol's buckets) with `other` ([{x, price}], the other
// symbol's closes): the other's points in the shown symbol's units, and the % labels. Null when
// either has no price.
export function comparison(points, other) {
  const base = baseOf(points);
  const otherBase = baseOf(other.map((p) => ({ y: p.price })));
  if (!base || !otherBase) return null;
  const scaled = (price) => (base * price) / otherBase;
  const data = other.map((p) => ({ x: p.x, y: scaled(p.price), price: p.price }));
  const values = [...points.flatMap((p) => [p.l ?? p.y, p.h ?? p.y]), ...data.map((p) => p.y)].filter((v) => v !== null && v !== undefined);
  const spread = Math.abs(percentFrom(base, Math.max(...values)) - percentFrom(base, Math.min(...values)));
  const digits = spread < 2 ? 2 : 1;
  return {
    base,
    otherBase,
    data,
    scaled,
    label: (value) => percentText(percentFrom(base, value), digits),
    // Ticks at round percentages (0 %, ±5 %, ...), not at round prices of the shown symbol.
    ticks: (scale) => {
      const [low, high] = [percentFrom(base, scale.min), percentFrom(base, scale.max)];
      const step = niceStep((high - low) / 6);
      const ticks = [];
      for (let p = Math.ceil(low / step) * step; p <= high; p += step) ticks.push({ value: base * (1 + p / 100) });
      scale.ticks = ticks;
    },
  };
}

// 1, 2, 2.5 or 5 times a power of ten, at least `rough`.
function niceStep(rough) {
  const power = 10 ** Math.floor(Math.log10(rough || 1));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((step) => step >= rough);
}

// A live price of the compared symbol: into its newest bucket, or a new one.
export function foldCompared(dataset, versus, bucketStart, price) {
  const last = dataset.data.at(-1);
  if (last && bucketStart < last.x) return false;
  const point = { x: bucketStart, y: versus.scaled(price), price };
  if (last && bucketStart === last.x) Object.assign(last, point);
  else dataset.data.push(point);
  return true;
}
