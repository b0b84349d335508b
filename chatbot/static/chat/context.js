// What every module shares: the server's config, the page's elements, and the chat's state in memory.

export const config = JSON.parse(document.getElementById("stodchat-config").textContent);
export const embedded = window.parent !== window;
export const hostOrigin = config.hostOrigin;

export const el = {
  body: document.body,
  panel: byId("panel"),
  launcher: byId("launcher"),
  launcherBar: byId("launcher-bar"),
  hide: byId("hide"),
  language: byId("language"),
  conversation: byId("conversation"),
  scroll: byId("scroll"),
  log: byId("log"),
  typing: byId("typing"),
  replies: byId("replies"),
  status: byId("status"),
  queueStatus: byId("queue-status"),
  input: byId("input"),
  send: byId("send"),
  endRow: byId("end-row"),
  end: byId("end"),
  confirm: byId("confirm"),
  confirmYes: byId("confirm-yes"),
  confirmNo: byId("confirm-no"),
  composeRow: byId("compose-row"),
  ended: byId("ended"),
  endedTitle: byId("ended-title"),
  restart: byId("restart"),
  upload: byId("upload"),
  uploadTitle: byId("upload-title"),
  uploadForm: byId("upload-form"),
  uploadKeep: byId("upload-keep"),
  uploadConsent: byId("upload-consent"),
  uploadFiles: byId("upload-files"),
  uploadLimits: byId("upload-limits"),
  uploadChosen: byId("upload-chosen"),
  uploadProblem: byId("upload-problem"),
  uploadSend: byId("upload-send"),
  uploadCancel: byId("upload-cancel"),
  uploadProgress: byId("upload-progress"),
  uploadList: byId("upload-list"),
  uploadAnnounce: byId("upload-announce"),
  uploadStop: byId("upload-stop"),
  uploadDone: byId("upload-done"),
  uploadCode: byId("upload-code"),
  uploadClose: byId("upload-close"),
  returnOpen: byId("return-open"),
  returnPanel: byId("return-panel"),
  returnTitle: byId("return-title"),
  returnCode: byId("return-code"),
  returnClose: byId("return-close"),
  resume: byId("resume"),
  resumeTitle: byId("resume-title"),
  resumeInput: byId("resume-input"),
  resumeProblem: byId("resume-problem"),
  resumeSend: byId("resume-send"),
  resumeCancel: byId("resume-cancel")
};

// How often a message that met an error on our side (`internal`) is sent again by itself, waiting 0.5, 1,
// 2, 4, 8 and 8 s: long enough for a Redis failover or a restarted gateway (docs/reliability.md).
export const INTERNAL_RETRIES = 6;

export const state = {
  troubled: false, // a message met an `internal` error and is being retried: the status says so
  catalog: config.catalog,
  locale: config.locale,
  localeChosen: false, // the child picked a language in the menu (it then wins over the server's)
  socket: null,
  sessionId: null, // from sessionStorage at start (main.js)
  ready: false, // session_state received on the current connection
  conversationState: "bot",
  seen: new Set(),
  contiguous: 0, // highest seq with every seq up to it seen: what a reconnect asks to resume from
  pending: new Map(), // client_id -> {text, node}: not yet acknowledged, resent after reconnect
  payloadTitles: new Map(), // button payload -> title, to show "/takedown_help" as the button's words
  lost: false, // the connection dropped at least once: announce when it comes back
  exiting: false,
  ended: false,
  escapeAt: 0,
  typingTimer: 0,
  connectingSince: 0,
  inflight: null, // client_id of the message sent and not yet acknowledged
  exitFallback: 0,
  place: null, // the newest place in the queue told ({position, wait, seq}), for the status line
  counsellorName: "", // from the counsellor_joined notice: "Sam skriver …"
  typingSentAt: 0, // the child's typing indicator to the counsellor: last "on" sent (throttle)
  typingIdle: 0
};

// The encrypted upload's state; all of it in memory, all of it dropped on exit or when it ends.
export const up = {
  open: false,
  wanted: false, // an upload_request should go out (again after a reconnect) until a grant comes
  grant: null, // the one-time grant from upload_grant; spent by one upload
  sendWhenGranted: false,
  files: [], // the File objects the child picked
  controller: null, // AbortController of the upload under way
  module: null
};

export function byId(id) {
  return document.getElementById(id);
}

export function cssId(value) {
  return String(value).replace(/[^A-Za-z0-9_.:-]/g, "");
}
