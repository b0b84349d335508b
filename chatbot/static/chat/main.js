// The chat inside the widget's iframe: the entry module (chat.html loads it with <script type="module">).
// It wires the page's controls to the other modules and starts; docs/widget.md says how it fits together.
//
// Device privacy: the only thing kept between page loads is the session id, in sessionStorage (gone
// when the tab closes). No cookie, no localStorage, no IndexedDB, no Cache API; messages waiting to be
// sent live in memory only. Files for the encrypted upload are read into memory by /upload/upload.js
// (no object URL is made for them) and dropped when the upload ends; the case code is only shown. Every
// string a child sees comes from the widget catalog (locales/). The DOM is built with textContent only
// (the CSP forbids HTML sinks through Trusted Types).
import { el, embedded, hostOrigin, state } from "./context.js";
import { applyStrings, switchLanguage } from "./strings.js";
import { closePanel, openPanel, reportLayout } from "./host.js";
import { readSession, wipeDevice } from "./storage.js";
import { refreshStatus, setStatus } from "./connection.js";
import { childTyping } from "./typing.js";
import { sendMessage } from "./sending.js";
import { cancelUpload, closeUpload, onFilesChosen, onSendClick } from "./upload-panel.js";
import { closeResume, closeReturnCode, openResume, sendResume } from "./leave.js";
import { askToEnd, cancelEnd, quickExit, restart, showEnded } from "./exit.js";
import * as events from "./events.js";

state.sessionId = readSession();

document.querySelectorAll('[data-action="quick-exit"]').forEach(function (button) {
  button.addEventListener("click", quickExit);
});
el.launcher.addEventListener("click", function () {
  openPanel(true);
});
el.hide.addEventListener("click", closePanel);
el.send.addEventListener("click", function () {
  const text = el.input.value;
  if (!text.trim()) {
    el.input.focus();
    return;
  }
  el.input.value = "";
  sendMessage(text);
  el.input.focus();
});
el.input.addEventListener("keydown", function (event) {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    el.send.click();
  }
});
el.language.addEventListener("change", function () {
  const code = el.language.value;
  state.localeChosen = true;
  switchLanguage(code)
    .then(function () {
      if (state.socket && state.ready) state.socket.emit(events.SET_LOCALE, { locale: code });
    })
    .catch(function () {
      el.language.value = state.locale;
    });
});
el.input.addEventListener("input", childTyping);
el.uploadFiles.addEventListener("change", onFilesChosen);
el.uploadSend.addEventListener("click", onSendClick);
el.uploadCancel.addEventListener("click", cancelUpload);
el.uploadStop.addEventListener("click", cancelUpload);
el.uploadClose.addEventListener("click", closeUpload);
el.end.addEventListener("click", askToEnd);
el.confirmNo.addEventListener("click", cancelEnd);
el.confirmYes.addEventListener("click", showEnded);
el.restart.addEventListener("click", restart);
el.returnClose.addEventListener("click", closeReturnCode);
el.returnOpen.addEventListener("click", openResume);
el.resumeCancel.addEventListener("click", closeResume);
el.resumeSend.addEventListener("click", sendResume);
el.resumeInput.addEventListener("keydown", function (event) {
  if (event.key === "Enter" && !event.isComposing) {
    event.preventDefault();
    sendResume();
  }
});

// Escape twice within 1.5 s, anywhere in the widget: the keyboard's quick exit.
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") return;
  const now = Date.now();
  if (now - state.escapeAt < 1500) {
    event.preventDefault();
    quickExit();
  }
  state.escapeAt = now;
});

window.addEventListener("message", function (event) {
  if (!embedded || event.source !== window.parent || event.origin !== hostOrigin) return;
  const data = event.data;
  if (!data || typeof data !== "object") return;
  if (data.type === "stodchat:quick-exit") quickExit();
  if (data.type === "stodchat:leaving") window.clearTimeout(state.exitFallback);
});
// Back/forward cache: a page the child left comes back exactly as it was, transcript included. If the
// chat was ended or quick-exited since (on another page of this tab, which cleared sessionStorage),
// show nothing of it.
window.addEventListener("pageshow", function (event) {
  if (!event.persisted || !state.sessionId || readSession() === state.sessionId) return;
  if (state.socket) {
    state.socket.close();
    state.socket = null;
  }
  wipeDevice();
  state.ready = false;
  state.lost = false;
  setStatus("");
  closePanel();
});
window.addEventListener("online", refreshStatus);
window.addEventListener("offline", refreshStatus);
window.addEventListener("resize", function () {
  if (el.panel.hidden) reportLayout();
});

applyStrings();
el.body.classList.add("is-ready");
if (state.sessionId || !embedded) {
  // A reload mid-conversation (or the chat opened on its own): open and resume at once.
  openPanel(!embedded);
}
