// The REST API. Errors come back as {error, field}; they surface as ApiError.

export class ApiError extends Error {
  constructor(status, message, field, retryAfter = null) {
    super(message);
    this.status = status;
    this.field = field;
    this.retryAfter = retryAfter; // seconds, when the server said (429, 503)
  }
}

// The session's CSRF token: every write of a signed-in page sends it (X-CSRFToken).
let csrfToken = null;
let csrfKnown = false; // asked for: null then means the login is off and no token is needed

export function setCsrfToken(token) {
  csrfToken = token;
  csrfKnown = true;
}

// A write made before the page's session arrived (a quick click after load) fetches the token
// first; a token gone stale (a server restart) is fetched again and the write tried once more.
async function loadCsrfToken() {
  setCsrfToken((await request("GET", "/api/session")).csrf_token || null);
}

// `type`: the body's media type; JSON unless said (a CSV import sends its text as it is).
async function request(method, path, body, retried = false, type = "application/json") {
  if (method !== "GET" && !csrfKnown && path !== "/api/login") await loadCsrfToken();
  const options = { method, headers: { Accept: "application/json" } };
  if (csrfToken && method !== "GET") options.headers["X-CSRFToken"] = csrfToken;
  if (body !== undefined) {
    options.headers["Content-Type"] = type;
    options.body = type === "application/json" ? JSON.stringify(body) : body;
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError(0, "The server did not answer. Check that it is running and your connection, then retry.", null);
  }
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== "/api/login") {
    window.location.assign("/login"); // signed out (or the session expired): back to the sign-in page
  }
  if (response.status === 403 && data.field === "X-CSRFToken" && !retried) {
    await loadCsrfToken();
    return request(method, path, body, true, type);
  }
  if (!response.ok) {
    const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
    throw new ApiError(response.status, data.error || `request failed (${response.status})`, data.field || null,
      Number.isFinite(retryAfter) ? retryAfter : null);
  }
  return data;
}

export const api = {
  symbols: () => request("GET", "/api/symbols"), // {symbols: every watched one, watchlists}
  searchSymbols: (q, limit = 8) => request("GET", `/api/symbols/search?q=${encodeURIComponent(q)}&limit=${limit}`).then((d) => d.results),
  addToList: (listId, symbol) => request("POST", `/api/watchlists/${listId}/symbols`, { symbol }).then((d) => d.symbol),
  removeFromList: (listId, symbol) => request("DELETE", `/api/watchlists/${listId}/symbols/${encodeURIComponent(symbol)}`),
  createList: (name) => request("POST", "/api/watchlists", { name }).then((d) => d.watchlist),
  changeList: (listId, change) => request("PATCH", `/api/watchlists/${listId}`, change).then((d) => d.watchlist),
  deleteList: (listId) => request("DELETE", `/api/watchlists/${listId}`),
  latest: () => request("GET", "/api/prices/latest"),
  history: (symbol) => request("GET", `/history/${encodeURIComponent(symbol)}`).then((d) => d.points),
  historyRange: (symbol, range, maxPoints, indicators = "") =>
    request(
      "GET",
      `/api/history/${encodeURIComponent(symbol)}?range=${range}&max_points=${maxPoints}${indicators ? `&indicators=${indicators}` : ""}`,
    ),
  sparklines: () => request("GET", "/api/sparklines"),
  context: () => request("GET", "/api/context"),
  alerts: (status) => request("GET", `/api/alerts?status=${status}`).then((d) => d.alerts),
  createAlert: (alert) => request("POST", "/api/alerts", alert).then((d) => d.alert),
  deleteAlert: (id) => request("DELETE", `/api/alerts/${id}`).then((d) => d.alert),
  editAlert: (id, change) => request("PATCH", `/api/alerts/${id}`, change).then((d) => d.alert),
  pauseAlert: (id) => request("POST", `/api/alerts/${id}/pause`).then((d) => d.alert),
  snoozeAlert: (id, duration) => request("POST", `/api/alerts/${id}/snooze`, { for: duration }).then((d) => d.alert),
  resumeAlert: (id) => request("POST", `/api/alerts/${id}/resume`).then((d) => d.alert),
  restoreAlert: (id) => request("POST", `/api/alerts/${id}/restore`).then((d) => d.alert),
  alertEvents: (id) => request("GET", `/api/alerts/${id}/events`),
  firedAfter: (eventId) =>
    request("GET", eventId === null ? "/api/alerts/fired?limit=1" : `/api/alerts/fired?after=${eventId}`),
  channels: () => request("GET", "/api/channels").then((d) => d.channels),
  createChannel: (channel) => request("POST", "/api/channels", channel).then((d) => d.channel),
  deleteChannel: (id) => request("DELETE", `/api/channels/${id}`).then((d) => d.channel),
  testChannel: (id) => request("POST", `/api/channels/${id}/test`),
  portfolio: () => request("GET", "/api/portfolio"),
  portfolioHistory: (range) => request("GET", `/api/portfolio/history?range=${range}`),
  transactions: () => request("GET", "/api/transactions").then((d) => d.transactions),
  addTransaction: (trade) => request("POST", "/api/transactions", trade).then((d) => d.transaction),
  deleteTransaction: (id) => request("DELETE", `/api/transactions/${id}`).then((d) => d.transaction),
  importTransactions: (csv) => request("POST", "/api/transactions/import", csv, false, "text/csv").then((d) => d.imported),
  session: () => request("GET", "/api/session"),
  login: (username, password) => request("POST", "/api/login", { username, password }),
  logout: () => request("POST", "/api/logout"),
  tokens: () => request("GET", "/api/tokens").then((d) => d.tokens),
  createToken: (name) => request("POST", "/api/tokens", { name }),
  revokeToken: (id) => request("DELETE", `/api/tokens/${id}`),
};
