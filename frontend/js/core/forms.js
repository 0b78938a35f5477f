// Form errors as the page says them: under the field they are about, in words (the API names
// the field: "expires_at must be in the future" reads "The expiry time must be in the future"),
// gone once the field is edited; errors from an outage go when the connection is back.

import { showMessage } from "./dom.js";

const NOUNS = {
  symbol: "The symbol",
  rule: "The rule",
  threshold: "The price",
  direction: "The direction",
  percent: "The change",
  pnl: "The P&L",
  at: "The time of day",
  position_side: "The direction",
  window: "The time window",
  frequency: "How often",
  cooldown: "The pause between alerts",
  expires_at: "The expiry time",
  note: "The note",
  channels: "The channels",
  name: "The name",
  url: "The URL",
  order: "The order",
  username: "The username",
  password: "The password",
};

// `message` with its leading field name (the API's convention) said as the page labels it.
export function spoken(message, field) {
  const noun = NOUNS[field];
  return noun && message.startsWith(`${field} `) ? `${noun}${message.slice(field.length)}` : message;
}

// The error under `input` (its box is `${field}-error`), or none.
export function fieldError(input, field, message) {
  const box = document.getElementById(`${field}-error`);
  box.textContent = message ? spoken(message, field) : "";
  box.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

// Editing a field takes its error away: it is about what was there.
export function clearErrorsOnEdit(form, fields, clear) {
  const onEdit = (event) => {
    const field = event.target.name;
    if (fields.includes(field)) clear(field);
  };
  form.addEventListener("input", onEdit);
  form.addEventListener("change", onEdit);
}

const outages = new Set(); // message boxes showing "the server did not answer" or a 503

// A failure under a form: `retry` offered when the server could not be reached.
export function showFailure(box, error, retry = null) {
  showMessage(box, spoken(error.message, error.field), error.status === 0 ? retry : null);
  if (error.status === 0 || error.status === 503) outages.add(box);
  else outages.delete(box);
}

// The connection is back: what the outage made the forms say no longer holds.
export function clearOutages() {
  for (const box of outages) box.hidden = true;
  outages.clear();
}
