// The named watchlists as tabs (the ARIA tabs pattern: arrows, Home and End move between them).
// The chosen tab is remembered; the cards and the table show its symbols in its order. New,
// Rename and Delete act on the chosen tab; the server's answer is what the tabs show.

import { api } from "../core/api.js";
import { element, showMessage } from "../core/dom.js";
import { spoken } from "../core/forms.js";

const STORE = "watchlist-tab";
const strip = document.getElementById("watchlist-tabs");
const nameForm = document.getElementById("watchlist-name-form");
const nameInput = document.getElementById("watchlist-name");
const nameLabel = document.getElementById("watchlist-name-label");
const confirmBox = document.getElementById("watchlist-delete-confirm");
const answer = document.getElementById("watchlist-answer");
const emptyList = document.getElementById("empty-list");
let lists = [];
let chosenId = Number(localStorage.getItem(STORE)) || null;
let naming = null; // "new" or "rename" while the name form is open
let chosen = () => {};
let load = async () => {};

export function onListChosen(handler) {
  chosen = handler;
}

// The chosen list ({id, name, symbols}), or the first when the remembered one is gone.
export function activeList() {
  return lists.find((l) => l.id === chosenId) ?? lists[0] ?? null;
}

export function listCount() {
  return lists.length;
}

export function setLists(watchlists) {
  lists = watchlists;
  const active = activeList();
  strip.replaceChildren(
    ...lists.map((l) => {
      const tab = element("button", "watchlist-tab", l.name);
      tab.type = "button";
      tab.id = `watchlist-tab-${l.id}`;
      tab.dataset.list = String(l.id);
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-selected", String(l === active));
      tab.setAttribute("aria-controls", "cards");
      tab.tabIndex = l === active ? 0 : -1;
      tab.append(element("span", "watchlist-count", ` ${l.symbols.length}`));
      return tab;
    }),
  );
  document.getElementById("delete-watchlist").disabled = lists.length < 2; // the last list stays
  emptyList.hidden = !active || active.symbols.length > 0;
  if (active) emptyList.textContent = `No symbols on ${active.name} yet: add one above.`;
}

function choose(id, focus = false) {
  chosenId = id;
  localStorage.setItem(STORE, String(id));
  closeForms();
  chosen();
  if (focus) document.getElementById(`watchlist-tab-${id}`)?.focus();
}

strip.addEventListener("click", (event) => {
  const tab = event.target.closest("[role=tab]");
  if (tab) choose(Number(tab.dataset.list));
});

strip.addEventListener("keydown", (event) => {
  const at = lists.indexOf(activeList());
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: lists.length - 1 }[event.key];
  if (to === undefined || lists.length === 0) return;
  event.preventDefault();
  choose(lists[(to + lists.length) % lists.length].id, true);
});

function say(message, ok) {
  answer.dataset.ok = String(ok);
  showMessage(answer, message);
}

function closeForms() {
  nameForm.hidden = true;
  confirmBox.hidden = true;
  naming = null;
}

function openNameForm(kind) {
  closeForms();
  naming = kind;
  nameLabel.textContent = kind === "new" ? "New list's name" : `New name for ${activeList().name}`;
  nameInput.value = kind === "new" ? "" : activeList().name;
  nameForm.hidden = false;
  nameInput.focus();
  nameInput.select();
}

nameForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = nameInput.value.trim();
  const kind = naming;
  try {
    if (kind === "new") {
      const made = await api.createList(name);
      chosenId = made.id;
      localStorage.setItem(STORE, String(made.id));
      say(`Made ${made.name}: add symbols to it above.`, true);
    } else {
      const renamed = await api.changeList(activeList().id, { name });
      say(`Renamed to ${renamed.name}.`, true);
    }
    closeForms();
    await load(api.symbols());
    document.getElementById(`watchlist-tab-${chosenId}`)?.focus();
  } catch (failure) {
    say(spoken(failure.message, failure.field), false); // the name stays, to fix it
    nameInput.focus();
  }
});

document.getElementById("watchlist-name-cancel").addEventListener("click", closeForms);
document.getElementById("new-watchlist").addEventListener("click", () => openNameForm("new"));
document.getElementById("rename-watchlist").addEventListener("click", () => openNameForm("rename"));

document.getElementById("delete-watchlist").addEventListener("click", () => {
  const list = activeList();
  closeForms();
  document.getElementById("watchlist-delete-question").textContent =
    `Delete ${list.name}? Its symbols on no other list stop being fetched (their history and alerts are kept).`;
  confirmBox.hidden = false;
  document.getElementById("watchlist-delete-keep").focus();
});

document.getElementById("watchlist-delete-keep").addEventListener("click", closeForms);

document.getElementById("watchlist-delete-yes").addEventListener("click", async () => {
  const list = activeList();
  try {
    const { unwatched } = await api.deleteList(list.id);
    closeForms();
    chosenId = null;
    localStorage.removeItem(STORE);
    say(
      unwatched.length
        ? `Deleted ${list.name}; no longer fetched: ${unwatched.join(", ")} (history and alerts kept).`
        : `Deleted ${list.name}; its symbols are on other lists.`,
      true,
    );
    await load(api.symbols());
    strip.querySelector("[aria-selected=true]")?.focus();
  } catch (failure) {
    say(failure.message, false);
  }
});

// `loadWatchlist(request)` draws what a request answers (see watchlist.js).
export function startListEditing(loadWatchlist) {
  load = loadWatchlist;
}
