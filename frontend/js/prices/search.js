// Suggestions under the add box: typing "apple" or "bitcoin" lists the symbols the price source
// finds (GET /api/symbols/search), best first. The ARIA combobox pattern: arrows move through
// them, Enter or a click adds the one chosen (through the add box's own form: the same checks
// and refusals), Escape closes them. Only the newest answer is shown.

import { api } from "../core/api.js";
import { element } from "../core/dom.js";

const form = document.getElementById("add-symbol");
const input = document.getElementById("new-symbol");
const list = document.getElementById("symbol-suggestions");
const WAIT_MS = 250; // after the last key: one request per pause, not per key
const MIN_LENGTH = 2;
let timer = null;
let asked = 0; // the newest request's number: older answers are dropped
let matches = [];
let active = -1;

function close() {
  list.hidden = true;
  list.replaceChildren();
  matches = [];
  active = -1;
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
}

function highlight(index) {
  active = index;
  [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
  if (index >= 0) {
    input.setAttribute("aria-activedescendant", list.children[index].id);
    list.children[index].scrollIntoView({ block: "nearest" });
  } else input.removeAttribute("aria-activedescendant");
}

function choose(index) {
  const match = matches[index];
  if (!match) return;
  input.value = match.symbol;
  close();
  form.requestSubmit(); // the add box's own path: checked, added or refused as when typed
}

function show(found) {
  matches = found;
  active = -1;
  list.replaceChildren(
    ...found.map((match, index) => {
      const li = element("li", "suggestion");
      li.id = `symbol-suggestion-${index}`;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.symbol = match.symbol;
      const about = [match.name, match.exchange].filter(Boolean).join(" · ");
      li.append(element("span", "suggestion-symbol", match.symbol), element("span", "suggestion-name", about));
      if (match.watched) li.append(element("span", "suggestion-watched", "watched"));
      li.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus in the box
      li.addEventListener("click", () => choose(index));
      return li;
    }),
  );
  if (!found.length) list.append(element("li", "suggestion-none", "No symbol found; type the symbol itself to add it."));
  list.hidden = false;
  input.setAttribute("aria-expanded", "true");
}

async function ask(text) {
  const mine = ++asked;
  try {
    const found = await api.searchSymbols(text);
    if (mine === asked && input.value.trim() === text) show(found);
  } catch {
    if (mine === asked) close(); // no suggestions: typing the symbol still works
  }
}

input.addEventListener("input", () => {
  clearTimeout(timer);
  const text = input.value.trim();
  if (text.length < MIN_LENGTH) {
    asked += 1;
    close();
    return;
  }
  timer = setTimeout(() => ask(text), WAIT_MS);
});

input.addEventListener("keydown", (event) => {
  if (list.hidden || !matches.length) return;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const next = active + (event.key === "ArrowDown" ? 1 : -1); // -1: back to what was typed
    highlight(next >= matches.length ? -1 : next < -1 ? matches.length - 1 : next);
  } else if (event.key === "Enter" && active >= 0) {
    event.preventDefault();
    choose(active);
  } else if (event.key === "Escape") {
    event.preventDefault();
    close();
  }
});

input.addEventListener("blur", close);
form.addEventListener("submit", () => {
  clearTimeout(timer);
  asked += 1;
  close();
});
