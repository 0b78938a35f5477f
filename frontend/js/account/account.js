// The signed-in user in the top bar, sign out, and the API tokens dialog (shown when the login is on).

import { api, setCsrfToken } from "../core/api.js";
import { element, showMessage } from "../core/dom.js";
import { formatDateTime } from "../core/format.js";
import { showFailure } from "../core/forms.js";

const account = document.getElementById("account");
const dialog = document.getElementById("tokens-modal");
const list = document.getElementById("tokens");
const empty = document.getElementById("no-tokens");
const form = document.getElementById("token-form");
const formError = document.getElementById("token-form-error");
const secretBox = document.getElementById("token-secret");

function tokenItem(token) {
  const li = element("li");
  li.dataset.id = token.id;
  li.append(element("span", "alert-text", `${token.name} · ${token.hint}…`));
  const used = token.last_used_at ? `last used ${formatDateTime(token.last_used_at)}` : "never used";
  li.append(element("span", "meta", `made ${formatDateTime(token.created_at)} · ${used}`));
  const revoke = element("button", "secondary", "Revoke");
  revoke.type = "button";
  revoke.setAttribute("aria-label", `Revoke the token ${token.name}`);
  revoke.addEventListener("click", async () => {
    revoke.disabled = true;
    try {
      await api.revokeToken(token.id);
      await loadTokens();
    } catch (error) {
      showMessage(formError, `Could not revoke: ${error.message}`);
      revoke.disabled = false;
    }
  });
  const actions = element("span", "actions");
  actions.append(revoke);
  li.append(actions);
  return li;
}

async function loadTokens() {
  const tokens = await api.tokens();
  list.replaceChildren(...tokens.map(tokenItem));
  empty.hidden = tokens.length > 0;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  formError.hidden = true;
  try {
    const made = await api.createToken(form.elements.name.value);
    document.getElementById("token-secret-value").textContent = made.secret;
    secretBox.hidden = false;
    form.reset();
    await loadTokens();
  } catch (error) {
    showFailure(formError, error);
  }
});

document.getElementById("tokens-open").addEventListener("click", () => {
  secretBox.hidden = true; // a token is shown once
  dialog.showModal();
  loadTokens().catch((error) => showMessage(formError, `Could not load the tokens: ${error.message}`));
});
document.getElementById("tokens-close").addEventListener("click", () => dialog.close());
dialog.addEventListener("close", () => {
  secretBox.hidden = true;
  document.getElementById("token-secret-value").textContent = "";
});
document.getElementById("sign-out").addEventListener("click", async () => {
  await api.logout().catch(() => {});
  window.location.assign("/login");
});

// Who is signed in, and the CSRF token for this session's writes.
export async function loadAccount() {
  const session = await api.session();
  setCsrfToken(session.csrf_token);
  account.hidden = !session.auth_required;
  document.getElementById("account-user").textContent = session.user ? `signed in as ${session.user}` : "";
}

// The new token's Copy button: the clipboard where the page may write it (https, localhost),
// else the token selected for the reader's own copy.
document.getElementById("token-copy").addEventListener("click", async (event) => {
  const code = document.getElementById("token-secret-value");
  const said = event.currentTarget;
  try {
    await navigator.clipboard.writeText(code.textContent);
    said.textContent = "Copied";
  } catch {
    window.getSelection().selectAllChildren(code);
    said.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => (said.textContent = "Copy"), 3000);
});
