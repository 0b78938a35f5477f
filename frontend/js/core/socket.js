// The /ws connection: reconnects with capped, jittered backoff, counts down live, offers
// "retry now", and says what state it is in (live, delayed, reconnecting, offline).

const label = document.getElementById("connection");
const retryButton = document.getElementById("retry-now");
// Capped low so the page is back within 2 s of the server (1.6 s + 20 % jitter at most).
const MAX_DELAY_MS = 1600;
const FIRST_DELAY_MS = 400;
let connected = false;
let delayed = false;
let openSocket = null; // the socket that is open now, for what the page says to the server

// Sends a text on the open socket; false while there is none (it is said again on the next open).
export function send(text) {
  if (openSocket?.readyState !== WebSocket.OPEN) return false;
  openSocket.send(text);
  return true;
}

function setState(state, text) {
  label.dataset.state = state;
  label.textContent = text;
  retryButton.hidden = state !== "reconnecting";
}

function showConnected() {
  if (delayed) setState("delayed", "delayed: no new prices");
  else setState("connected", "live");
}

// Connected but every price is stale (a stalled pipeline): "delayed", not "live".
export function setDelayed(value) {
  delayed = value;
  if (connected) showConnected();
}

// onMessage gets each parsed message; onOpen runs on every (re)connect, to catch up.
export function connect({ onMessage, onOpen, onDown }) {
  let attempt = 0;
  let timer = null;
  let countdown = null;
  let socket = null;

  function stopTimers() {
    clearTimeout(timer);
    clearInterval(countdown);
  }

  function open() {
    stopTimers();
    if (!navigator.onLine) {
      setState("offline", "offline");
      return;
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(); // "retry now" while one is pending
    const current = new WebSocket(`${scheme}://${location.host}/ws`);
    socket = current;
    // Events of a socket that has since been replaced are stale: they must not change the state
    // or schedule another attempt (that would open a second socket beside the live one).
    current.addEventListener("open", () => {
      if (socket !== current) return;
      attempt = 0;
      connected = true;
      openSocket = current;
      showConnected();
      onOpen();
    });
    current.addEventListener("message", (event) => {
      if (socket === current) onMessage(JSON.parse(event.data));
    });
    current.addEventListener("close", () => {
      if (socket !== current) return;
      connected = false;
      openSocket = null;
      onDown();
      if (!navigator.onLine) {
        setState("offline", "offline");
        return;
      }
      const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt) * (0.8 + Math.random() * 0.4);
      attempt += 1;
      const due = Date.now() + delay;
      const tick = () => setState("reconnecting", `reconnecting in ${Math.max(0, Math.ceil((due - Date.now()) / 1000))} s…`);
      tick();
      countdown = setInterval(tick, 250);
      timer = setTimeout(open, delay);
    });
  }

  retryButton.addEventListener("click", () => {
    attempt = 0;
    open();
  });
  window.addEventListener("offline", () => {
    setState("offline", "offline");
    socket?.close();
  });
  window.addEventListener("online", () => {
    attempt = 0;
    open();
  });
  open();
}
