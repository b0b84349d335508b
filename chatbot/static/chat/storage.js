// Session storage, the only thing the device keeps (the session id), and wiping the device.
import { config, el, state } from "./context.js";
import { clearTranscript } from "./transcript.js";
import { wipeUpload } from "./upload-panel.js";

export function readSession() {
  try {
    return window.sessionStorage.getItem(config.storageKey);
  } catch {
    return null; // storage blocked: the chat still works, it just cannot resume after a reload
  }
}

export function writeSession(id) {
  try {
    window.sessionStorage.setItem(config.storageKey, id);
  } catch {
    /* see readSession */
  }
}

export function wipeDevice() {
  try {
    window.sessionStorage.clear();
  } catch {
    /* nothing stored */
  }
  state.sessionId = null;
  state.pending.clear();
  clearTranscript();
  el.input.value = "";
  el.returnCode.textContent = "";
  el.resumeInput.value = "";
  wipeUpload();
}
