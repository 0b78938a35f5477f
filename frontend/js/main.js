// Wires the page: REST for the first picture and every catch-up, /ws for live updates.

import { api } from "./api.js";
import { alertExpired, alertFired, loadAlerts, setChannels, setSymbols } from "./alerts.js";
import { ensureCards, onCardSelected, setLive, showPrice } from "./cards.js";
import { loadChannels, onChannelsChanged } from "./channels.js";
import { addLivePoint, openChart } from "./chart.js";
import { connect } from "./socket.js";

async function catchUp() {
  const [symbols, latest] = await Promise.all([api.symbols(), api.latest()]);
  ensureCards(symbols);
  setSymbols(symbols);
  latest.forEach((tick) => showPrice(tick, tick.previous_price));
  await Promise.all([loadAlerts(), loadChannels()]);
}

function onMessage(message) {
  if (message.type === "price") {
    showPrice(message);
    addLivePoint(message);
  } else if (message.type === "alert") {
    alertFired(message.alert);
  } else if (message.type === "alert_expired") {
    alertExpired(message.alert);
  }
}

onCardSelected(openChart);
onChannelsChanged(setChannels);
connect({
  onMessage,
  onOpen: () => {
    setLive(true);
    catchUp().catch((error) => console.error("catch-up failed", error));
  },
  onDown: () => setLive(false),
});
