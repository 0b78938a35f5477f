// The sign-in page: JSON to /api/login, then the dashboard. Wrong answers and the rate limit
// come back as {error} and are shown as they are.

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
    showMessage(error, failure.message);
    form.elements.password.select();
  } finally {
    button.disabled = false;
  }
});
