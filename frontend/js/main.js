// Wires the page: REST for the first picture and every catch-up, /ws for live updates.

import { api } from "./api.js";
import { alertFired, loadAlerts, setSymbols } from "./alerts.js";
import { ensureCards, onCardSelected, setLive, showPrice } from "./cards.js";
import { addLivePoint, openChart } from "./chart.js";
import { connect } from "./socket.js";

async function catchUp() {
  const [symbols, latest] = await Promise.all([api.symbols(), api.latest()]);
  ensureCards(symbols);
  setSymbols(symbols);
  latest.forEach((tick) => showPrice(tick, tick.previous_price));
  await loadAlerts();
}

function onMessage(message) {
  if (message.type === "price") {
    showPrice(message);
    addLivePoint(message);
  } else if (message.type === "alert") {
    alertFired(message.alert);
  }
}

onCardSelected(openChart);
connect({
  onMessage,
  onOpen: () => {
    setLive(true);
    catchUp().catch((error) => console.error("catch-up failed", error));
  },
  onDown: () => setLive(false),
});
