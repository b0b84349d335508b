/* The chat inside the widget's iframe: talks to the gateway over socket.io, shows the conversation,
 * and wipes itself on quick exit or end of chat.
 *
 * Device privacy: the only thing kept between page loads is the session id, in sessionStorage (gone
 * when the tab closes). No cookie, no localStorage, no IndexedDB, no Cache API; messages waiting to be
 * sent live in memory only. Files for the encrypted upload are read into memory by /upload/upload.js
 * (no object URL is made for them) and dropped when the upload ends; the case code is only shown. Every string a child sees comes from the widget catalog (locales/). The
 * DOM is built with textContent only (the CSP forbids HTML sinks through Trusted Types).
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("stodchat-config").textContent);
  // Asks the gateway for the extended, compact protocol (docs/protocol.md); without it, Rasa's channel.
  var EXTENSIONS = 1;
  var embedded = window.parent !== window;
  var hostOrigin = config.hostOrigin;

  var el = {
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
  var INTERNAL_RETRIES = 6;

  var state = {
    troubled: false, // a message met an `internal` error and is being retried: the status says so
    catalog: config.catalog,
    locale: config.locale,
    localeChosen: false, // the child picked a language in the menu (it then wins over the server's)
    socket: null,
    sessionId: readSession(),
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
    counsellorName: "", // from the counsellor_joined notice: "Sam skriver …"
    typingSentAt: 0, // the child's typing indicator to the counsellor: last "on" sent (throttle)
    typingIdle: 0
  };

  // The encrypted upload's state; all of it in memory, all of it dropped on exit or when it ends.
  var up = {
    open: false,
    wanted: false, // an upload_request should go out (again after a reconnect) until a grant comes
    grant: null, // the one-time grant from upload_grant; spent by one upload
    sendWhenGranted: false,
    files: [], // the File objects the child picked
    controller: null, // AbortController of the upload under way
    module: null
  };

  // ---- strings -------------------------------------------------------------------------------

  function t(key, params) {
    var text = state.catalog.messages[key];
    if (typeof text !== "string") text = key;
    if (params) {
      text = text.replace(/\{(\w+)\}/g, function (whole, name) {
        return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
      });
    }
    return text;
  }

  function applyStrings() {
    var catalog = state.catalog;
    document.documentElement.lang = catalog.locale;
    document.documentElement.dir = catalog.dir;
    document.querySelectorAll("[data-i18n]").forEach(function (node) {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
    document.querySelectorAll("[data-i18n-label]").forEach(function (node) {
      node.setAttribute("aria-label", t(node.getAttribute("data-i18n-label")));
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (node) {
      node.setAttribute("placeholder", t(node.getAttribute("data-i18n-placeholder")));
    });
    el.language.textContent = "";
    catalog.languages.forEach(function (language) {
      var option = document.createElement("option");
      option.value = language.code;
      option.lang = language.code;
      option.dir = language.dir;
      option.textContent = language.name;
      option.selected = language.code === catalog.locale;
      el.language.appendChild(option);
    });
    el.log.querySelectorAll("[data-who]").forEach(function (node) {
      node.textContent = whoLabel(node.getAttribute("data-who"), node.getAttribute("data-author")) + ": ";
    });
    el.log.querySelectorAll("[data-status]").forEach(function (node) {
      node.textContent = t(node.getAttribute("data-status"));
    });
    el.input.maxLength = config.maxChars;
    var statusKey = el.status.getAttribute("data-status-key");
    if (statusKey) el.status.textContent = t(statusKey);
    showGrantStrings();
    tellHost({ type: "stodchat:ready", title: t("app.frame_title"), exitUrl: config.exitUrl });
    reportLayout();
  }

  function switchLanguage(code) {
    if (code === state.catalog.locale) return Promise.resolve();
    var url = config.catalogUrl.replace("{locale}", encodeURIComponent(code));
    return fetch(url, { credentials: "omit", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("catalog " + response.status);
        return response.json();
      })
      .then(function (catalog) {
        state.catalog = catalog;
        state.locale = catalog.locale;
        applyStrings();
      });
  }

  // ---- layout and the host page --------------------------------------------------------------

  function tellHost(message) {
    // Only to the page that embedded us, never "*": the messages are harmless, the habit is not.
    if (embedded && hostOrigin) window.parent.postMessage(message, hostOrigin);
  }

  function reportLayout() {
    var open = !el.panel.hidden;
    var size = { width: 0, height: 0 };
    if (!open) {
      var box = el.launcherBar.getBoundingClientRect();
      size = { width: Math.ceil(box.width), height: Math.ceil(box.height) };
    }
    tellHost({ type: "stodchat:layout", open: open, width: size.width, height: size.height });
  }

  function openPanel(focus) {
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

  function closePanel() {
    el.panel.hidden = true;
    el.launcherBar.hidden = false;
    el.body.classList.add("is-closed");
    el.launcher.setAttribute("aria-expanded", "false");
    reportLayout();
    el.launcher.focus();
  }

  // ---- session storage (the only thing the device keeps) -------------------------------------

  function readSession() {
    try {
      return window.sessionStorage.getItem(config.storageKey);
    } catch (e) {
      return null; // storage blocked: the chat still works, it just cannot resume after a reload
    }
  }

  function writeSession(id) {
    try {
      window.sessionStorage.setItem(config.storageKey, id);
    } catch (e) {
      /* see readSession */
    }
  }

  function wipeDevice() {
    try {
      window.sessionStorage.clear();
    } catch (e) {
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

  // ---- connection ----------------------------------------------------------------------------

  function connect() {
    if (state.socket || state.exiting) return;
    state.connectingSince = Date.now();
    window.setTimeout(refreshStatus, 1300);
    // Long-polling first, then an upgrade to websocket when the network allows it: school networks
    // that block websockets keep a working chat instead of a broken one.
    var socket = window.io({
      path: config.socketPath,
      transports: ["polling", "websocket"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      timeout: 10000
    });
    state.socket = socket;

    socket.on("connect", function () {
      state.ready = false;
      var request = { last_seq: state.contiguous, locale: state.locale, extensions: EXTENSIONS };
      if (state.sessionId) request.session_id = state.sessionId;
      socket.emit("session_request", request);
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
    socket.on("session_confirm", function (id) {
      if (typeof id !== "string") return;
      state.sessionId = id;
      writeSession(id);
    });
    socket.on("session_state", onSessionState);
    socket.on("history", function (data) {
      (data && Array.isArray(data.entries) ? data.entries : []).forEach(onEntry);
      scrollToEnd();
    });
    socket.on("bot_uttered", function (data) {
      if (!data || typeof data !== "object") return;
      if (data.ephemeral) {
        showNotice(data.text, "system");
        if (Array.isArray(data.quick_replies)) renderReplies(data.quick_replies);
      } else {
        onBubble(data);
      }
      hideTyping();
      scrollToEnd();
    });
    // The compact protocol: one frame per turn, the acknowledgement and every bubble of the answer.
    socket.on("turn", function (data) {
      if (!data || typeof data !== "object") return;
      if (data.ack) onAck(data.ack);
      var entries = Array.isArray(data.entries) ? data.entries : [];
      entries.forEach(function (entry) {
        if (entry && typeof entry === "object") onBubble(entry);
      });
      if (entries.length) {
        hideTyping();
        scrollToEnd();
      }
    });
    socket.on("message_ack", onAck);
    socket.on("error", onError);
    socket.on("upload_grant", onUploadGrant);
    socket.on("return_code", showReturnCode);
    socket.on("typing", function (data) {
      if (!data || data.role !== "counsellor") return;
      if (data.on === true) showTyping("counsellor");
      else hideTyping();
    });
    socket.on("session_ended", function () {
      if (!state.exiting && !state.ended) showEnded();
    });
  }

  function onSessionState(data) {
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
    if (state.ended) return;
    if (data.locale && data.locale !== state.locale) {
      if (state.localeChosen) {
        state.socket.emit("set_locale", { locale: state.locale });
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
    if (up.wanted) state.socket.emit("upload_request", {});
  }

  function refreshStatus() {
    if (state.exiting || state.ended) return;
    if (state.socket && !state.ready && state.lost) {
      setStatus(navigator.onLine === false ? "status.offline" : "status.reconnecting");
    } else if (state.socket && !state.ready && Date.now() - state.connectingSince > 1200) {
      setStatus("status.connecting"); // only when starting is slow: no flicker on a good network
    }
    el.body.classList.toggle("is-offline", !state.ready);
  }

  function setStatus(key) {
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

  // ---- transcript ----------------------------------------------------------------------------

  function whoLabel(role, author) {
    if (role === "child") return t("who.you");
    if (role === "counsellor" && author) return t("who.counsellor", { name: author });
    if (role === "system") return t("who.system");
    return t("who.bot");
  }

  function followNotice(notice) {
    // Live hand-off notices move the conversation between bot and counsellor (a replayed one is old news:
    // session_state already told the current state).
    if (!notice || typeof notice !== "object") return;
    if (notice.type === "counsellor_joined") state.conversationState = "counsellor";
    if (["conversation_ended", "handoff_closed", "hours_unknown"].indexOf(notice.type) >= 0) state.conversationState = "bot";
    if (notice.type === "queue_update" || notice.type === "counsellor_lost") state.conversationState = "queued";
  }

  function markSeen(seq) {
    if (typeof seq !== "number" || seq < 1) return;
    state.seen.add(seq);
    while (state.seen.has(state.contiguous + 1)) state.contiguous += 1;
  }

  function onEntry(entry) {
    if (!entry || typeof entry !== "object" || typeof entry.seq !== "number") return;
    if (state.seen.has(entry.seq)) return; // delivered twice (a replay after reconnect): show once
    if (Array.isArray(entry.quick_replies)) {
      entry.quick_replies.forEach(function (reply) {
        if (reply && typeof reply.payload === "string") state.payloadTitles.set(reply.payload, reply.title);
      });
    }
    if (entry.notice && entry.notice.type === "counsellor_joined" && typeof entry.notice.name === "string") {
      state.counsellorName = entry.notice.name;
    }
    if (entry.role === "child") {
      var mine = entry.client_id ? el.log.querySelector('[data-client-id="' + cssId(entry.client_id) + '"]') : null;
      markSeen(entry.seq);
      if (mine) {
        settle(mine, entry.seq);
        state.pending.delete(entry.client_id);
        return;
      }
      var text = entry.text;
      if (typeof text === "string" && text.charAt(0) === "/" && state.payloadTitles.has(text)) {
        text = state.payloadTitles.get(text);
      }
      insertMessage(makeMessage("child", text, null), entry.seq);
      clearReplies();
      return;
    }
    markSeen(entry.seq);
    var node = insertMessage(makeMessage(entry.role, entry.text, entry.author), entry.seq);
    if (entry.notice && entry.notice.type === "upload_offer" && Array.isArray(entry.quick_replies)) {
      // A counsellor's offer keeps its button in the message: they may well write more after it.
      addOfferButton(node, entry.quick_replies);
      if (isLast(entry.seq)) clearReplies();
    } else if (Array.isArray(entry.quick_replies) && entry.quick_replies.length && isLast(entry.seq)) {
      renderReplies(entry.quick_replies);
    } else if (isLast(entry.seq)) {
      clearReplies();
    }
  }

  function addOfferButton(node, replies) {
    replies.forEach(function (reply) {
      if (!reply || reply.payload !== config.uploadPayload || typeof reply.title !== "string") return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-reply msg-action";
      button.textContent = reply.title;
      button.addEventListener("click", openUpload);
      node.appendChild(button);
    });
  }

  function isLast(seq) {
    var last = 0;
    state.seen.forEach(function (s) {
      if (s > last) last = s;
    });
    return seq >= last;
  }

  function makeMessage(role, text, author) {
    var item = document.createElement("div");
    item.className = "msg msg--" + (role === "child" ? "child" : role === "counsellor" ? "counsellor" : role === "system" ? "system" : "bot");
    var who = document.createElement("span");
    who.className = role === "counsellor" && author ? "who" : "who visually-hidden";
    who.setAttribute("data-who", role);
    if (author) who.setAttribute("data-author", author);
    who.textContent = whoLabel(role, author) + ": ";
    var bubble = document.createElement("p");
    bubble.className = "bubble";
    bubble.dir = "auto"; // a child may write Swedish in an Arabic widget, or the other way round
    fillBubble(bubble, String(text == null ? "" : text), role !== "child");
    item.appendChild(who);
    item.appendChild(bubble);
    return item;
  }

  // Help-line numbers in the bot's and counsellors' messages become tel: links. Only these exact
  // numbers (112, BRIS 116 111, Självmordslinjen 90101, the police 114 14), found in plain text, ever
  // become links: nothing in a message is read as HTML or as a URL. Each number is isolated
  // left-to-right (<bdi dir="ltr">), so "116 111" reads the same inside Arabic (right-to-left) text.
  var PHONE = /(^|[^\d])(112|116 ?111|90101|114 ?14)(?![\d])/g;

  function fillBubble(bubble, text, links) {
    bubble.textContent = "";
    var last = 0;
    var match;
    PHONE.lastIndex = 0;
    while (links && (match = PHONE.exec(text)) !== null) {
      var start = match.index + match[1].length;
      if (start > last) bubble.appendChild(document.createTextNode(text.slice(last, start)));
      var isolate = document.createElement("bdi");
      isolate.dir = "ltr";
      var link = document.createElement("a");
      link.className = "tel";
      link.href = "tel:" + match[2].replace(/ /g, "");
      link.textContent = match[2];
      isolate.appendChild(link);
      bubble.appendChild(isolate);
      last = start + match[2].length;
    }
    if (last < text.length) bubble.appendChild(document.createTextNode(text.slice(last)));
  }

  function insertMessage(node, seq) {
    if (typeof seq === "number") {
      node.setAttribute("data-seq", String(seq));
      // Keep log order: before the first message with a higher seq, or before the ones still pending.
      var children = el.log.children;
      for (var i = 0; i < children.length; i += 1) {
        var other = children[i];
        var otherSeq = other.getAttribute("data-seq");
        if ((otherSeq && Number(otherSeq) > seq) || other.classList.contains("is-pending")) {
          el.log.insertBefore(node, other);
          return node;
        }
      }
    }
    el.log.appendChild(node);
    return node;
  }

  function showNotice(text, role) {
    var node = makeMessage(role || "system", text, null);
    node.classList.add("msg--notice");
    el.log.appendChild(node);
    scrollToEnd();
    return node;
  }

  function clearTranscript() {
    el.log.textContent = "";
    state.seen.clear();
    state.contiguous = 0;
    state.payloadTitles.clear();
    clearReplies();
    hideTyping();
    state.pending.forEach(function (item) {
      el.log.appendChild(item.node); // what the child wrote and we have not stored yet stays visible
    });
  }

  function renderReplies(replies) {
    el.replies.textContent = "";
    replies.forEach(function (reply) {
      if (!reply || typeof reply.title !== "string" || typeof reply.payload !== "string") return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-reply";
      button.textContent = reply.title;
      button.addEventListener("click", function () {
        // The upload's button opens the panel here; it is not a message (docs/protocol.md).
        if (reply.payload === config.uploadPayload) openUpload();
        else if (reply.payload === config.leavePayload) leaveForCounsellor();
        else sendMessage(reply.payload, reply.title);
      });
      el.replies.appendChild(button);
    });
    el.replies.hidden = el.replies.children.length === 0;
  }

  function clearReplies() {
    el.replies.textContent = "";
    el.replies.hidden = true;
  }

  function scrollToEnd() {
    window.requestAnimationFrame(function () {
      el.scroll.scrollTop = el.scroll.scrollHeight;
    });
  }

  function showTyping(who) {
    // The bot "types" while it answers; a counsellor's typing comes from the gateway (never their text).
    if (who !== "counsellor" && state.conversationState !== "bot") return;
    var label = el.typing.querySelector("[data-i18n]");
    label.textContent = who === "counsellor" && state.counsellorName ? t("typing.counsellor", { name: state.counsellorName }) : t("typing");
    el.typing.hidden = false;
    window.clearTimeout(state.typingTimer);
    state.typingTimer = window.setTimeout(hideTyping, who === "counsellor" ? 10000 : 8000);
    scrollToEnd();
  }

  function childTyping() {
    // Only the fact of typing goes to the counsellor, at most every 3 s, and "stopped" after 3 s idle.
    if (state.conversationState !== "counsellor" || !state.ready || !state.socket) return;
    var now = Date.now();
    if (now - state.typingSentAt > 3000) {
      state.typingSentAt = now;
      state.socket.emit("typing", { on: true });
    }
    window.clearTimeout(state.typingIdle);
    state.typingIdle = window.setTimeout(childStoppedTyping, 3000);
  }

  function childStoppedTyping() {
    window.clearTimeout(state.typingIdle);
    if (!state.typingSentAt) return;
    state.typingSentAt = 0;
    if (state.socket && state.ready) state.socket.emit("typing", { on: false });
  }

  function hideTyping() {
    el.typing.hidden = true;
    window.clearTimeout(state.typingTimer);
  }

  // ---- sending -------------------------------------------------------------------------------

  function newClientId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return "w-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function sendMessage(text, shown) {
    if (state.ended || state.exiting) return;
    var message = String(text).trim();
    if (!message) {
      showNotice(t("error.empty_message"));
      return;
    }
    if (message.length > config.maxChars) {
      showNotice(t("error.message_too_long", { limit: config.maxChars }));
      return;
    }
    childStoppedTyping();
    var clientId = newClientId();
    var node = makeMessage("child", shown || message, null);
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

  function emitMessage(clientId) {
    var item = state.pending.get(clientId);
    if (!item || !state.socket || !state.ready) return;
    state.inflight = clientId;
    state.socket.emit("user_uttered", { message: item.text, client_id: clientId, session_id: state.sessionId });
    showTyping();
  }

  function flushPending() {
    // One message in flight at a time, in the order they were written: the server handles events
    // concurrently, so two sent at once could be stored the other way round. Each client_id is
    // stored once, so a resend after a lost acknowledgement is harmless.
    if (state.inflight || !state.ready) return;
    var next = null;
    state.pending.forEach(function (item, clientId) {
      // A failed message waits for its "try again" button; a rate-limited one holds back those after it.
      if (next === null && !item.node.classList.contains("is-failed")) next = clientId;
    });
    if (next !== null && !state.pending.get(next).waiting) emitMessage(next);
  }

  function setMessageStatus(node, key, retry) {
    var old = node.querySelector(".msg-status");
    if (old) old.remove();
    if (!key) return;
    var status = document.createElement("span");
    status.className = "msg-status";
    var label = document.createElement("span");
    label.setAttribute("data-status", key);
    label.textContent = t(key);
    status.appendChild(label);
    if (retry) {
      var button = document.createElement("button");
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

  function settle(node, seq) {
    node.classList.remove("is-pending", "is-failed");
    node.setAttribute("data-seq", String(seq));
    setMessageStatus(node, null);
  }

  function onBubble(data) {
    followNotice(data.notice);
    onEntry(data);
  }

  function onAck(ack) {
    if (!ack || typeof ack.client_id !== "string") return;
    var item = state.pending.get(ack.client_id);
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

  function onError(error) {
    if (!error || typeof error !== "object") return;
    var code = typeof error.code === "string" ? error.code : "internal";
    if (code.indexOf("return_code_") === 0) {
      // The answer to resume_code: shown in the code form; each answer depends only on what was typed.
      var codeKey = "error." + code;
      showResumeProblem(t(codeKey));
      return;
    }
    if (code === "uploads_unavailable" || code === "upload_limit" || code === "uploads_full") {
      // The answer to upload_request: shown in the upload panel, not against a message.
      uploadRefused(code);
      return;
    }
    // An error without a client_id (e.g. "internal") concerns the message in flight, if any.
    var clientId = typeof error.client_id === "string" ? error.client_id : code !== "no_session" ? state.inflight : null;
    var item = clientId ? state.pending.get(clientId) : null;
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
      if (state.socket && state.socket.connected) state.socket.emit("session_request", { session_id: state.sessionId, last_seq: state.contiguous, locale: state.locale, extensions: EXTENSIONS });
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
        if (state.socket && state.socket.connected && !state.ready) state.socket.emit("session_request", { session_id: state.sessionId, last_seq: state.contiguous, locale: state.locale, extensions: EXTENSIONS });
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
    var key = "error." + code;
    showNotice(t(Object.prototype.hasOwnProperty.call(state.catalog.messages, key) ? key : "error.internal", { limit: error.limit || config.maxChars }));
  }

  // ---- encrypted upload -----------------------------------------------------------------------

  function openUpload() {
    if (state.ended || state.exiting) return;
    up.open = true;
    resetUploadForm();
    showUploadStep("form");
    el.conversation.hidden = true;
    el.upload.hidden = false;
    el.uploadTitle.focus();
    if (!grantUsable()) askForGrant();
  }

  function askForGrant() {
    up.wanted = true;
    if (state.socket && state.ready) state.socket.emit("upload_request", {});
    else connect(); // sent from onSessionState once the session is back
  }

  function grantUsable() {
    // A minute of margin: the grant must still be valid when the files have been hashed.
    return Boolean(up.grant) && Date.now() < up.grant.expires - 60000;
  }

  function onUploadGrant(data) {
    if (!data || typeof data.grant !== "string" || typeof data.expires !== "number") return;
    up.wanted = false;
    up.grant = data;
    showGrantStrings();
    if (up.sendWhenGranted && up.open) {
      up.sendWhenGranted = false;
      sendUpload();
    }
  }

  function showGrantStrings() {
    // The words that carry the grant's numbers; again after a switch of language.
    var data = up.grant;
    if (!data) return;
    el.uploadKeep.textContent = t("upload.intro.keep", { days: data.keep_days, hash_days: data.hash_days });
    el.uploadKeep.hidden = false;
    el.uploadLimits.textContent = t("upload.files.limits", { count: data.max_files, size: formatSize(data.max_file_bytes) });
  }

  function uploadRefused(code) {
    up.wanted = false;
    up.sendWhenGranted = false;
    el.uploadSend.disabled = false;
    var text = code === "upload_limit" ? t("error.upload_limit") : code === "uploads_full" ? t("error.uploads_full") : t("error.uploads_unavailable");
    if (up.open) showUploadProblem(text);
    else showNotice(text);
  }

  function resetUploadForm() {
    el.uploadForm.querySelectorAll('input[name="upload-age"]').forEach(function (radio) {
      radio.checked = false;
    });
    el.uploadConsent.checked = false;
    dropFiles();
    showUploadProblem("");
    el.uploadSend.disabled = false;
    el.uploadKeep.hidden = !up.grant;
  }

  function dropFiles() {
    // The only references to the child's files: gone, and the picker forgets its selection.
    up.files = [];
    el.uploadFiles.value = "";
    el.uploadChosen.textContent = "";
  }

  function showUploadStep(step) {
    el.uploadForm.hidden = step !== "form";
    el.uploadProgress.hidden = step !== "progress";
    el.uploadDone.hidden = step !== "done";
  }

  function showUploadProblem(text) {
    el.uploadProblem.textContent = text;
    el.uploadProblem.hidden = !text;
  }

  function formatSize(bytes) {
    var megabytes = Math.max(1, Math.round(Number(bytes) / (1024 * 1024)));
    var number;
    try {
      number = new Intl.NumberFormat(state.catalog.locale).format(megabytes);
    } catch (e) {
      number = String(megabytes);
    }
    return t("upload.size_mb", { number: number });
  }

  function onFilesChosen() {
    up.files = Array.prototype.slice.call(el.uploadFiles.files || []);
    el.uploadChosen.textContent = "";
    up.files.forEach(function (file) {
      var item = document.createElement("li");
      item.dir = "auto";
      item.textContent = file.name;
      el.uploadChosen.appendChild(item);
    });
    showUploadProblem(filesProblem() || "");
  }

  function chosenAgeBand() {
    var checked = el.uploadForm.querySelector('input[name="upload-age"]:checked');
    return checked ? checked.value : "";
  }

  function filesProblem() {
    // Checked before a byte is read, against the grant's limits (the server checks them again).
    var files = up.files;
    if (!files.length) return t("upload.problem.no_files");
    for (var i = 0; i < files.length; i += 1) {
      var type = files[i].type || "";
      if (type && type.indexOf("image/") !== 0 && type.indexOf("video/") !== 0) return t("upload.error.not_media");
    }
    var limits = up.grant;
    if (!limits) return "";
    if (files.length > limits.max_files) return t("upload.error.too_many_files", { count: limits.max_files });
    var total = 0;
    for (var j = 0; j < files.length; j += 1) {
      if (files[j].size > limits.max_file_bytes) return t("upload.error.file_too_big", { size: formatSize(limits.max_file_bytes) });
      total += files[j].size;
    }
    if (total > limits.max_total_bytes) return t("upload.error.upload_too_big", { size: formatSize(limits.max_total_bytes) });
    return "";
  }

  function formProblem() {
    if (!chosenAgeBand()) return { text: t("upload.problem.age"), focus: el.uploadForm.querySelector('input[name="upload-age"]') };
    if (!el.uploadConsent.checked) return { text: t("upload.problem.consent"), focus: el.uploadConsent };
    var files = filesProblem();
    return files ? { text: files, focus: el.uploadFiles } : null;
  }

  function onSendClick() {
    var problem = formProblem();
    if (problem) {
      showUploadProblem(problem.text);
      problem.focus.focus();
      return;
    }
    showUploadProblem("");
    if (!grantUsable()) {
      up.grant = null;
      up.sendWhenGranted = true;
      el.uploadSend.disabled = true; // until the grant comes (or is refused)
      askForGrant();
      return;
    }
    sendUpload();
  }

  function sendUpload() {
    var problem = formProblem(); // the limits may have come with the grant just now
    el.uploadSend.disabled = false;
    if (problem) {
      showUploadProblem(problem.text);
      problem.focus.focus();
      return;
    }
    var grant = up.grant;
    up.grant = null; // one upload spends it
    var files = up.files;
    var ageBand = chosenAgeBand();
    var rows = files.map(makeProgressRow);
    showUploadStep("progress");
    el.uploadTitle.focus();
    announce(t("upload.announce.start", { count: files.length }));
    var controller = new AbortController();
    up.controller = controller;
    loadUploadModule()
      .then(function (module) {
        return module.uploadFiles(grant.grant, files, {
          ageBand: ageBand,
          consent: true,
          signal: controller.signal,
          // About five minutes of patience for a dropped connection before giving up.
          maxRetries: 20,
          onProgress: function (progress) {
            showProgress(rows, progress);
          }
        });
      })
      .then(
        function (result) {
          if (up.controller !== controller) return;
          up.controller = null;
          dropFiles();
          showCaseCode(result.caseCode);
        },
        function (error) {
          if (up.controller !== controller) return; // cancelled: the panel is already closed
          up.controller = null;
          uploadFailed(error);
        }
      );
  }

  function loadUploadModule() {
    // The upload code (crypto.js, pdq.js) loads only when a child sends something.
    if (!up.module) up.module = import(config.uploadUrl);
    return up.module;
  }

  function makeProgressRow(file, index) {
    var item = document.createElement("li");
    item.className = "upload-file";
    var name = document.createElement("span");
    name.className = "upload-file-name";
    name.id = "upload-file-" + index;
    name.dir = "auto";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.setAttribute("aria-labelledby", name.id);
    var status = document.createElement("span");
    status.className = "upload-file-status";
    status.textContent = t("upload.phase.waiting");
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(status);
    el.uploadList.appendChild(item);
    return { name: file.name, bar: bar, status: status, phase: "waiting" };
  }

  function showProgress(rows, progress) {
    if (!progress) return;
    if (progress.phase === "done") {
      rows.forEach(function (row) {
        setRowPhase(row, "done", t("upload.phase.done"));
        row.bar.value = 100;
      });
      return;
    }
    var index = typeof progress.file === "number" ? progress.file : -1;
    var row = rows[index];
    if (!row) return;
    // Every file before this one is through the same phase.
    rows.slice(0, index).forEach(function (earlier) {
      if (progress.phase === "uploading" && earlier.phase !== "done") {
        earlier.bar.value = 100;
        setRowPhase(earlier, "done", t("upload.phase.done"));
      }
    });
    if (progress.phase === "hashing") {
      row.bar.removeAttribute("value"); // an indeterminate bar while the file is read and fingerprinted
      setRowPhase(row, "hashing", t("upload.phase.hashing"));
    } else if (progress.phase === "uploading") {
      var percent = progress.fileTotal ? Math.floor((100 * progress.fileDone) / progress.fileTotal) : 0;
      row.bar.value = percent;
      setRowPhase(row, "uploading", t("upload.phase.uploading", { percent: percent }));
    } else if (progress.phase === "retrying") {
      setRowPhase(row, "retrying", t("upload.phase.retrying"));
    }
  }

  function setRowPhase(row, phase, text) {
    row.status.textContent = text;
    if (row.phase === phase) return;
    row.phase = phase;
    // Only changes of phase are read out, not every percent.
    announce(t("upload.announce.file", { name: row.name, status: phase === "uploading" ? t("upload.phase.sending") : text }));
  }

  function announce(text) {
    el.uploadAnnounce.textContent = text;
  }

  function showCaseCode(code) {
    el.uploadList.textContent = "";
    el.uploadCode.textContent = String(code);
    showUploadStep("done");
    el.uploadDone.querySelector(".upload-lead").focus();
  }

  function uploadFailed(error) {
    var code = error && typeof error.code === "string" ? error.code : "";
    var text;
    if (code === "too_many_files" || code === "file_too_big" || code === "upload_too_big") {
      var limit = error.info && error.info.limit;
      text = code === "too_many_files" ? t("upload.error.too_many_files", { count: limit || "" }) : code === "file_too_big" ? t("upload.error.file_too_big", { size: formatSize(limit || 0) }) : t("upload.error.upload_too_big", { size: formatSize(limit || 0) });
    } else if (code === "uploads_full") {
      text = t("error.uploads_full");
    } else if (code === "grant_expired" || code === "grant_used" || code === "grant_invalid" || code === "conversation_ended") {
      text = t("upload.error.expired");
    } else if (code === "network" || code.indexOf("http_5") === 0) {
      text = t("upload.error.network");
    } else if (code === "uploads_disabled") {
      text = t("error.uploads_unavailable");
    } else {
      text = t("upload.error.failed");
    }
    el.uploadList.textContent = "";
    showUploadStep("form");
    showUploadProblem(text);
    el.uploadSend.focus();
  }

  function closeUpload() {
    up.open = false;
    up.sendWhenGranted = false;
    dropFiles();
    el.uploadList.textContent = "";
    el.uploadCode.textContent = ""; // the code is on paper now, or nowhere
    announce("");
    el.upload.hidden = true;
    el.conversation.hidden = false;
    scrollToEnd();
    el.input.focus();
  }

  function cancelUpload() {
    var running = up.controller;
    up.controller = null;
    if (running) {
      running.abort(); // upload.js stops and asks the server to discard what arrived
      closeUpload();
      showNotice(t("upload.cancelled"));
    } else {
      closeUpload();
    }
  }

  function wipeUpload() {
    if (up.controller) up.controller.abort();
    up.controller = null;
    up.grant = null;
    up.wanted = false;
    if (up.open) closeUpload();
    dropFiles();
  }

  // ---- leaving the chat for the counsellors, and the return code ----------------------------

  function leaveForCounsellor() {
    if (state.ended || state.exiting || !state.socket || !state.ready) return;
    clearReplies();
    state.socket.emit("leave_request", {});
  }

  function showReturnCode(data) {
    if (!data || typeof data.code !== "string" || state.ended || state.exiting) return;
    // Shown once and kept nowhere: not in storage, not in the transcript; gone when the panel closes.
    el.returnCode.textContent = data.code;
    el.conversation.hidden = true;
    el.returnPanel.hidden = false;
    el.returnTitle.focus();
  }

  function closeReturnCode() {
    el.returnCode.textContent = "";
    el.returnPanel.hidden = true;
    el.conversation.hidden = false;
    scrollToEnd();
    el.input.focus();
  }

  function openResume() {
    if (state.ended || state.exiting) return;
    el.resumeInput.value = "";
    el.resumeProblem.hidden = true;
    el.conversation.hidden = true;
    el.resume.hidden = false;
    el.resumeTitle.focus();
    connect();
  }

  function closeResume() {
    if (el.resume.hidden) return;
    el.resumeInput.value = "";
    el.resume.hidden = true;
    el.conversation.hidden = false;
    scrollToEnd();
    el.input.focus();
  }

  function sendResume() {
    var code = el.resumeInput.value.trim();
    if (!code) {
      el.resumeInput.focus();
      return;
    }
    el.resumeProblem.hidden = true;
    if (state.socket && state.socket.connected) state.socket.emit("resume_code", { code: code });
    else showResumeProblem(t("status.reconnecting"));
  }

  function showResumeProblem(text) {
    el.resumeProblem.textContent = text;
    el.resumeProblem.hidden = false;
    el.resumeInput.focus();
  }

  // ---- end chat and quick exit ---------------------------------------------------------------

  // reason: "quick_exit" or "end_chat", so the counsellor's console can say how the child left.
  function endOnServer(reason) {
    var id = state.sessionId;
    if (!id) return;
    // The beacon reaches the server even while the page goes away or the socket is down.
    var sent = false;
    try {
      sent = navigator.sendBeacon(config.endUrl, new Blob([id], { type: "text/plain" }));
    } catch (e) {
      sent = false;
    }
    if (state.socket && state.socket.connected) state.socket.emit("end_session", { reason: reason });
    else if (!sent) {
      fetch(config.endUrl, { method: "POST", body: id, keepalive: true, credentials: "omit" }).catch(function () {});
    }
  }

  function showEnded() {
    state.ended = true;
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

  function restart() {
    state.ended = false;
    el.ended.hidden = true;
    el.conversation.hidden = false;
    el.composeRow.hidden = false;
    el.endRow.hidden = false;
    connect();
    el.input.focus();
  }

  function askToEnd() {
    el.confirm.hidden = false;
    el.composeRow.hidden = true;
    el.endRow.hidden = true;
    el.confirmNo.focus();
  }

  function cancelEnd() {
    el.confirm.hidden = true;
    el.composeRow.hidden = false;
    el.endRow.hidden = false;
    el.end.focus();
  }

  function quickExit() {
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

  function leaveFromFrame() {
    try {
      window.top.location.replace(config.exitUrl);
    } catch (e) {
      window.location.replace(config.exitUrl);
    }
  }

  // ---- wiring --------------------------------------------------------------------------------

  function byId(id) {
    return document.getElementById(id);
  }

  function cssId(value) {
    return String(value).replace(/[^A-Za-z0-9_.:-]/g, "");
  }

  document.querySelectorAll('[data-action="quick-exit"]').forEach(function (button) {
    button.addEventListener("click", quickExit);
  });
  el.launcher.addEventListener("click", function () {
    openPanel(true);
  });
  el.hide.addEventListener("click", closePanel);
  el.send.addEventListener("click", function () {
    var text = el.input.value;
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
    var code = el.language.value;
    state.localeChosen = true;
    switchLanguage(code)
      .then(function () {
        if (state.socket && state.ready) state.socket.emit("set_locale", { locale: code });
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
    var now = Date.now();
    if (now - state.escapeAt < 1500) {
      event.preventDefault();
      quickExit();
    }
    state.escapeAt = now;
  });

  window.addEventListener("message", function (event) {
    if (!embedded || event.source !== window.parent || event.origin !== hostOrigin) return;
    var data = event.data;
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
})();
