// Freshness from the data, not from the socket: a price older than a few fetch intervals is not
// live, whatever the connection says. Ages are measured on the server's clock (our clock plus
// the offset seen at the last catch-up), so a wrong clock on this machine does not mislead.

let offsetMs = 0;
let staleAfterMs = 6000;

export function setServerClock(serverTime, staleAfterSeconds) {
  offsetMs = Date.parse(serverTime) - Date.now();
  staleAfterMs = staleAfterSeconds * 1000;
}

export function staleAfterMsNow() {
  return staleAfterMs;
}

export function ageSeconds(iso) {
  return Math.max(0, Math.round((Date.now() + offsetMs - Date.parse(iso)) / 1000));
}

// Whole seconds from now (the server's clock) until an ISO time; 0 once it has passed.
export function secondsUntil(iso) {
  return Math.max(0, Math.round((Date.parse(iso) - Date.now() - offsetMs) / 1000));
}

// `laterMs`: how much later than every fetch this price comes (a symbol kept but not shown).
export function isStale(iso, laterMs = 0) {
  return ageSeconds(iso) * 1000 > staleAfterMs + laterMs;
}
