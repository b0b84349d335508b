// Leaving the chat for the counsellors: the return code shown once, and the form that opens a chat by code.
import { el, state } from "./context.js";
import { t } from "./strings.js";
import { connect } from "./connection.js";
import { clearReplies, scrollToEnd } from "./transcript.js";
import * as events from "./events.js";

export function leaveForCounsellor() {
  if (state.ended || state.exiting || !state.socket || !state.ready) return;
  clearReplies();
  state.socket.emit(events.LEAVE_REQUEST, {});
}

export function showReturnCode(data) {
  if (!data || typeof data.code !== "string" || state.ended || state.exiting) return;
  // Shown once and kept nowhere: not in storage, not in the transcript; gone when the panel closes.
  el.returnCode.textContent = data.code;
  el.conversation.hidden = true;
  el.returnPanel.hidden = false;
  el.returnTitle.focus();
}

export function closeReturnCode() {
  el.returnCode.textContent = "";
  el.returnPanel.hidden = true;
  el.conversation.hidden = false;
  scrollToEnd();
  el.input.focus();
}

export function openResume() {
  if (state.ended || state.exiting) return;
  el.resumeInput.value = "";
  el.resumeProblem.hidden = true;
  el.conversation.hidden = true;
  el.resume.hidden = false;
  el.resumeTitle.focus();
  connect();
}

export function closeResume() {
  if (el.resume.hidden) return;
  el.resumeInput.value = "";
  el.resume.hidden = true;
  el.conversation.hidden = false;
  scrollToEnd();
  el.input.focus();
}

export function sendResume() {
  const code = el.resumeInput.value.trim();
  if (!code) {
    el.resumeInput.focus();
    return;
  }
  el.resumeProblem.hidden = true;
  if (state.socket && state.socket.connected) state.socket.emit(events.RESUME_CODE, { code: code });
  else showResumeProblem(t("status.reconnecting"));
}

export function showResumeProblem(text) {
  el.resumeProblem.textContent = text;
  el.resumeProblem.hidden = false;
  el.resumeInput.focus();
}
