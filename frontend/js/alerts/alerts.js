// Price alerts: the form (checked here, then by the server), the lists, each alert's history,
// and the banners and browser notifications when one fires.

import { api, ApiError } from "../core/api.js";
import { element, showMessage } from "../core/dom.js";
import { formatDateTime, formatPrice, formatTime, readNumber } from "../core/format.js";
import { clearErrorsOnEdit, fieldError as showFieldError, showFailure } from "../core/forms.js";
import { offerUndo } from "../core/undo.js";
import { notice } from "./notice.js";

const form = document.getElementById("alert-form");
const symbolSelect = document.getElementById("alert-symbol");
const channelBoxes = document.getElementById("alert-channels");
const noChannelChoice = document.getElementById("no-channel-choice");
const formError = document.getElementById("form-error");
const activeList = document.getElementById("active-alerts");
const triggeredList = document.getElementById("triggered-alerts");
const expiredList = document.getElementById("expired-alerts");
const notifyButton = document.getElementById("notify");
const eventsDialog = document.getElementById("events-modal");
const eventsTitle = document.getElementById("events-title");
const eventsStatus = document.getElementById("events-status");
const eventsList = document.getElementById("events");
const FIELDS = ["symbol", "rule", "threshold", "direction", "percent", "pnl", "position_side", "window", "side", "indicator", "period",
  "level", "timeframe", "at", "frequency", "cooldown", "expires_at", "note", "channels"];
const INDICATOR_RULES = ["cross", "rsi"];
const PRICE_RULES = ["above", "below"]; // a threshold on the price itself (a line on the chart, a distance to go)
const SIDED_RULES = ["value", "pnl", "total"]; // above / below from the position's own select
// A daily summary goes out at the viewer's own time of day, in the zone this browser is in.
const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
document.getElementById("alert-zone").textContent = `Your time (${ZONE})`;
const RECENT_TRIGGERED = 10;
const RECENT_EXPIRED = 10;
const SNOOZES = [["1h", "1 hour"], ["8h", "8 hours"], ["24h", "1 day"], ["7d", "1 week"]];
const FREQUENCY = { once: "once", every_time: "every time" };

function input(field) {
  if (field === "channels") return channelBoxes.querySelector("input") ?? channelBoxes;
  // an indicator rule's direction is its own select (above / below, not up / down)
  if (field === "direction" && INDICATOR_RULES.includes(form.elements.rule.value)) return form.elements.side;
  return form.elements[field];
}

function fieldError(field, message) {
  showFieldError(input(field), field, message);
}
clearErrorsOnEdit(form, FIELDS, (field) => fieldError(field, null));

function clearErrors() {
  FIELDS.forEach((f) => fieldError(f, null));
  formError.hidden = true;
  formError.textContent = "";
}

function showFormError(message, retry) {
  showMessage(formError, message, retry); // the page's own words
}

// The API's field as this form shows it: a position rule's direction and percentage have boxes of their own.
function shownField(field) {
  const rule = form.elements.rule.value;
  if (rule === "pnl" && field === "percent") return "pnl";
  if (SIDED_RULES.includes(rule) && field === "direction") return "position_side";
  return field;
}

function showError(error) {
  if (error instanceof ApiError && FIELDS.includes(error.field)) {
    const field = shownField(error.field);
    fieldError(field, field === "pnl" ? error.message.replace(/^percent /, "pnl ") : error.message);
    input(field).focus();
  } else {
    showFailure(formError, error, () => form.requestSubmit());
  }
}

// Only the fields of the chosen rule and frequency are shown (and sent).
function syncVisibleFields() {
  const rule = form.elements.rule.value;
  const frequency = form.elements.frequency.value;
  form.querySelectorAll("[data-rule]").forEach((el) => (el.hidden = !el.dataset.rule.split(" ").includes(rule)));
  form.querySelectorAll("[data-frequency]").forEach((el) => (el.hidden = el.dataset.frequency !== frequency));
  form.elements.period.placeholder = rule === "rsi" ? "14 (Wilder's)" : "e.g. 20"; // RSI's when left empty
}
form.elements.rule.addEventListener("change", syncVisibleFields);
form.elements.frequency.addEventListener("change", syncVisibleFields);
syncVisibleFields();

