// The chart's indicators: which are on (and their periods) as the picker under the chart says,
// remembered; the server computes them (GET /api/history/<symbol>?indicators=...), this module
// only turns its series into Chart.js datasets.

const picker = document.getElementById("chart-indicators");
const STORE = "chart-indicators";
// Each kind: its spec from the picker's fields, and the colour variable of its line.
const KINDS = {
  sma: { spec: (f) => `sma:${f.period}`, colour: "--sma" },
  ema: { spec: (f) => `ema:${f.period}`, colour: "--ema" },
  bb: { spec: (f) => `bb:${f.period}:${f.width}`, colour: "--bands" },
  rsi: { spec: (f) => `rsi:${f.period}`, colour: "--rsi" },
};

function fieldsOf(row) {
  const fields = { on: row.querySelector("input[type=checkbox]").checked };
  for (const input of row.querySelectorAll("input[type=number]")) fields[input.name] = input.value;
  return fields;
}

function rows() {
  return [...picker.querySelectorAll("[data-indicator]")];
}

function valid(input) {
  const value = Number(input.value);
  return input.value !== "" && value >= Number(input.min) && value <= Number(input.max) && (input.step === "any" || Number.isInteger(value));
}

// The specs of the indicators that are on and well filled in, e.g. "sma:20,rsi:14".
export function chosenSpecs() {
  return rows()
    .filter((row) => row.querySelector("input[type=checkbox]").checked && [...row.querySelectorAll("input[type=number]")].every(valid))
    .map((row) => KINDS[row.dataset.indicator].spec(fieldsOf(row)))
    .join(",");
}

function save() {
  localStorage.setItem(STORE, JSON.stringify(Object.fromEntries(rows().map((row) => [row.dataset.indicator, fieldsOf(row)]))));
}

function restore() {
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(STORE) || "{}");
  } catch {
    saved = {};
  }
  for (const row of rows()) {
    const fields = saved[row.dataset.indicator];
    if (!fields) continue;
    row.querySelector("input[type=checkbox]").checked = Boolean(fields.on);
    for (const input of row.querySelectorAll("input[type=number]")) if (fields[input.name]) input.value = fields[input.name];
  }
}

// Calls ``changed`` when what is asked changes (a box ticked, a period typed and valid).
export function watchPicker(changed) {
  restore();
  let last = chosenSpecs();
  picker.addEventListener("input", (event) => {
    if (event.target.type === "number") event.target.setAttribute("aria-invalid", String(!valid(event.target)));
    save();
    const now = chosenSpecs();
    if (now === last) return;
    last = now;
    changed();
  });
}

// Datasets for an answer's indicators on its points' times: price-pane lines and the RSI pane.
export function indicatorDatasets(answer, times, themed) {
  const datasets = [];
  const line = (label, values, colour, extra = {}) => ({
    type: "line",
    label,
    data: values.map((y, i) => ({ x: times[i], y })),
    borderColor: colour,
    borderWidth: 1.5,
    pointRadius: 0,
    spanGaps: false,
    order: 0,
    yAxisID: "y",
    indicator: true,
    ...extra,
  });
  for (const [spec, series] of Object.entries(answer.indicators || {})) {
    const [kind, period, width] = spec.split(":");
    const colour = themed(KINDS[kind].colour);
    if (kind === "bb") {
      const label = `BB ${period}, ${width}`;
      datasets.push(line(label, series.upper, colour, { borderWidth: 1 })); // the legend's entry
      datasets.push(line(`${label} lower`, series.lower, colour, { borderWidth: 1, fill: "-1", backgroundColor: `${colour}1f` }));
      datasets.push(line(`${label} middle`, series.middle, colour, { borderWidth: 1, borderDash: [4, 3] }));
    } else if (kind === "rsi") {
      datasets.push(line(`RSI ${period}`, series, colour, { yAxisID: "rsi" }));
    } else {
      datasets.push(line(`${kind.toUpperCase()} ${period}`, series, colour));
    }
  }
  return datasets;
}
