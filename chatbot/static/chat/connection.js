// The socket: connect (polling first, then websocket), the events that arrive, the connection's status line.
import { config, el, state, up } from "./context.js";
import { switchLanguage, t } from "./strings.js";
import { writeSession } from "./storage.js";
import { clearTranscript, onEntry, renderReplies, scrollToEnd, showNotice } from "./transcript.js";
import { hideTyping, showTyping } from "./typing.js";
import { flushPending, onAck, onBubble, onError } from "./sending.js";
import { onUploadGrant } from "./upload-panel.js";
import { closeResume, showReturnCode } from "./leave.js";
import { showEnded } from "./exit.js";
import { showPlace } from "./queue.js";
import * as events from "./events.js";

export function connect() {
  if (state.socket || state.exiting) return;
  state.connectingSince = Date.now();
  window.setTimeout(refreshStatus, 1300);
  // Long-polling first, then an upgrade to websocket when the network allows it: school networks
  // that block websockets keep a working chat instead of a broken one.
  const socket = window.io({
    path: config.socketPath,
    transports: ["polling", "websocket"],
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    timeout: 10000
  });
  state.socket = socket;

  socket.on("connect", function () {
    state.ready = false;
    const request = { last_seq: state.contiguous, locale: state.locale, extensions: events.EXTENSIONS_VERSION };
    if (state.sessionId) request.session_id = state.sessionId;
    socket.emit(events.SESSION_REQUEST, request);
  });
  socket.on("disconnect", function (reason) {
    state.ready = false;
    state.inflight = null; // resent after the reconnect; the server dedupes by client_id
    state.lost = true;
    hideTyping();
    refreshStatus();
    if (reason === "io server disconnect" && !state.exiting && !state.ended) socket.connect();
  });
  socket.io.on("reconnect_attempt", refreshStatus);
  socket.on(events.SESSION_CONFIRM, function (id) {
    if (typeof id !== "string") return;
    state.sessionId = id;
    writeSession(id);
  });
  socket.on(events.SESSION_STATE, onSessionState);
  socket.on(events.HISTORY, function (data) {
    (data && Array.isArray(data.entries) ? data.entries : []).forEach(onEntry);
    showPlace();
    scrollToEnd();
  });
  socket.on(events.BOT_UTTERED, function (data) {
    if (!data || typeof data !== "object") return;
    if (data.ephemeral) {
      showNotice(data.text, "system");
      if (Array.isArray(data.quick_replies)) renderReplies(data.quick_replies);
    } else {
      onBubble(data);
    }
    hideTyping();
    showPlace();
    scrollToEnd();
  });
  // The compact protocol: one frame per turn, the acknowledgement and every bubble of the answer.
  socket.on(events.TURN, function (data) {
    if (!data || typeof data !== "object") return;
    if (data.ack) onAck(data.ack);
    const entries = Array.isArray(data.entries) ? data.entries : [];
    entries.forEach(function (entry) {
      if (entry && typeof entry === "object") onBubble(entry);
    });
    if (entries.length) {
      hideTyping();
      showPlace();
      scrollToEnd();
    }
  });
  socket.on(events.MESSAGE_ACK, onAck);
  socket.on(events.ERROR, onError);
  socket.on(events.UPLOAD_GRANT, onUploadGrant);
  socket.on(events.RETURN_CODE, showReturnCode);
  socket.on(events.TYPING, function (data) {
    if (!data || data.role !== "counsellor") return;
    if (data.on === true) showTyping("counsellor");
    else hideTyping();
  });
  socket.on(events.SESSION_ENDED, function () {
    if (!state.exiting && !state.ended) showEnded();
  });
}

export function onSessionState(data) {
  if (!data || typeof data !== "object") return;
  if (data.returned) {
    // Opened with a return code: another conversation, replayed from its start (history follows).
    clearTranscript();
    closeResume();
  } else if (!data.resumed && state.seen.size > 0) {
    // The old conversation expired while we were away: start clean, keep what waits to be sent.
    clearTranscript();
  }
  state.ready = true;
  state.inflight = null; // whatever was in flight is resent below; the server dedupes by client_id
  state.conversationState = data.conversation_state || "bot";
  showPlace();
  if (state.ended) return;
  if (data.locale && data.locale !== state.locale) {
    if (data.withdrawn) {
      // The child's language was switched off: the server's language (and its fresh menu) from now on.
      state.localeChosen = false;
      switchLanguage(data.locale).catch(function () {});
    } else if (state.localeChosen) {
      state.socket.emit(events.SET_LOCALE, { locale: state.locale });
    } else {
      switchLanguage(data.locale).catch(function () {});
    }
  }
  // After set_locale: the buttons on screen again, labelled in the new language.
  if (Array.isArray(data.quick_replies) && data.quick_replies.length && !el.replies.hidden) {
    renderReplies(data.quick_replies);
  }
  setStatus(state.lost ? "status.connected" : "");
  state.lost = false;
  flushPending();
  if (up.wanted) state.socket.emit(events.UPLOAD_REQUEST, {});
}

export function refreshStatus() {
  if (state.exiting || state.ended) return;
  if (state.socket && !state.ready && state.lost) {
    setStatus(navigator.onLine === false ? "status.offline" : "status.reconnecting");
  } else if (state.socket && !state.ready && Date.now() - state.connectingSince > 1200) {
    setStatus("status.connecting"); // only when starting is slow: no flicker on a good network
  }
  el.body.classList.toggle("is-offline", !state.ready);
}

export function setStatus(key) {
  // Only real changes reach the status region, so a screen reader hears them and nothing else.
  if ((el.status.getAttribute("data-status-key") || "") === key) return;
  el.status.textContent = key ? t(key) : "";
  if (key) el.status.setAttribute("data-status-key", key);
  else el.status.removeAttribute("data-status-key");
  el.status.classList.toggle("is-visible", Boolean(key));
  el.body.classList.toggle("is-offline", !state.ready);
  if (key === "status.connected") {
    window.setTimeout(function () {
      if (el.status.getAttribute("data-status-key") === "status.connected") setStatus("");
    }, 4000);
  }
}
