/* The chat inside the widget's iframe: talks to the gateway over socket.io, shows the conversation,
 * and wipes itself on quick exit or end of chat.
 *
 * Device privacy: the only thing kept between page loads is the session id, in sessionStorage (gone
 * when the tab closes). No cookie, no localStorage, no IndexedDB, no Cache API; messages waiting to be
 * sent live in memory only. Every string a child sees comes from the widget catalog (locales/). The
 * DOM is built with textContent only (the CSP forbids HTML sinks through Trusted Types).
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("stodchat-config").textContent);
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
    restart: byId("restart")
  };

  var state = {
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
    exitFallback: 0
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
      var request = { last_seq: state.contiguous, locale: state.locale };
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
        onEntry(data);
      }
      hideTyping();
      scrollToEnd();
    });
    socket.on("message_ack", onAck);
    socket.on("error", onError);
    socket.on("session_ended", function () {
      if (!state.exiting && !state.ended) showEnded();
    });
  }

  function onSessionState(data) {
    if (!data || typeof data !== "object") return;
    if (!data.resumed && state.seen.size > 0) {
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
    setStatus(state.lost ? "status.connected" : "");
    state.lost = false;
    flushPending();
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
    insertMessage(makeMessage(entry.role, entry.text, entry.author), entry.seq);
    if (Array.isArray(entry.quick_replies) && entry.quick_replies.length && isLast(entry.seq)) {
      renderReplies(entry.quick_replies);
    } else if (isLast(entry.seq)) {
      clearReplies();
    }
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
    bubble.textContent = String(text == null ? "" : text);
    item.appendChild(who);
    item.appendChild(bubble);
    return item;
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
        sendMessage(reply.payload, reply.title);
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

  function showTyping() {
    if (state.conversationState !== "bot") return; // a counsellor's typing is not known to us
    el.typing.hidden = false;
    window.clearTimeout(state.typingTimer);
    state.typingTimer = window.setTimeout(hideTyping, 8000);
    scrollToEnd();
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
    flushPending();
  }

  function onError(error) {
    if (!error || typeof error !== "object") return;
    var code = typeof error.code === "string" ? error.code : "internal";
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
    if (code === "no_session") {
      if (state.socket && state.socket.connected) state.socket.emit("session_request", { session_id: state.sessionId, last_seq: state.contiguous, locale: state.locale });
      return;
    }
    if (code === "conversation_ended") {
      showEnded();
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

  // ---- end chat and quick exit ---------------------------------------------------------------

  function endOnServer() {
    var id = state.sessionId;
    if (!id) return;
    // The beacon reaches the server even while the page goes away or the socket is down.
    var sent = false;
    try {
      sent = navigator.sendBeacon(config.endUrl, new Blob([id], { type: "text/plain" }));
    } catch (e) {
      sent = false;
    }
    if (state.socket && state.socket.connected) state.socket.emit("end_session", {});
    else if (!sent) {
      fetch(config.endUrl, { method: "POST", body: id, keepalive: true, credentials: "omit" }).catch(function () {});
    }
  }

  function showEnded() {
    state.ended = true;
    endOnServer();
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
    endOnServer();
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
  el.end.addEventListener("click", askToEnd);
  el.confirmNo.addEventListener("click", cancelEnd);
  el.confirmYes.addEventListener("click", showEnded);
  el.restart.addEventListener("click", restart);

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
