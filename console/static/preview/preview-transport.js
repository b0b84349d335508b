// The child's-eye preview's transport: socket.io's shape (on, emit, io.on, connect, close), played back
// from the graph the console computed for a draft (console/domain/preview.py), so the widget's own modules
// run unchanged and no conversation is opened anywhere. Answers as the gateway's extended protocol does.
import { config } from "./context.js";
import * as events from "./events.js";

const preview = config.preview;

class PreviewSocket {
  constructor() {
    this.handlers = new Map();
    this.connected = false;
    this.io = { on: function () {} }; // reconnect events: a playback never loses its connection
    this.seq = 0;
    this.started = false;
    this.locale = preview.locale;
    this.shown = null; // what the newest turn showed: "start", "fallback" or a payload
    later(this, "connect");
  }

  on(name, handler) {
    if (!this.handlers.has(name)) this.handlers.set(name, []);
    this.handlers.get(name).push(handler);
  }

  fire(name, data) {
    if (name === "connect") this.connected = true;
    (this.handlers.get(name) || []).forEach(function (handler) {
      handler(data);
    });
  }

  connect() {
    if (!this.connected) later(this, "connect");
  }

  close() {
    this.connected = false;
  }

  graph() {
    return preview.graphs[this.locale] || preview.graphs[preview.locale];
  }

  bubbles(key) {
    const graph = this.graph();
    if (key === "start") return graph.start;
    if (key === "fallback") return graph.fallback;
    return graph.taps[key] || graph.fallback;
  }

  entries(key) {
    this.shown = key;
    const socket = this;
    return this.bubbles(key).map(function (bubble) {
      socket.seq += 1;
      return Object.assign({ seq: socket.seq }, bubble);
    });
  }

  lastButtons() {
    const shown = this.shown ? this.bubbles(this.shown) : [];
    const last = shown[shown.length - 1];
    return last && last.quick_replies ? last.quick_replies : [];
  }

  emit(name, data) {
    const payload = data && typeof data === "object" ? data : {};
    if (name === events.SESSION_REQUEST) {
      if (preview.graphs[payload.locale]) this.locale = payload.locale;
      later(this, events.SESSION_STATE, { session_id: "", resumed: this.started, conversation_state: "bot", last_seq: this.seq, locale: this.locale });
      if (!this.started) {
        this.started = true;
        const entries = this.entries("start");
        later(this, events.HISTORY, { entries: entries, last_seq: this.seq });
      }
    } else if (name === events.USER_UTTERED) {
      const message = String(payload.message || "").trim();
      // Buttons follow the draft's graph; typed words have no intent model here: the fallback answer.
      const key = Object.prototype.hasOwnProperty.call(this.graph().taps, message) ? message : "fallback";
      this.seq += 1;
      const ack = { client_id: payload.client_id, seq: this.seq, duplicate: false };
      later(this, events.TURN, { ack: ack, entries: this.entries(key) });
    } else if (name === events.SET_LOCALE) {
      if (preview.graphs[payload.locale]) this.locale = payload.locale;
      later(this, events.SESSION_STATE, { session_id: "", resumed: true, conversation_state: "bot", last_seq: this.seq, locale: this.locale, quick_replies: this.lastButtons() });
    } else if (name === events.UPLOAD_REQUEST) {
      later(this, events.ERROR, { code: "uploads_unavailable", detail: "" });
    }
    // end_session, typing, leave_request and resume_code: nothing to play back in a preview.
  }
}

function later(socket, name, data) {
  // Like a network: after the caller's code has run, in the order sent.
  window.setTimeout(function () {
    socket.fire(name, data);
  }, 0);
}

window.io = function () {
  return new PreviewSocket();
};
