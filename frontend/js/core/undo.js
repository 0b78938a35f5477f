// "Deleted … Undo" for 10 s after a delete (an alert, a card): one line at the foot of the
// screen, said politely to a screen reader. A newer delete replaces the offer; the timer waits
// while the pointer or the focus is on it, so it is not taken away while someone reaches for it.

import { element } from "./dom.js";

export const UNDO_MS = 10_000;
const box = document.getElementById("undo");
let timer = null;
let current = null; // the offer shown: { undo }

function close() {
  clearTimeout(timer);
  current = null;
  box.hidden = true;
  box.replaceChildren();
}

function closeLater() {
  clearTimeout(timer);
  timer = setTimeout(close, UNDO_MS);
}

box.addEventListener("pointerenter", () => clearTimeout(timer));
box.addEventListener("pointerleave", () => current && closeLater());
box.addEventListener("focusin", () => clearTimeout(timer));
box.addEventListener("focusout", (event) => current && !box.contains(event.relatedTarget) && closeLater());

// Offer to undo what `said` tells of: `undo()` (async) puts it back and returns what to say then;
// if it fails, its message is said instead.
export function offerUndo(said, undo) {
  const offer = { undo };
  current = offer;
  const text = element("span", "undo-text", said);
  const button = element("button", "secondary", "Undo");
  button.type = "button";
  button.addEventListener("click", async () => {
    if (current !== offer) return;
    button.disabled = true;
    clearTimeout(timer);
    try {
      text.textContent = await undo();
      button.remove();
    } catch (error) {
      text.textContent = `Could not undo: ${error.message}`;
      button.remove();
    }
    closeLater();
  });
  box.replaceChildren(text, button);
  box.hidden = false;
  closeLater();
}
