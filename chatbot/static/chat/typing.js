// Typing: the bot's and a counsellor's dots in the widget, and the fact (never text) of the child's typing.
import { el, state } from "./context.js";
import { t } from "./strings.js";
import { scrollToEnd } from "./transcript.js";
import * as events from "./events.js";

export function showTyping(who) {
  // The bot "types" while it answers; a counsellor's typing comes from the gateway (never their text).
  if (who !== "counsellor" && state.conversationState !== "bot") return;
  const label = el.typing.querySelector("[data-i18n]");
  label.textContent = who === "counsellor" && state.counsellorName ? t("typing.counsellor", { name: state.counsellorName }) : t("typing");
  el.typing.hidden = false;
  window.clearTimeout(state.typingTimer);
  state.typingTimer = window.setTimeout(hideTyping, who === "counsellor" ? 10000 : 8000);
  scrollToEnd();
}

export function childTyping() {
  // Only the fact of typing goes to the counsellor, at most every 3 s, and "stopped" after 3 s idle.
  if (state.conversationState !== "counsellor" || !state.ready || !state.socket) return;
  const now = Date.now();
  if (now - state.typingSentAt > 3000) {
    state.typingSentAt = now;
    state.socket.emit(events.TYPING, { on: true });
  }
  window.clearTimeout(state.typingIdle);
  state.typingIdle = window.setTimeout(childStoppedTyping, 3000);
}

export function childStoppedTyping() {
  window.clearTimeout(state.typingIdle);
  if (!state.typingSentAt) return;
  state.typingSentAt = 0;
  if (state.socket && state.ready) state.socket.emit(events.TYPING, { on: false });
}

export function hideTyping() {
  el.typing.hidden = true;
  window.clearTimeout(state.typingTimer);
}
