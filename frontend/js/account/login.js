// The sign-in page: JSON to /api/login, then the dashboard. A wrong answer is said; after too
// many, the wait the server gives (Retry-After) counts down and the button waits with it.

import { api } from "../core/api.js";
import { showMessage } from "../core/dom.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api.login(form.elements.username.value, form.elements.password.value);
    window.location.assign("/");
  } catch (failure) {
    if (failure.status === 429 && failure.retryAfter) {
      lockOut(button, failure.retryAfter);
      return;
    }
    showMessage(error, failure.message);
    form.elements.password.select();
  }
  button.disabled = false;
});

function lockOut(button, seconds) {
  const until = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(timer);
      showMessage(error, "You can try again now.");
      button.disabled = false;
      return;
    }
    const wait = left >= 120 ? `${Math.ceil(left / 60)} minutes` : `${left} second${left === 1 ? "" : "s"}`;
    showMessage(error, `Too many failed sign-ins. Try again in ${wait}.`);
  };
  const timer = setInterval(tick, 1000);
  tick();
}
