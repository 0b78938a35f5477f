// What this page shows, told to the server, so that it sends only that at every fetch: the cards
// and table rows in view (or within a screen of it), the open chart's symbols, and the symbols of
// the alert lists and the alert form. The rest of the watchlist comes every 10 s (newest prices
// only), enough for sorting, the 24 h figures and a card about to scroll into view.

import { send } from "../core/socket.js";

// A price of a symbol kept but not shown comes this much later than one shown: judge its age by it.
export const SLOW_MS = 10_000;

const near = new Set(); // cards and rows in view, or within a screen of it
let shownElsewhere = () => []; // the chart's, the alert lists' and the form's symbols
let watched = () => []; // every symbol the page keeps a price for
let live = new Set();
let sent = "";

const observer = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) near.add(entry.target);
      else near.delete(entry.target);
    }
    schedule();
  },
  { rootMargin: "100% 0px" },
);

// Cards and rows come and go with the watchlist: each is watched from the moment it exists.
function observeChildren(container) {
  [...container.children].forEach((el) => observer.observe(el));
  new MutationObserver((changes) => {
    for (const change of changes) {
      change.addedNodes.forEach((el) => el instanceof Element && observer.observe(el));
      change.removedNodes.forEach((el) => {
        if (!(el instanceof Element)) return;
        observer.unobserve(el);
        near.delete(el);
      });
    }
    schedule();
  }).observe(container, { childList: true });
}

let timer = null;
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(() => subscribe(false), 150);
}

// Sends the subscription when it changed (or always, on a new socket); true once sent.
export function subscribe(always) {
  const shown = new Set([...[...near].map((el) => el.dataset.symbol), ...shownElsewhere()].filter(Boolean));
  const keep = watched().filter((s) => !shown.has(s));
  const message = JSON.stringify({ type: "subscribe", live: [...shown].sort(), slow: keep.sort() });
  live = shown;
  if (!always && message === sent) return true;
  if (!send(message)) return false;
  sent = message;
  return true;
}

// Whether a symbol's prices come at every fetch (else every SLOW_MS).
export function isLive(symbol) {
  return live.has(symbol);
}

export function startSubscribing({ cards, rows, elsewhere, symbols }) {
  shownElsewhere = elsewhere;
  watched = symbols;
  observeChildren(cards);
  observeChildren(rows);
  setInterval(() => subscribe(false), 1000); // the chart opened, an alert made: whatever changed
}
