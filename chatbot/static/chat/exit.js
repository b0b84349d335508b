// End chat (asked first) and quick exit: end on the server, wipe the device, leave without a Back.
import { config, el, embedded, hostOrigin, state } from "./context.js";
import { tellHost } from "./host.js";
import { wipeDevice } from "./storage.js";
import { connect, setStatus } from "./connection.js";
import { showPlace } from "./queue.js";
import * as events from "./events.js";

// reason: "quick_exit" or "end_chat", so the counsellor's console can say how the child left.
export function endOnServer(reason) {
  const id = state.sessionId;
  if (!id) return;
  // The beacon reaches the server even while the page goes away or the socket is down.
  let sent;
  try {
    sent = navigator.sendBeacon(config.endUrl, new Blob([id], { type: "text/plain" }));
  } catch {
    sent = false;
  }
  if (state.socket && state.socket.connected) state.socket.emit(events.END_SESSION, { reason: reason });
  else if (!sent) {
    fetch(config.endUrl, { method: "POST", body: id, keepalive: true, credentials: "omit" }).catch(function () {});
  }
}

export function showEnded() {
  state.ended = true;
  showPlace();
  endOnServer("end_chat");
  wipeDevice();
  if (state.socket) {
    state.socket.close();
    state.socket = null;
  }
  state.ready = false;
  state.lost = false;
  setStatus("");
  el.confirm.hidden = true;
  el.conversation.hidden = true;
  el.ended.hidden = false;
  el.endedTitle.focus();
}

export function restart() {
  state.ended = false;
  el.ended.hidden = true;
  el.conversation.hidden = false;
  el.composeRow.hidden = false;
  el.endRow.hidden = false;
  connect();
  el.input.focus();
}

export function askToEnd() {
  el.confirm.hidden = false;
  el.composeRow.hidden = true;
  el.endRow.hidden = true;
  el.confirmNo.focus();
}

export function cancelEnd() {
  el.confirm.hidden = true;
  el.composeRow.hidden = false;
  el.endRow.hidden = false;
  el.end.focus();
}

export function quickExit() {
  if (state.exiting) return;
  state.exiting = true;
  // One step: end on the server, wipe this device, leave. The host page's loader replaces the top
  // page with the neutral site (location.replace, so Back does not return here).
  endOnServer("quick_exit");
  wipeDevice();
  el.body.classList.add("is-exiting");
  if (embedded && hostOrigin) {
    tellHost({ type: "stodchat:exit" });
    // No loader answered (embedded without widget.js): leave from here as well as we can.
    state.exitFallback = window.setTimeout(leaveFromFrame, 1500);
  } else if (embedded) {
    leaveFromFrame();
  } else {
    window.location.replace(config.exitUrl);
  }
}

export function leaveFromFrame() {
  try {
    window.top.location.replace(config.exitUrl);
  } catch {
    window.location.replace(config.exitUrl);
  }
}
