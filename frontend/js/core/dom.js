// Building page elements. Text goes in as textContent, never as HTML: server text is data.

export function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

// A message in `box`; with `retry`, a button beside it that tries the same thing again.
export function showMessage(box, message, retry) {
  box.replaceChildren(element("span", "", message));
  if (retry) {
    const again = element("button", "secondary small", "Retry");
    again.type = "button";
    again.addEventListener("click", retry);
    box.append(" ", again);
  }
  box.hidden = false;
}

// The page's own colours (light or dark scheme), for what a canvas draws.
export function themed(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
