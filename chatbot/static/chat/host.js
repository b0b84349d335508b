// The host page and the panel: open and close, and the iframe's size told to the loader (widget.js).
import { el, embedded, hostOrigin, state } from "./context.js";
import { connect } from "./connection.js";
import { scrollToEnd } from "./transcript.js";

export function tellHost(message) {
  // Only to the page that embedded us, never "*": the messages are harmless, the habit is not.
  if (embedded && hostOrigin) window.parent.postMessage(message, hostOrigin);
}

export function reportLayout() {
  const open = !el.panel.hidden;
  let size = { width: 0, height: 0 };
  if (!open) {
    const box = el.launcherBar.getBoundingClientRect();
    size = { width: Math.ceil(box.width), height: Math.ceil(box.height) };
  }
  tellHost({ type: "stodchat:layout", open: open, width: size.width, height: size.height });
}

export function openPanel(focus) {
  el.panel.hidden = false;
  el.launcherBar.hidden = true;
  el.body.classList.remove("is-closed");
  el.launcher.setAttribute("aria-expanded", "true");
  reportLayout();
  connect();
  if (focus) {
    (state.ended ? el.restart : el.input).focus();
  }
  scrollToEnd();
}

export function closePanel() {
  el.panel.hidden = true;
  el.launcherBar.hidden = false;
  el.body.classList.add("is-closed");
  el.launcher.setAttribute("aria-expanded", "false");
  reportLayout();
  el.launcher.focus();
}
