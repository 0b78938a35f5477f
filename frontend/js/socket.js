// The /ws connection: reconnects with exponential backoff and says what state it is in.

const label = document.getElementById("connection");
const MAX_DELAY_MS = 30000;

function setState(state, text) {
  label.dataset.state = state;
  label.textContent = text;
}

// onMessage gets each parsed message; onOpen runs on every (re)connect, to catch up.
export function connect({ onMessage, onOpen, onDown }) {
  let attempt = 0;
  let timer = null;
  let socket = null;

  function open() {
    clearTimeout(timer);
    if (!navigator.onLine) {
      setState("offline", "offline");
      return;
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws`);
    socket.addEventListener("open", () => {
      attempt = 0;
      setState("connected", "live");
      onOpen();
    });
    socket.addEventListener("message", (event) => onMessage(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      onDown();
      if (!navigator.onLine) {
        setState("offline", "offline");
        return;
      }
      const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** attempt) * (0.8 + Math.random() * 0.4);
      attempt += 1;
      setState("reconnecting", `reconnecting in ${Math.ceil(delay / 1000)} s…`);
      timer = setTimeout(open, delay);
    });
  }

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
