// The child's messages: shown at once, sent one at a time in order, acknowledged, retried; errors from the server.
import { INTERNAL_RETRIES, config, el, state } from "./context.js";
import { t } from "./strings.js";
import { connect, setStatus } from "./connection.js";
import { clearReplies, followNotice, makeMessage, markSeen, onEntry, scrollToEnd, showNotice } from "./transcript.js";
import { childStoppedTyping, hideTyping, showTyping } from "./typing.js";
import { uploadRefused } from "./upload-panel.js";
import { showResumeProblem } from "./leave.js";
import { showEnded } from "./exit.js";
import * as events from "./events.js";

export function newClientId() {
  const bytes = new Uint8Array(12);
  window.crypto.getRandomValues(bytes);
  return "w-" + Array.prototype.map.call(bytes, function (b) {
    return ("0" + b.toString(16)).slice(-2);
  }).join("");
}

export function sendMessage(text, shown) {
  if (state.ended || state.exiting) return;
  const message = String(text).trim();
  if (!message) {
    showNotice(t("error.empty_message"));
    return;
  }
  if (message.length > config.maxChars) {
    showNotice(t("error.message_too_long", { limit: config.maxChars }));
    return;
  }
  childStoppedTyping();
  const clientId = newClientId();
  const node = makeMessage("child", shown || message, null);
  node.classList.add("is-pending");
  node.setAttribute("data-client-id", clientId);
  setMessageStatus(node, state.ready ? null : "message.pending");
  el.log.appendChild(node);
  state.pending.set(clientId, { text: message, node: node, waiting: false });
  clearReplies();
  scrollToEnd();
  if (state.ready) flushPending();
  else connect();
}

export function emitMessage(clientId) {
  const item = state.pending.get(clientId);
  if (!item || !state.socket || !state.ready) return;
  state.inflight = clientId;
  state.socket.emit(events.USER_UTTERED, { message: item.text, client_id: clientId, session_id: state.sessionId });
  showTyping();
}

export function flushPending() {
  // One message in flight at a time, in the order they were written: the server handles events
  // concurrently, so two sent at once could be stored the other way round. Each client_id is
  // stored once, so a resend after a lost acknowledgement is harmless.
  if (state.inflight || !state.ready) return;
  let next = null;
  state.pending.forEach(function (item, clientId) {
    // A failed message waits for its "try again" button; a rate-limited one holds back those after it.
    if (next === null && !item.node.classList.contains("is-failed")) next = clientId;
  });
  if (next !== null && !state.pending.get(next).waiting) emitMessage(next);
}

export function setMessageStatus(node, key, retry) {
  const old = node.querySelector(".msg-status");
  if (old) old.remove();
  if (!key) return;
  const status = document.createElement("span");
  status.className = "msg-status";
  const label = document.createElement("span");
  label.setAttribute("data-status", key);
  label.textContent = t(key);
  status.appendChild(label);
  if (retry) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-quiet btn-small";
    button.setAttribute("data-status", "message.retry");
    button.textContent = t("message.retry");
    button.addEventListener("click", function () {
      node.classList.remove("is-failed");
      setMessageStatus(node, state.ready ? null : "message.pending");
      flushPending();
    });
    status.appendChild(button);
  }
  node.appendChild(status);
}

export function settle(node, seq) {
  node.classList.remove("is-pending", "is-failed");
  node.setAttribute("data-seq", String(seq));
  setMessageStatus(node, null);
}

export function onBubble(data) {
  followNotice(data.notice);
  onEntry(data);
}

export function onAck(ack) {
  if (!ack || typeof ack.client_id !== "string") return;
  const item = state.pending.get(ack.client_id);
  markSeen(ack.seq);
  if (state.inflight === ack.client_id) state.inflight = null;
  if (item) {
    state.pending.delete(ack.client_id);
    settle(item.node, ack.seq);
    if (ack.duplicate) hideTyping();
  }
  if (state.troubled) {
    state.troubled = false;
    setStatus("status.connected");
  }
  flushPending();
}

export function onError(error) {
  if (!error || typeof error !== "object") return;
  const code = typeof error.code === "string" ? error.code : "internal";
  if (code.indexOf("return_code_") === 0) {
    // The answer to resume_code: shown in the code form; each answer depends only on what was typed.
    const codeKey = "error." + code;
    showResumeProblem(t(codeKey));
    return;
  }
  if (code === "uploads_unavailable" || code === "upload_limit" || code === "uploads_full") {
    // The answer to upload_request: shown in the upload panel, not against a message.
    uploadRefused(code);
    return;
  }
  // An error without a client_id (e.g. "internal") concerns the message in flight, if any.
  const clientId = typeof error.client_id === "string" ? error.client_id : code !== "no_session" ? state.inflight : null;
  const item = clientId ? state.pending.get(clientId) : null;
  if (clientId && state.inflight === clientId) state.inflight = null;
  hideTyping();
  if (code === "rate_limited" && item) {
    item.waiting = true;
    setMessageStatus(item.node, "error.rate_limited");
    window.setTimeout(function () {
      item.waiting = false;
      setMessageStatus(item.node, null);
      flushPending();
    }, Math.min(Math.max(Number(error.retry_after_ms) || 2000, 500), 60000));
    return;
  }
  if (code === "internal" && item && (item.retries || 0) < INTERNAL_RETRIES) {
    // Our side failed (Redis failing over, a process restarting): the child's words are kept and sent
    // again by themselves, with the same client_id so they are stored once, while the status says we
    // are reconnecting. Only after about half a minute does the message ask for "try again".
    item.retries = (item.retries || 0) + 1;
    item.waiting = true;
    state.troubled = true;
    setMessageStatus(item.node, "message.pending");
    setStatus("status.reconnecting");
    window.setTimeout(function () {
      item.waiting = false;
      flushPending();
    }, Math.min(500 * Math.pow(2, item.retries - 1), 8000));
    return;
  }
  if (code === "no_session") {
    if (state.socket && state.socket.connected) state.socket.emit(events.SESSION_REQUEST, { session_id: state.sessionId, last_seq: state.contiguous, locale: state.locale, extensions: events.EXTENSIONS_VERSION });
    return;
  }
  if (code === "conversation_ended") {
    showEnded();
    return;
  }
  if (code === "conversation_limit") {
    // No new chat for now (flood limits): the server's own notice says so (or gives the crisis answer),
    // so no second notice here; the widget asks again when the server says it may.
    if (item) {
      item.node.classList.add("is-failed");
      setMessageStatus(item.node, "message.failed", true);
    }
    window.setTimeout(function () {
      if (state.socket && state.socket.connected && !state.ready) state.socket.emit(events.SESSION_REQUEST, { session_id: state.sessionId, last_seq: state.contiguous, locale: state.locale, extensions: events.EXTENSIONS_VERSION });
    }, Math.min(Math.max(Number(error.retry_after_ms) || 60000, 5000), 300000));
    return;
  }
  if (item && (code === "message_too_long" || code === "empty_message")) {
    // Give the words back so the child can shorten them instead of typing again.
    state.pending.delete(clientId);
    item.node.remove();
    el.input.value = item.text;
  } else if (item) {
    item.node.classList.add("is-failed");
    setMessageStatus(item.node, "message.failed", true);
  }
  flushPending();
  const key = "error." + code;
  showNotice(t(Object.prototype.hasOwnProperty.call(state.catalog.messages, key) ? key : "error.internal", { limit: error.limit || config.maxChars }));
}