// Worded as the server words them, so a message reads the same whoever caught the mistake.
function positiveNumber(raw, field, missing) {
  const number = Number(raw);
  if (!raw) return missing;
  if (!Number.isFinite(number)) return `${field} must be a number`;
  if (number <= 0) return `${field} must be greater than 0`;
  return null;
}

// The same rules the server applies, so most mistakes are caught before a round trip.
function readForm() {
  const values = form.elements;
  const body = { symbol: symbolSelect.value, rule: values.rule.value, frequency: values.frequency.value };
  const errors = {};
  if (body.rule === "total" || body.rule === "daily") delete body.symbol; // on the whole portfolio
  else if (!body.symbol) errors.symbol = "symbol is required";
  if (body.rule === "daily") {
    delete body.frequency; // every day
    body.at = values.at.value;
    body.timezone = ZONE;
    if (!/^\d\d:\d\d$/.test(body.at)) errors.at = "at must be a time of day, like 18:00";
  } else if (body.rule === "change") {
    body.direction = values.direction.value;
    body.percent = readNumber(values.percent.value);
    body.window = values.window.value;
    const problem = positiveNumber(body.percent, "percent", "percent is required for a change rule");
    if (problem) errors.percent = problem;
    else if (Number(body.percent) > 1000) errors.percent = "percent must be greater than 0 and at most 1000";
  } else if (INDICATOR_RULES.includes(body.rule)) {
    body.direction = values.side.value;
    body.timeframe = values.timeframe.value;
    if (body.rule === "cross") body.indicator = values.indicator.value;
    const period = values.period.value.trim();
    if (!period) {
      if (body.rule === "cross") errors.period = "period is required"; // RSI's is 14 unless given
    } else if (!/^[0-9]+$/.test(period) || Number(period) < 2 || Number(period) > 500) {
      errors.period = "period must be from 2 to 500";
    } else body.period = Number(period);
    if (body.rule === "rsi") {
      body.level = readNumber(values.level.value);
      const problem = positiveNumber(body.level, "level", "level is required for the rsi rule (e.g. 70)");
      if (problem) errors.level = problem;
      else if (Number(body.level) >= 100) errors.level = "level must be greater than 0 and less than 100";
    }
  } else if (body.rule === "pnl") {
    body.direction = values.position_side.value;
    body.percent = readNumber(values.pnl.value);
    const number = Number(body.percent);
    if (!body.percent) errors.pnl = "pnl is required: a percentage, negative for a loss";
    else if (!Number.isFinite(number)) errors.pnl = "pnl must be a number";
    else if (number <= -100 || number > 100000) errors.pnl = "pnl must be more than -100 and at most 100000";
  } else {
    if (SIDED_RULES.includes(body.rule)) body.direction = values.position_side.value;
    body.threshold = readNumber(values.threshold.value);
    const problem = positiveNumber(body.threshold, "threshold", "threshold is required");
    if (problem) errors.threshold = problem;
  }
  if (body.frequency === "every_time" && body.rule !== "daily") body.cooldown = values.cooldown.value;
  if (values.expires_at.value) {
    const expires = new Date(values.expires_at.value);
    if (Number.isNaN(expires.getTime())) errors.expires_at = "expires_at must be a date and time";
    else if (expires <= new Date()) errors.expires_at = "expires_at must be in the future";
    else body.expires_at = expires.toISOString();
  }
  const note = values.note.value.trim();
  if (note) body.note = note;
  body.channels = [...channelBoxes.querySelectorAll("input:checked")].map((box) => Number(box.value));
  return { body, errors };
}

let watched = new Set();

