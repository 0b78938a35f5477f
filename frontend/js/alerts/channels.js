// Notification channels: the list (URLs come masked from the server), each one's health (failing
// since when, and why), add, test-send, delete (naming the alerts that use it first).
// The URL field is cleared once the server has it: the page never keeps a channel's secret.

import { api, ApiError } from "../core/api.js";
import { element } from "../core/dom.js";
import { formatDateTime } from "../core/format.js";
import { clearErrorsOnEdit, fieldError as showFieldError, showFailure } from "../core/forms.js";

const list = document.getElementById("channels");
const empty = document.getElementById("no-channels");
const form = document.getElementById("channel-form");
const formError = document.getElementById("channel-form-error");
const FIELDS = ["name", "url"];
let changed = () => {};

export function onChannelsChanged(handler) {
  changed = handler;
}

function fieldError(field, message) {
  showFieldError(form.elements[field], field, message);
}
clearErrorsOnEdit(form, FIELDS, (field) => fieldError(field, null));

function item(channel) {
  const li = element("li");
  li.dataset.id = channel.id;
  const text = element("span", "alert-text", `${channel.name} · ${channel.service}`);
  const meta = element("span", "meta", channel.url);
  const result = element("span", "meta test-result");
  result.setAttribute("role", "status");
  const actions = element("span", "actions");
  const test = element("button", "secondary", "Test");
  test.type = "button";
  test.setAttribute("aria-label", `Send a test message to ${channel.name}`);
  test.addEventListener("click", async () => {
    test.disabled = true;
    result.textContent = "sending…";
    try {
      const outcome = await api.testChannel(channel.id);
      result.textContent = outcome.sent ? "test message sent ✓" : `not sent: ${outcome.error}`;
      result.dataset.sent = String(outcome.sent);
    } catch (error) {
      result.textContent = `not sent: ${error.message}`;
      result.dataset.sent = "false";
    } finally {
      test.disabled = false;
    }
  });
  const remove = element("button", "danger", "Delete");
  remove.type = "button";
  remove.setAttribute("aria-label", `Delete channel ${channel.name}`);
  const deleteNow = async () => {
    remove.disabled = true;
    try {
      await api.deleteChannel(channel.id);
      await loadChannels();
    } catch (error) {
      remove.disabled = false;
      result.textContent = `could not delete: ${error.message}`;
    }
  };
  // A channel that alerts use is not deleted at the first click: the alerts it would leave are
  // named, as the server has them now (alerts come and go in other tabs and scripts).
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    try {
      const now = (await api.channels()).find((c) => c.id === channel.id);
      if (now?.alerts?.length) {
        remove.disabled = false;
        confirmDelete(li, now, deleteNow);
      } else await deleteNow();
    } catch (error) {
      remove.disabled = false;
      result.textContent = `could not delete: ${error.message}`;
    }
  });
  actions.append(test, remove);
  li.append(text, actions, meta);
  if (channel.failing_since) {
    li.dataset.failing = "true";
    li.append(element("span", "meta failing",
      `Failing since ${formatDateTime(channel.failing_since)}: ${channel.last_error}`));
  }
  li.append(result);
  return li;
}

function confirmDelete(li, channel, deleteNow) {
  li.querySelector(".channel-confirm")?.remove();
  const box = element("div", "channel-confirm");
  box.setAttribute("role", "group");
  const count = channel.alerts.length;
  const question = element("p", "", `${count} active alert${count === 1 ? " sends" : "s send"} to ${channel.name}; `
    + "deleting it stops their messages here:");
  question.id = `channel-confirm-${channel.id}`;
  box.setAttribute("aria-labelledby", question.id);
  const names = element("ul", "meta");
  names.append(...channel.alerts.map((a) => element("li", "", `#${a.id} ${a.symbol} ${a.condition}`)));
  const yes = element("button", "danger", `Delete ${channel.name}`);
  yes.type = "button";
  yes.addEventListener("click", () => {
    box.remove();
    deleteNow();
  });
  const no = element("button", "secondary", "Keep it");
  no.type = "button";
  no.addEventListener("click", () => {
    box.remove();
    li.querySelector("button.danger")?.focus();
  });
  box.append(question, names, yes, no);
  li.append(box);
  no.focus();
}

export async function loadChannels() {
  const channels = await api.channels();
  list.replaceChildren(...channels.map(item));
  empty.hidden = channels.length > 0;
  changed(channels);
  return channels;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  FIELDS.forEach((f) => fieldError(f, null));
  formError.hidden = true;
  const name = form.elements.name.value.trim();
  const url = form.elements.url.value.trim();
  if (!name || !url) {
    if (!name) fieldError("name", "Give the channel a name.");
    if (!url) fieldError("url", "Paste the channel's apprise URL.");
    form.elements[!name ? "name" : "url"].focus();
    return;
  }
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    await api.createChannel({ name, url });
    form.reset();
    await loadChannels();
  } catch (error) {
    if (error instanceof ApiError && FIELDS.includes(error.field)) {
      fieldError(error.field, error.message);
      form.elements[error.field].focus();
    } else {
      showFailure(formError, error, () => form.requestSubmit());
    }
  } finally {
    submit.disabled = false;
  }
});
