// Price alerts: the form (checked here, then by the server), the lists, and the banners
// and browser notifications when one fires.

import { api, ApiError } from "./api.js";
import { element } from "./dom.js";
import { describeCondition, formatDateTime, formatPrice } from "./format.js";

const form = document.getElementById("alert-form");
const symbolSelect = document.getElementById("alert-symbol");
const thresholdInput = document.getElementById("alert-threshold");
const formError = document.getElementById("form-error");
const activeList = document.getElementById("active-alerts");
const triggeredList = document.getElementById("triggered-alerts");
const banners = document.getElementById("banners");
const notifyButton = document.getElementById("notify");
const FIELDS = ["symbol", "direction", "threshold"];
const RECENT_TRIGGERED = 10;

function fieldError(field, message) {
  const el = document.getElementById(`${field}-error`);
  const input = form.elements[field];
  el.textContent = message ?? "";
  el.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function clearErrors() {
  FIELDS.forEach((f) => fieldError(f, null));
  formError.hidden = true;
  formError.textContent = "";
}

function showError(error) {
  if (error instanceof ApiError && FIELDS.includes(error.field)) {
    fieldError(error.field, error.message);
    form.elements[error.field].focus();
  } else {
    formError.textContent = error.message;
    formError.hidden = false;
  }
}

// The same rules the server applies, so most mistakes are caught before a round trip.
function validate(values) {
  const errors = {};
  if (!values.symbol) errors.symbol = "Choose a symbol.";
  const raw = values.threshold.trim();
  const number = Number(raw);
  if (!raw) errors.threshold = "Enter a threshold price.";
  else if (!Number.isFinite(number)) errors.threshold = "The threshold must be a number, like 100000 or 0.15.";
  else if (number <= 0) errors.threshold = "The threshold must be greater than 0.";
  return errors;
}

export function setSymbols(symbols) {
  const chosen = symbolSelect.value;
  symbolSelect.replaceChildren(
    ...symbols.map((s) => {
      const option = element("option", "", s);
      option.value = s;
      return option;
    }),
  );
  if (symbols.includes(chosen)) symbolSelect.value = chosen;
}

function alertText(alert) {
  return `${alert.symbol} ${describeCondition(alert.direction)} ${formatPrice(alert.threshold)}`;
}

function activeItem(alert) {
  const li = element("li");
  li.dataset.id = alert.id;
  const text = element("span", "alert-text", alertText(alert));
  const created = element("span", "meta", `created ${formatDateTime(alert.created_at)}`);
  const remove = element("button", "danger", "Delete");
  remove.type = "button";
  remove.setAttribute("aria-label", `Delete alert ${alertText(alert)}`);
  remove.addEventListener("click", () => deleteAlert(alert, remove));
  li.append(text, created, remove);
  return li;
}

function triggeredItem(alert) {
  const li = element("li");
  li.dataset.id = alert.id;
  const text = element("span", "alert-text", `${alertText(alert)}: hit ${formatPrice(alert.triggered_price)}`);
  const when = element("span", "meta", `triggered ${formatDateTime(alert.triggered_at)}`);
  li.append(text, when);
  return li;
}

function syncEmpty() {
  document.getElementById("no-active").hidden = activeList.children.length > 0;
  document.getElementById("no-triggered").hidden = triggeredList.children.length > 0;
}

export async function loadAlerts() {
  const [active, triggered] = await Promise.all([api.alerts("active"), api.alerts("triggered")]);
  activeList.replaceChildren(...active.map(activeItem));
  triggeredList.replaceChildren(...triggered.slice(0, RECENT_TRIGGERED).map(triggeredItem));
  syncEmpty();
}

async function deleteAlert(alert, button) {
  button.disabled = true;
  try {
    await api.deleteAlert(alert.id);
    activeList.querySelector(`li[data-id="${alert.id}"]`)?.remove();
    syncEmpty();
  } catch (error) {
    button.disabled = false;
    formError.textContent = `Could not delete ${alertText(alert)}: ${error.message}`;
    formError.hidden = false;
    await loadAlerts().catch(() => {});
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  const values = {
    symbol: symbolSelect.value,
    direction: form.elements.direction.value,
    threshold: thresholdInput.value,
  };
  const errors = validate(values);
  if (Object.keys(errors).length) {
    Object.entries(errors).forEach(([field, message]) => fieldError(field, message));
    form.elements[Object.keys(errors)[0]].focus();
    return;
  }
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    const alert = await api.createAlert({ ...values, threshold: values.threshold.trim() });
    activeList.prepend(activeItem(alert));
    thresholdInput.value = "";
    syncEmpty();
  } catch (error) {
    showError(error);
  } finally {
    submit.disabled = false;
  }
});

function banner(alert) {
  const box = element("div", "banner");
  box.setAttribute("role", "alert");
  box.dataset.id = alert.id;
  const text = element("span");
  const moved = alert.direction === "above" ? "rose to" : "fell to";
  text.textContent = `Alert: ${alert.symbol} ${moved} ${formatPrice(alert.triggered_price)} (${describeCondition(alert.direction)} ${formatPrice(alert.threshold)})`;
  const dismiss = element("button", "close", "×");
  dismiss.type = "button";
  dismiss.setAttribute("aria-label", "Dismiss alert notice");
  dismiss.addEventListener("click", () => box.remove());
  box.append(text, dismiss);
  banners.prepend(box);
  return text.textContent;
}

// A fired alert from /ws: it leaves the active list, joins the triggered one, and is announced.
export function alertFired(alert) {
  activeList.querySelector(`li[data-id="${alert.id}"]`)?.remove();
  if (!triggeredList.querySelector(`li[data-id="${alert.id}"]`)) {
    triggeredList.prepend(triggeredItem(alert));
    while (triggeredList.children.length > RECENT_TRIGGERED) triggeredList.lastElementChild.remove();
  }
  syncEmpty();
  const message = banner(alert);
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification("Stock Ticker alert", { body: message, tag: `alert-${alert.id}` });
  }
}

if ("Notification" in window && Notification.permission === "default") {
  notifyButton.hidden = false;
  notifyButton.addEventListener("click", async () => {
    await Notification.requestPermission();
    notifyButton.hidden = Notification.permission !== "default";
  });
}