// The alert form offers the watched symbols; alerts on others wait (shown paused).
export function setSymbols(symbols) {
  watched = new Set(symbols);
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

// The channel checkboxes follow the channel list; ticked ones stay ticked.
export function setChannels(channels) {
  const ticked = new Set([...channelBoxes.querySelectorAll("input:checked")].map((box) => box.value));
  channelBoxes.replaceChildren(
    ...channels.map((channel) => {
      const label = element("label", "check");
      const box = element("input");
      box.type = "checkbox";
      box.name = "channels";
      box.value = String(channel.id);
      box.checked = ticked.has(box.value);
      label.append(box, document.createTextNode(` ${channel.name}`));
      return label;
    }),
  );
  noChannelChoice.hidden = channels.length > 0;
}

// The condition in the viewer's numbers and the symbol's decimals ("at or above 500.00"); a
// change rule's words are the server's ("moves up 5 % within 1 h").
function condition(alert) {
  if (!PRICE_RULES.includes(alert.rule)) return alert.condition;
  return `at or ${alert.rule} ${formatPrice(alert.threshold, alert.threshold, alert.symbol)}`;
}

// "BTC-USD at or above 500.00"; an alert on the whole portfolio: "Portfolio worth at or above …".
function alertText(alert) {
  if (alert.symbol === null) return alert.condition.replace(/^portfolio/, "Portfolio");
  return `${alert.symbol} ${condition(alert)}`;
}

// A delivery in words: "sent", "pending (2 attempts)", "gave up after 5 attempts".
function deliveryState(d) {
  const attempts = `${d.attempts} attempt${d.attempts === 1 ? "" : "s"}`;
  if (d.status === "failed") return `gave up after ${attempts}`;
  return d.status === "pending" && d.attempts ? `pending (${attempts})` : d.status;
}

function deliverySummary(deliveries) {
  return deliveries.map((d) => `${d.channel} ${deliveryState(d)}`).join(", ");
}

// A channel as an alert lists it; a failing one says since when and why.
function channelState(c) {
  if (c.enabled === false) return `${c.name} (off)`;
  return c.failing_since ? `${c.name} (failing since ${formatDateTime(c.failing_since)}: ${c.last_error})` : c.name;
}

function alertMeta(alert) {
  const parts = [alert.rule === "daily" ? "every day" : (FREQUENCY[alert.frequency] ?? alert.frequency)];
  if (alert.channels?.length) parts.push(`→ ${alert.channels.map(channelState).join(", ")}`);
  if (alert.expires_at) parts.push(`${alert.status === "expired" ? "expired" : "expires"} ${formatDateTime(alert.expires_at)}`);
  if (alert.last_deliveries?.length) parts.push(`last: ${deliverySummary(alert.last_deliveries)}`);
  return parts.join(" · ");
}

// Why the check passes an active alert by, or "" when it is checked.
function restingState(alert) {
  if (alert.paused_at) return `Paused since ${formatDateTime(alert.paused_at)}: not checked until resumed.`;
  if (alert.snoozed_until) return `Snoozed until ${formatDateTime(alert.snoozed_until)}: not checked till then.`;
  return "";
}

function historyButton(alert) {
  const button = element("button", "secondary", "History");
  button.type = "button";
  button.setAttribute("aria-label", `History of alert ${alertText(alert)}`);
  button.addEventListener("click", () => openEvents(alert, button));
  return button;
}

function listItem(alert, text, meta, ...buttons) {
  const li = element("li");
  li.dataset.id = alert.id;
  const actions = element("span", "actions");
  actions.append(...buttons);
  li.append(element("span", "alert-text", text), actions, element("span", "meta", meta));
  if (alert.note) li.append(element("span", "meta note", `“${alert.note}”`));
  return li;
}

function button(className, text, label, onClick) {
  const b = element("button", className, text);
  b.type = "button";
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

// Pause, or snooze for a while (a menu of durations); Resume for one that rests.
function restingTools(alert) {
  const words = alertText(alert);
  if (!alert.checked) return [button("secondary resume", "Resume", `Resume alert ${words}`, (e) => rest(alert, e.target, "resume"))];
  const pause = button("secondary pause", "Pause", `Pause alert ${words}`, (e) => rest(alert, e.target, "pause"));
  const snooze = element("select", "snooze");
  snooze.setAttribute("aria-label", `Snooze alert ${words}`);
  snooze.append(new Option("Snooze…", ""), ...SNOOZES.map(([value, text]) => new Option(`for ${text}`, value)));
  snooze.addEventListener("change", () => snooze.value && rest(alert, snooze, "snooze", snooze.value));
  return [pause, snooze];
}

async function rest(alert, control, action, duration) {
  control.disabled = true;
  try {
    const changed = await {
      pause: () => api.pauseAlert(alert.id),
      resume: () => api.resumeAlert(alert.id),
      snooze: () => api.snoozeAlert(alert.id, duration),
    }[action]();
    upsertActive(changed);
    activeList.querySelector(`li[data-id="${alert.id}"] .actions :is(.pause, .resume, .snooze)`)?.focus();
  } catch (error) {
    control.disabled = false;
    showFormError(`Could not ${action} ${alertText(alert)}: ${error.message}`);
  }
}

function activeItem(alert) {
  const words = alertText(alert);
  const remove = button("danger", "Delete", `Delete alert ${words}`, (e) => deleteAlert(alert, e.target));
  const edit = button("secondary edit", "Edit", `Edit alert ${words}`, () => startEdit(alert));
  const fired = alert.triggered_at ? ` · last fired ${formatDateTime(alert.triggered_at)}` : "";
  const li = listItem(alert, words, `${alertMeta(alert)}${fired}`, historyButton(alert), ...restingTools(alert), edit, remove);
  li.alert = alert;
  li.dataset.resting = String(!alert.checked);
  const resting = restingState(alert);
  if (resting) li.append(element("span", "meta resting", resting));
  li.append(element("span", "meta distance"));
  return li;
}

// How far the price is from a threshold, in % of the price; null for change rules.
function distance(alert) {
  const price = priceOf(alert.symbol);
  if (!PRICE_RULES.includes(alert.rule) || price === null) return null;
  const gap = alert.rule === "above" ? alert.threshold - price : price - alert.threshold;
  return Math.max(0, (gap / price) * 100);
}

// Current alerts, nearest to firing first, each with how far away it is. The list is not
// reordered while the keyboard focus is in it, so nothing moves under a keyboard user.
export function refreshDistances() {
  const items = [...activeList.children];
  const away = new Map(items.map((li) => [li, distance(li.alert)]));
  for (const [li, value] of away) {
    const unwatched = li.alert.symbol !== null && !watched.has(li.alert.symbol);
    li.dataset.unwatched = String(unwatched);
    li.querySelector(".distance").textContent = unwatched
      ? `waiting: ${li.alert.symbol} is not on a watchlist (add it again to check it)`
      : value === null
        ? ""
        : value === 0
          ? "at the threshold: fires on the next price"
          : `${value.toFixed(1)} % away`;
  }
  if (activeList.contains(document.activeElement)) return;
  const rank = (li) => away.get(li) ?? Number.POSITIVE_INFINITY;
  const sorted = [...items].sort((a, b) => rank(a) - rank(b));
  if (sorted.some((li, i) => li !== items[i])) activeList.append(...sorted);
}

// What a fire reached: the price, the portfolio's worth, or when a summary went out.
function reached(alert) {
  if (alert.rule === "daily") return "sent";
  const money = { minimumFractionDigits: 2, maximumFractionDigits: 2 };
  if (alert.rule === "total") return `worth ${alert.triggered_price.toLocaleString(undefined, money)} ${alert.currency}`;
  return `hit ${formatPrice(alert.triggered_price, alert.triggered_price, alert.symbol)}`;
}

function triggeredItem(alert) {
  const text = `${alertText(alert)}: ${reached(alert)}`;
  return listItem(alert, text, `triggered ${formatDateTime(alert.triggered_at)} · ${alertMeta(alert)}`,
    historyButton(alert));
}

function expiredItem(alert) {
  const text = `${alertText(alert)}: expired${alert.fire_count ? ` after ${alert.fire_count} fire${alert.fire_count === 1 ? "" : "s"}` : ", never fired"}`;
  return listItem(alert, text, alertMeta(alert), historyButton(alert));
}

function syncEmpty() {
  document.getElementById("no-active").hidden = activeList.children.length > 0;
  document.getElementById("no-triggered").hidden = triggeredList.children.length > 0;
  document.getElementById("no-expired").hidden = expiredList.children.length > 0;
  alertsChanged(); // every change of the lists comes through here: the chart redraws its lines
}

// The symbols whose prices the alert lists and the form show (distances, the preview).
export function alertSymbols() {
  return [...[...activeList.children].map((li) => li.alert.symbol).filter(Boolean), symbolSelect.value];
}

// For the chart: the active alerts at a price level of a symbol (its lines), and a call when
// the lists change.
let alertsChanged = () => {};
export function onAlertsChange(callback) {
  alertsChanged = callback;
}

export function levelAlerts(symbol) {
  return [...activeList.children]
    .map((li) => li.alert)
    .filter((a) => a && a.symbol === symbol && PRICE_RULES.includes(a.rule))
    .map((a) => ({ id: a.id, threshold: a.threshold, text: condition(a) }));
}

// A new alert started on the chart: the form filled in (the symbol, the side of the price the
// level is on, the level); nothing is saved until the form is sent. Returns its words.
export function startAlert(symbol, level, price) {
  symbolSelect.value = symbol;
  form.elements.rule.value = level >= price ? "above" : "below";
  syncVisibleFields();
  form.elements.threshold.value = formatPrice(level, level, symbol);
  updatePreview();
  return alertText({ symbol, rule: form.elements.rule.value, threshold: level });
}

// The filled-in form, in view with its threshold focused, for the person to check and send.
export function reviewNewAlert() {
  form.scrollIntoView({ block: "center" });
  form.elements.threshold.focus();
}

// Recently triggered: one-time alerts that fired and repeating ones that have, newest fire first.
function recentlyTriggered(active, triggered) {
  return [...triggered, ...active.filter((a) => a.triggered_at)]
    .sort((a, b) => Date.parse(b.triggered_at) - Date.parse(a.triggered_at))
    .slice(0, RECENT_TRIGGERED);
}

// Socket events that arrive while the lists load are applied again on top of what loaded: the
// server may have read the lists before them (seen: an alert made in another tab vanished).
let arrivedWhileLoading = null;

function applyEvent(apply) {
  apply();
  arrivedWhileLoading?.push(apply);
}

export async function loadAlerts() {
  const arrived = [];
  arrivedWhileLoading = arrived;
  try {
    const [active, triggered, expired] = await Promise.all(["active", "triggered", "expired"].map(api.alerts));
    activeList.replaceChildren(...active.map(activeItem));
    triggeredList.replaceChildren(...recentlyTriggered(active, triggered).map(triggeredItem));
    expiredList.replaceChildren(...expired.slice(0, RECENT_EXPIRED).map(expiredItem));
    arrived.forEach((apply) => apply());
  } finally {
    if (arrivedWhileLoading === arrived) arrivedWhileLoading = null;
  }
  syncEmpty();
  refreshDistances();
}

// Removes an alert's item; if it held the focus, the focus moves to the next item (or the one
// before, or the list's heading), never to <body>.
function removeActive(id, hadFocus = false) {
  const item = activeList.querySelector(`li[data-id="${id}"]`);
  if (!item) return;
  if (editing?.id === id) endEdit();
  const focused = hadFocus || item.contains(document.activeElement);
  const neighbour = item.nextElementSibling ?? item.previousElementSibling;
  item.remove();
  syncEmpty();
  if (focused) (neighbour?.querySelector("button.danger") ?? document.getElementById("active-heading")).focus();
}

async function deleteAlert(alert, button) {
  const item = button.closest("li");
  const hadFocus = item.contains(document.activeElement); // disabling the button drops its focus
  item.dataset.deleting = "true"; // this tab removes it (with focus); the socket's echo waits
  button.disabled = true;
  try {
    await api.deleteAlert(alert.id);
    removeActive(alert.id, hadFocus);
    offerUndo(`Deleted alert ${alertText(alert)}.`, async () => {
      upsertActive(await api.restoreAlert(alert.id));
      return `Alert ${alertText(alert)} is back.`;
    });
  } catch (error) {
    delete item.dataset.deleting;
    button.disabled = false;
    if (hadFocus) button.focus();
    showFormError(`Could not delete ${alertText(alert)}: ${error.message}`,
      error.status === 0 ? () => deleteAlert(alert, button) : null);
    if (error.status !== 0) await loadAlerts().catch(() => {});
  }
}

// The same alert from this tab's answer and from the socket (any tab): one item, the newest.
function upsertActive(alert) {
  const item = activeItem(alert);
  const existing = activeList.querySelector(`li[data-id="${alert.id}"]`);
  if (existing) existing.replaceWith(item);
  else activeList.prepend(item);
  syncEmpty();
  refreshDistances();
}

export function alertCreated(alert) {
  applyEvent(() => upsertActive(alert));
}

export function alertChanged(alert) {
  applyEvent(() => upsertActive(alert));
}

// Editing an alert in place: the form holds it (its symbol fixed), "Save changes" sends only the
// change of form (PATCH: the alert keeps its id, its fires and their deliveries); Cancel edit, or
// the alert leaving the active list, ends it.
const editingBox = document.getElementById("alert-editing");
const submitButton = form.querySelector("button[type=submit]");
let editing = null; // the alert the form holds

function startEdit(alert) {
  editing = alert;
  clearErrors();
  if (alert.symbol !== null) symbolSelect.value = alert.symbol;
  symbolSelect.disabled = true;
  const values = form.elements;
  values.rule.value = alert.rule;
  values.frequency.value = alert.frequency;
  syncVisibleFields();
  values.threshold.value = alert.threshold === null ? "" : formatPrice(alert.threshold, alert.threshold, alert.symbol);
  values.percent.value = alert.percent ?? "";
  if (alert.rule === "change") values.direction.value = alert.direction;
  if (alert.window !== null) chooseDuration(values.window, alert.window);
  if (INDICATOR_RULES.includes(alert.rule)) {
    values.side.value = alert.direction;
    values.timeframe.value = alert.timeframe;
    values.period.value = alert.period;
    if (alert.rule === "cross") values.indicator.value = alert.indicator;
  }
  values.level.value = alert.level ?? "";
  if (SIDED_RULES.includes(alert.rule)) values.position_side.value = alert.direction;
  values.at.value = alert.at ?? "";
  values.pnl.value = alert.rule === "pnl" ? alert.percent : "";
  if (alert.cooldown !== null) chooseDuration(values.cooldown, alert.cooldown);
  values.expires_at.value = alert.expires_at ? localInput(alert.expires_at) : "";
  values.note.value = alert.note;
  const chosen = new Set(alert.channels.map((c) => String(c.id)));
  channelBoxes.querySelectorAll("input").forEach((box) => (box.checked = chosen.has(box.value)));
  document.getElementById("alert-editing-text").textContent = `Editing ${alertText(alert)}`;
  editingBox.hidden = false;
  submitButton.textContent = "Save changes";
  updatePreview();
  form.scrollIntoView({ block: "center" });
  ({ change: values.percent, cross: values.period, rsi: values.level }[alert.rule] ?? values.threshold).focus();
}

function endEdit() {
  editing = null;
  symbolSelect.disabled = false;
  editingBox.hidden = true;
  submitButton.textContent = "Add alert";
}

document.getElementById("alert-edit-cancel").addEventListener("click", () => {
  const was = editing;
  endEdit();
  clearErrors();
  activeList.querySelector(`li[data-id="${was?.id}"] button.edit`)?.focus();
});

// The option of a duration select (values like 15m, 4h) that is `seconds` long; one made for it
// (in seconds, which the API takes too) when the alert was made with another duration.
const UNIT = { s: 1, m: 60, h: 3600, d: 86_400 };
function chooseDuration(select, seconds) {
  const seconded = (value) => {
    const match = /^(\d+)([smhd])?$/.exec(value);
    return match ? Number(match[1]) * UNIT[match[2] ?? "s"] : null;
  };
  let option = [...select.options].find((o) => seconded(o.value) === seconds);
  if (!option) {
    const [size, unit] = [[86_400, "d"], [3600, "h"], [60, "min"], [1, "s"]].find(([n]) => seconds % n === 0);
    option = element("option", "", `${seconds / size} ${unit}`);
    option.value = String(seconds);
    select.append(option);
  }
  select.value = option.value;
}

// A time for <input type=datetime-local>: the viewer's local time, to the minute.
function localInput(iso) {
  const at = new Date(iso);
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

// The alert moved on the chart (a line dragged to `level`, in the symbol's words): saved as an edit.
export async function moveAlert(id, level) {
  const alert = await api.editAlert(id, { threshold: level });
  upsertActive(alert);
  return alertText(alert);
}

export function alertCancelled(alert) {
  applyEvent(() => {
    if (activeList.querySelector(`li[data-id="${alert.id}"]`)?.dataset.deleting !== "true") removeActive(alert.id);
  });
}

// The reference beside a fire's price: where a change rule measured from, the average a cross
// crossed, the RSI an RSI rule reached.
function referenceText(alert, value, price) {
  if (value === null) return "";
  if (alert.rule === "cross") return ` (${alert.indicator.toUpperCase()}(${alert.period}) ${price(value)})`;
  if (alert.rule === "rsi") return ` (RSI(${alert.period}) ${value.toFixed(1)})`;
  if (alert.rule === "value") return ` (worth ${value.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })})`;
  if (alert.rule === "pnl") return ` (P&L ${value > 0 ? "+" : ""}${value.toFixed(2)} %)`;
  return ` (from ${price(value)})`;
}

function eventItem(alert, event) {
  const li = element("li");
  const price = (value) => formatPrice(value, value, alert.symbol);
  const reference = referenceText(alert, event.reference_price, price);
  const what = event.kind === "expired" ? "expired"
    : alert.symbol === null ? reached({ ...alert, triggered_price: event.price })
      : `${price(event.price)}${reference}`;
  li.append(element("span", "alert-text", `${formatDateTime(event.fired_at)}: ${what}`));
  if (event.detail) li.append(element("span", "meta summary", event.detail)); // a summary, as it was sent
  const deliveries = event.deliveries.map((d) => {
    const error = d.status !== "sent" && d.last_error ? `: ${d.last_error}` : "";
    return `${d.channel} ${deliveryState(d)}${d.status === "sent" && d.attempts > 1 ? ` (${d.attempts} attempts)` : ""}${error}`;
  });
  li.append(element("span", "meta", deliveries.length ? deliveries.join(" · ") : "this page only"));
  return li;
}

async function openEvents(alert, opener) {
  eventsTitle.textContent = `History: ${alertText(alert)}`;
  eventsStatus.textContent = "Loading…";
  eventsList.replaceChildren();
  eventsDialog.returnFocus = opener;
  eventsDialog.showModal();
  try {
    const { events } = await api.alertEvents(alert.id);
    eventsList.replaceChildren(...events.map((event) => eventItem(alert, event)));
    const fires = events.filter((e) => e.kind !== "expired").length;
    eventsStatus.textContent = fires ? `Fired ${fires} time${fires === 1 ? "" : "s"}.` : "Not fired yet.";
  } catch (error) {
    eventsStatus.textContent = `Could not load the history: ${error.message}`;
  }
}

document.getElementById("events-close").addEventListener("click", () => eventsDialog.close());
eventsDialog.addEventListener("click", (event) => {
  if (event.target === eventsDialog) eventsDialog.close();
});
eventsDialog.addEventListener("close", () => eventsDialog.returnFocus?.focus());

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  const { body, errors } = readForm();
  if (Object.keys(errors).length) {
    Object.entries(errors).forEach(([field, message]) => fieldError(field, message));
    input(Object.keys(errors)[0]).focus();
    return;
  }
  const submit = submitButton;
  submit.disabled = true;
  const cleared = ["threshold", "percent", "period", "level", "note", "expires_at"];
  const sent = Object.fromEntries(cleared.map((field) => [field, form.elements[field].value]));
  try {
    if (editing) {
      const { symbol, ...change } = body; // the symbol stays; an emptied note or expiry is cleared
      const edited = await api.editAlert(editing.id, { note: "", expires_at: null, ...change });
      upsertActive(edited);
      endEdit();
      for (const field of cleared) form.elements[field].value = "";
      updatePreview();
      activeList.querySelector(`li[data-id="${edited.id}"] button.edit`)?.focus();
      return;
    }
    upsertActive(await api.createAlert(body));
    // Emptied for the next alert, unless typed into meanwhile (the socket may show the new alert
    // before this answer: what was typed since is the next alert's, not to be wiped).
    for (const field of cleared) if (form.elements[field].value === sent[field]) form.elements[field].value = "";
    updatePreview();
  } catch (error) {
    showError(error);
  } finally {
    submit.disabled = false;
  }
});

function banner(alert, away = "") {
  const note = alert.note ? ` “${alert.note}”` : "";
  if (alert.symbol === null) return notice(`Alert: ${alertText(alert)}: ${reached(alert)}${note}${away}`);
  const price = formatPrice(alert.triggered_price, alert.triggered_price, alert.symbol);
  return notice(`Alert: ${alert.symbol} hit ${price} (${condition(alert)})${note}${away}`);
}

// A fired alert from /ws: a one-time alert leaves the active list; every fire is announced.
function showFired(alert) {
  if (alert.status !== "active") activeList.querySelector(`li[data-id="${alert.id}"]`)?.remove();
  triggeredList.querySelector(`li[data-id="${alert.id}"]`)?.remove();
  triggeredList.prepend(triggeredItem(alert));
  while (triggeredList.children.length > RECENT_TRIGGERED) triggeredList.lastElementChild.remove();
  syncEmpty();
}

// Fires are announced once each, by event id, whichever way they came: the socket, or the
// catch-up after a reconnect (/api/alerts/fired), which brings what the socket could not.
const announced = new Set();
let lastEventId = null; // the newest fire the server had when last asked; null: not asked yet

export function alertsFired(alerts) {
  alerts.filter((alert) => firstTime(alert.event_id)).forEach((alert) => announce(alert));
  loadAlerts().catch(() => {}); // once for the lot: channels and delivery statuses come with the list
}

function firstTime(eventId) {
  if (eventId === undefined) return true; // a server before event ids
  if (announced.has(eventId)) return false;
  announced.add(eventId);
  return true;
}

// On every (re)connect: the fires after the newest one known, announced as missed. The first
// load only learns where to start: what fired before the page opened is in the Triggered list.
export async function catchUpFires() {
  const after = lastEventId;
  const answer = await api.firedAfter(after);
  if (after !== null) {
    for (const fire of answer.fired.filter((f) => firstTime(f.event_id))) {
      const at = formatTime(fire.fired_at);
      announce({ ...fire.alert, triggered_price: fire.price }, ` at ${at}, while this page was offline`);
    }
    if (answer.more) notice("More alerts fired while this page was offline than are shown here: see Triggered.");
  }
  lastEventId = Math.max(lastEventId ?? 0, answer.last_event_id);
  announced.forEach((id) => id <= (after ?? 0) && announced.delete(id)); // neither way brings these again
}

// The lists; the banner, sound and notification only once per fire.
function announce(alert, away = "") {
  applyEvent(() => showFired(alert));
  const message = banner(alert, away);
  if (document.hidden) document.title = `🔔 ${alert.symbol ?? "Portfolio"} alert – ${PAGE_TITLE}`; // until the page is seen
  if (soundBox.checked) chime();
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification("Stock Ticker alert", { body: message, tag: `alert-${alert.id}-${alert.fire_count}` });
  }
}

