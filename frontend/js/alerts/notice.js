// Fired alerts said in one line under the top bar, which stays in view as the page scrolls: the
// newest fire, and how many came since the line was last clear. It never covers the page (the
// bar takes its own room, and the page scrolls focused fields clear of it), clears itself after
// NOTICE_MS unless the pointer or focus is on it, and every fire stays in the Triggered list.

import { element } from "../core/dom.js";

const NOTICE_MS = 10_000;
const region = document.getElementById("banners");
let box = null;
let count = 0;
let timer = null;

function clear() {
  box?.remove();
  box = null;
  count = 0;
  clearTimeout(timer);
}

function clearLater() {
  clearTimeout(timer);
  timer = setTimeout(clear, NOTICE_MS);
}

function build() {
  box = element("div", "banner");
  box.setAttribute("role", "alert");
  const text = element("span", "banner-text");
  const more = element("a", "banner-more");
  more.href = "#triggered-heading";
  const dismiss = element("button", "close", "×");
  dismiss.type = "button";
  dismiss.setAttribute("aria-label", "Dismiss alert notice");
  dismiss.addEventListener("click", clear);
  box.addEventListener("pointerenter", () => clearTimeout(timer)); // reading it: it stays
  box.addEventListener("pointerleave", clearLater);
  box.addEventListener("focusin", () => clearTimeout(timer));
  box.addEventListener("focusout", clearLater);
  box.append(text, more, dismiss);
  region.append(box);
}

// Say `said`; returns it (the browser notification says the same).
export function notice(said) {
  if (!box) build();
  count += 1;
  const text = box.querySelector(".banner-text");
  text.textContent = said;
  text.title = said; // two lines at most show; the whole on hover
  box.querySelector(".banner-more").textContent = count > 1 ? `+${count - 1} more in Triggered` : "";
  clearLater();
  return said;
}

// The page scrolls what it brings into view (focus, links) clear of the sticky top.
export function keepClearOfTop(top) {
  const pad = () => document.documentElement.style.setProperty("scroll-padding-top", `${top.offsetHeight + 8}px`);
  new ResizeObserver(pad).observe(top);
  pad();
}
