// The price source's state. While it rests after throttling (Yahoo's 429s), the page says so
// with a countdown, so that unchanged prices are not mistaken for a quiet market.

import { sourceName } from "../core/format.js";
import { secondsUntil } from "./freshness.js";

const box = document.getElementById("source-state");
let resting = null;

// `state` as /api/prices/latest and the socket give it: {source, state: "ok" | "rate_limited", until, reason}.
export function setSourceState(state) {
  resting = state?.state === "rate_limited" ? state : null;
  refreshSourceState();
}

// Every second: the countdown; at zero it says the source is being asked again.
export function refreshSourceState() {
  box.hidden = resting === null;
  if (resting === null) return;
  const name = sourceName(resting.source);
  const left = secondsUntil(resting.until);
  box.dataset.state = resting.state;
  const meanwhile = resting.stand_in
    ? `Crypto prices come from ${sourceName(resting.stand_in)} meanwhile; the others stay as last received.`
    : "Prices stay as last received until then.";
  box.textContent =
    left > 0 ? `${name} is rate limiting us: retrying in ${left} s. ${meanwhile}` : `${name} is rate limiting us: retrying now.`;
  box.title = resting.reason;
}