// An alert past its expiry leaves the active list for Expired, and is said once.
export function alertExpired(alert) {
  applyEvent(() => {
    removeActive(alert.id);
    expiredList.querySelector(`li[data-id="${alert.id}"]`)?.remove();
    expiredList.prepend(expiredItem(alert));
    while (expiredList.children.length > RECENT_EXPIRED) expiredList.lastElementChild.remove();
    syncEmpty();
  });
  notice(`Alert expired: ${alertText(alert)}${alert.fire_count ? "" : ", it never fired"}.`);
}

// What will happen, before saving: a threshold the price is already past fires on the next tick.
const preview = document.getElementById("alert-preview");
let priceOf = () => null;

export function onPriceLookup(lookup) {
  priceOf = lookup;
}

export function updatePreview() {
  const rule = form.elements.rule.value;
  const threshold = Number(readNumber(form.elements.threshold.value));
  const price = priceOf(symbolSelect.value);
  let text = "";
  if ((rule === "above" || rule === "below") && threshold > 0 && price !== null) {
    const holds = rule === "above" ? price >= threshold : price <= threshold;
    if (holds) {
      const [said, now] = [threshold, price].map((value) => formatPrice(value, value, symbolSelect.value));
      text = `${symbolSelect.value} is already ${rule} ${said} (now ${now}): ` +
        "this alert fires on the next price.";
    }
  }
  preview.textContent = text;
  preview.hidden = !text;
}
for (const field of ["rule", "threshold", "symbol"]) form.elements[field].addEventListener("input", updatePreview);

const PAGE_TITLE = document.title;
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) document.title = PAGE_TITLE;
});

// Optional sound: two short tones made by the browser (no audio file), remembered per browser.
const soundBox = document.getElementById("alert-sound");
soundBox.checked = localStorage.getItem("stockticker.sound") === "on";
soundBox.addEventListener("change", () => localStorage.setItem("stockticker.sound", soundBox.checked ? "on" : "off"));

function chime() {
  try {
    const audio = new AudioContext();
    [0, 0.2].forEach((start) => {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime + start);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + 0.15);
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + start);
      tone.stop(audio.currentTime + start + 0.16);
    });
  } catch {
    // no audio device: the banner and the title still say it
  }
}

if ("Notification" in window && Notification.permission === "default") {
  notifyButton.hidden = false;
  notifyButton.addEventListener("click", async () => {
    await Notification.requestPermission();
    notifyButton.hidden = Notification.permission !== "default";
  });
}
