// Editing the chosen watchlist (lists.js): the add box (its answer shown beside it), and the
// cards' move, remove and drag. The server's answer is what the page shows; other browser tabs
// hear of it on the socket.

import { api } from "../core/api.js";
import { cardOrder, focusCardTool, onDragReorder, onWatchlistEdit } from "./cards.js";
import { activeList, listCount, startListEditing } from "./lists.js";
import { showMessage } from "../core/dom.js";
import { offerUndo } from "../core/undo.js";
import { spoken } from "../core/forms.js";

const form = document.getElementById("add-symbol");
const input = document.getElementById("new-symbol");
const answer = document.getElementById("add-symbol-answer");
let load = async () => {};
const REMOVE_TOOL = 2; // a card's tools: move earlier, move later, remove

function say(message, ok) {
  answer.dataset.ok = String(ok);
  showMessage(answer, message);
}

async function add(event) {
  event.preventDefault();
  const symbol = input.value.trim();
  if (!symbol) {
    say("Type a symbol first, e.g. AAPL, ^GSPC or EURUSD=X.", false);
    input.focus();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  say(`Checking ${symbol.toUpperCase()} with the price source…`, true);
  try {
    const list = activeList();
    const added = await api.addToList(list.id, symbol);
    const where = listCount() > 1 ? ` to ${list.name}` : "";
    say(`Added ${added.symbol}${added.name ? ` (${added.name})` : ""}${where}.`, true);
    input.value = "";
    await load(api.symbols());
  } catch (failure) {
    say(spoken(failure.message, failure.field), false); // the input keeps what was typed, to fix it
    input.select();
  } finally {
    button.disabled = false;
  }
}

async function reorder(order, focus) {
  try {
    await api.changeList(activeList().id, { order });
    await load(api.symbols());
    focus?.();
  } catch (failure) {
    say(failure.message, false);
    await load(api.symbols()).catch(() => {}); // the server's order back on the cards, if it answers
  }
}

function move(symbol, step) {
  const order = cardOrder();
  const from = order.indexOf(symbol);
  const to = from + step;
  if (from < 0 || to < 0 || to >= order.length) return;
  [order[from], order[to]] = [order[to], order[from]];
  reorder(order, () => focusCardTool(symbol, step < 0 ? 0 : 1)); // the key pressed again moves it further
}

async function remove(symbol) {
  const order = cardOrder();
  const at = order.indexOf(symbol);
  const neighbour = order[at + 1] ?? order[at - 1]; // where a keyboard user's focus goes next
  try {
    const list = activeList();
    const { watched } = await api.removeFromList(list.id, symbol);
    const from = listCount() > 1 ? ` from ${list.name}` : "";
    say(
      watched
        ? `Removed ${symbol}${from}; it is still on another list.`
        : `Removed ${symbol}${from}; its history and alerts are kept. Add it again to resume.`,
      true,
    );
    await load(api.symbols());
    if (neighbour) focusCardTool(neighbour, REMOVE_TOOL);
    else input.focus(); // the last card went: the add box is what is left to use
    offerUndo(`Removed ${symbol}${from}.`, () => putBack(list, symbol, order));
  } catch (failure) {
    say(failure.message, false);
  }
}

// Undo of a removed card: the symbol on its list again, in the place it had.
async function putBack(list, symbol, order) {
  await api.addToList(list.id, symbol);
  const now = (await api.symbols()).watchlists.find((w) => w.id === list.id)?.symbols ?? [];
  const wanted = order.filter((s) => now.includes(s));
  const kept = [...wanted, ...now.filter((s) => !wanted.includes(s))]; // added meanwhile elsewhere: at the end
  await api.changeList(list.id, { order: kept });
  await load(api.symbols());
  return `${symbol} is back on ${list.name}.`;
}

// `loadWatchlist(request)` draws the watchlist a request answers (cards, alert form), unless a
// newer one came meanwhile; called after every edit.
export function startWatchlistEditing(loadWatchlist) {
  load = loadWatchlist;
  startListEditing(loadWatchlist);
  form.addEventListener("submit", add);
  onWatchlistEdit({ move, remove });
  onDragReorder((order) => reorder(order));
}
