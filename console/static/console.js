// Live parts of the console pages. Served from the console itself (CSP: script-src 'self'); never
// innerHTML: every text a child wrote goes into the page through textContent only.
(function () {
  "use strict";
  const page = document.body.getAttribute("data-page");
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  if (!window.io || !["queue", "conversation", "overview"].includes(page)) return;

  const socket = window.io("/staff", { path: "/socket.io/", transports: ["websocket", "polling"] });
  const alertBox = document.getElementById("alert");
  // The page's texts in the reader's language (base.html renders them from console.po).
  const texts = window.consoleTexts || {};
  function t(key, values) {
    let text = texts[key] || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("%(" + k + ")s").join(String(values[k])); });
    return text;
  }
  function minutes(seconds) { return t("minutes", { minutes: Math.floor(seconds / 60) }); }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showAlert(text) {
    if (!alertBox) return;
    alertBox.textContent = text;
    alertBox.hidden = false;
  }

  let me = "";
  socket.on("hello", function (data) { me = data.name; });

  socket.on("urgent", function (data) {
    const here = document.getElementById("conversation");
    const watching = here && here.getAttribute("data-conv") === data.conv_id;
    if (data.state === "counsellor") {
      // A crisis in a chat she has: unmissable, wherever she is in the console.
      if (data.counsellor !== me && !watching) return;
      showAlert(t("urgent_mine", { conv: data.conv_id.slice(0, 8) }));
      const mark = document.getElementById("urgent-mark");
      if (watching && mark) mark.hidden = false;
    } else {
      showAlert(t("urgent_queue"));
    }
    document.title = "(!) " + document.title.replace(/^\(!\) /, "");
  });
  socket.on("error", function (e) {
    if (e && e.code === "unauthorised") window.location.assign("/login");
  });
  socket.on("connect_error", function () { /* the client retries on its own */ });

  // Queue page -------------------------------------------------------------------------------------
  if (page === "queue") {
    const rows = document.getElementById("queue-rows");
    const empty = document.getElementById("queue-empty");
    const count = document.getElementById("queue-count");
    socket.on("queue", function (snapshot) {
      while (rows.firstChild) rows.removeChild(rows.firstChild);
      snapshot.items.forEach(function (item) {
        const tr = el("tr", { "data-conv": item.conv_id, class: item.urgent ? "urgent" : "" });
        tr.appendChild(el("td", {}, item.position + (item.urgent ? " · " + t("urgent") : "")));
        tr.appendChild(el("td", { class: "waited", "data-waited": String(item.waited_s) }, minutes(item.waited_s)));
        tr.appendChild(el("td", {}, item.intents.join(", ") || "–"));
        tr.appendChild(el("td", {}, item.locale));
        const td = el("td");
        const form = el("form", { method: "post", action: "/conversations/" + item.conv_id + "/claim", class: "inline claim" });
        form.appendChild(el("input", { type: "hidden", name: "csrf", value: csrf }));
        form.appendChild(el("button", { type: "submit", class: "primary" }, t("take")));
        td.appendChild(form);
        td.appendChild(el("a", { href: "/conversations/" + item.conv_id }, t("look")));
        tr.appendChild(td);
        rows.appendChild(tr);
      });
      empty.hidden = snapshot.items.length > 0;
      count.textContent = "(" + snapshot.items.length + ")";
      // The out-of-hours list: conversations left for the counsellors, which join the queue at opening.
      const heldRows = document.getElementById("held-rows");
      const held = snapshot.out_of_hours || [];
      if (heldRows) {
        while (heldRows.firstChild) heldRows.removeChild(heldRows.firstChild);
        held.forEach(function (item) {
          const tr = el("tr", { "data-conv": item.conv_id, class: item.urgent ? "urgent" : "" });
          tr.appendChild(el("td", {}, item.position + (item.urgent ? " · urgent" : "")));
          tr.appendChild(el("td", { class: "left-ago" }, Math.floor(item.left_s / 3600) + " h " + Math.floor((item.left_s % 3600) / 60) + " min"));
          tr.appendChild(el("td", {}, item.intents.join(", ") || "–"));
          tr.appendChild(el("td", {}, item.locale));
          const cell = el("td");
          cell.appendChild(el("a", { href: "/conversations/" + item.conv_id }, "Look"));
          tr.appendChild(cell);
          heldRows.appendChild(tr);
        });
        document.getElementById("held-empty").hidden = held.length > 0;
        document.getElementById("held-count").textContent = "(" + held.length + ")";
      }
      const load = document.getElementById("my-load");
      snapshot.on_shift.forEach(function (s) {
        if (load && s.name === load.getAttribute("data-me")) {
          load.textContent = t("load", { load: s.load, cap: s.capacity });
        }
      });
    });
    // The child left one of my chats: it says so at once, and links to the categorisation.
    socket.on("conversation", function (data) {
      if (!data.left || !me || data.counsellor !== me) return;
      const chats = document.getElementById("my-chats");
      let li = chats.querySelector('li[data-conv="' + data.conv_id + '"]');
      if (!li) {
        li = el("li", { "data-conv": data.conv_id });
        li.appendChild(el("a", { href: "/conversations/" + data.conv_id }, data.conv_id.slice(0, 8)));
        chats.insertBefore(li, document.getElementById("my-chats-none"));
      }
      if (li.classList.contains("left")) return;
      li.classList.add("left");
      li.querySelectorAll(".urgent").forEach(function (n) { n.remove(); });
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", { class: "left-note" }, t("child_left")));
      li.appendChild(document.createTextNode(" "));
      if (data.state === "ended") li.appendChild(el("a", { href: "/conversations/" + data.conv_id + "/done" }, t("categorise")));
      document.getElementById("my-chats-none").hidden = true;
      showAlert(t("child_left_mine"));
    });
    setInterval(function () {
      rows.querySelectorAll(".waited").forEach(function (cell) {
        const s = Number(cell.getAttribute("data-waited")) + 5;
        cell.setAttribute("data-waited", String(s));
        cell.textContent = minutes(s);
      });
    }, 5000);
  }

  // Supervisor overview: queue length and who is on shift, live ------------------------------------
  if (page === "overview") {
    const length = document.getElementById("queue-length");
    const body = document.querySelector("#on-shift tbody");
    const urgentBody = document.querySelector("#urgent-waiting tbody");
    const urgentCount = document.getElementById("urgent-count");
    socket.on("queue", function (snapshot) {
      length.textContent = String(snapshot.items.length);
      const urgent = snapshot.items.filter(function (i) { return i.urgent; });
      urgentCount.textContent = String(urgent.length);
      while (urgentBody.firstChild) urgentBody.removeChild(urgentBody.firstChild);
      urgent.forEach(function (item) {
        const tr = el("tr", { "data-conv": item.conv_id, class: "urgent" });
        tr.appendChild(el("td", {}, String(item.position)));
        tr.appendChild(el("td", { class: "waited", "data-waited": String(item.waited_s) }, minutes(item.waited_s)));
        tr.appendChild(el("td", {}, item.locale));
        const td = el("td");
        td.appendChild(el("a", { href: "/conversations/" + item.conv_id }, t("look")));
        tr.appendChild(td);
        urgentBody.appendChild(tr);
      });
      if (!urgent.length) {
        const none = el("tr");
        none.appendChild(el("td", { colspan: "4", class: "muted" }, t("nobody")));
        urgentBody.appendChild(none);
      }
      while (body.firstChild) body.removeChild(body.firstChild);
      snapshot.on_shift.forEach(function (s) {
        const tr = el("tr");
        tr.appendChild(el("td", {}, s.name));
        tr.appendChild(el("td", {}, t(s.status)));
        tr.appendChild(el("td", {}, s.load + "/" + s.capacity));
        tr.appendChild(el("td", {}, s.connected ? t("yes") : t("no")));
        body.appendChild(tr);
      });
    });
    setInterval(function () {
      urgentBody.querySelectorAll(".waited").forEach(function (cell) {
        const s = Number(cell.getAttribute("data-waited")) + 5;
        cell.setAttribute("data-waited", String(s));
        cell.textContent = minutes(s);
      });
    }, 5000);
  }

  // Conversation page ------------------------------------------------------------------------------
  if (page === "conversation") {
    const box = document.getElementById("conversation");
    const convId = box.getAttribute("data-conv");
    const list = document.getElementById("transcript");
    const typing = document.getElementById("typing");
    let lastSeq = 0;
    // Stockholm time, as the page shows it: never the time zone of the browser's machine.
    const stockholm = new Intl.DateTimeFormat("sv-SE", { timeZone: "Europe/Stockholm", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    list.querySelectorAll("li[data-seq]").forEach(function (li) {
      lastSeq = Math.max(lastSeq, Number(li.getAttribute("data-seq")));
    });
    // The page opens at the newest entry.
    list.scrollTop = list.scrollHeight;
    // payload -> the label the child saw, so a tap reads as what the child pressed.
    const buttons = JSON.parse(list.getAttribute("data-buttons") || "{}");

    function add(entry) {
      if (entry.seq <= lastSeq) return;
      lastSeq = entry.seq;
      const li = el("li", { class: entry.role, "data-seq": String(entry.seq) });
      const hhmm = stockholm.format(new Date(entry.ts));
      li.appendChild(el("span", { class: "meta" }, (entry.author || t("author_" + entry.role)) + " · " + hhmm));
      (entry.quick_replies || []).forEach(function (q) { buttons[q[1]] = q[0]; });
      if (entry.role === "child" && Object.prototype.hasOwnProperty.call(buttons, entry.text)) {
        li.appendChild(el("span", { class: "tap", title: t("tap") }, buttons[entry.text]));
      } else {
        li.appendChild(document.createTextNode(entry.text));
      }
      list.appendChild(li);
      list.scrollTop = list.scrollHeight;
      if (entry.role === "child") typing.textContent = "";
    }

    socket.on("connect", function () { socket.emit("watch", { conv_id: convId, last_seq: lastSeq }); });
    socket.on("entries", function (data) {
      if (data.conv_id === convId) data.entries.forEach(add);
    });
    socket.on("child_typing", function (data) {
      if (data.conv_id === convId) typing.textContent = data.on ? t("typing") : "";
    });
    socket.on("conversation", function (data) {
      if (data.conv_id !== convId) return;
      const state = document.getElementById("conv-state");
      state.setAttribute("data-state", data.state);
      state.textContent = t("state_" + data.state);
      if (!data.left) return;
      // The child has left (quick exit, end chat, closed tab, expiry): say it where she looks, at once;
      // nothing she writes could reach the child now, so the reply and hand-over controls go.
      const left = document.getElementById("child-left");
      left.hidden = false;
      const me = box.getAttribute("data-me");
      if (data.counsellor === me && data.state === "ended") {
        document.getElementById("child-left-categorise").hidden = false;
      }
      ["reply-form", "offer-upload-form"].forEach(function (id) {
        const node = document.getElementById(id);
        if (node) node.hidden = true;
      });
      document.querySelectorAll("[data-while-child-here]").forEach(function (node) { node.hidden = true; });
      typing.textContent = "";
      showAlert(t("child_left"));
      document.title = "(!) " + document.title.replace(/^\(!\) /, "");
    });

    const form = document.getElementById("reply-form");
    if (form) {
      const text = document.getElementById("reply-text");
      const canned = document.getElementById("canned");
      let typingOn = false;
      let typingTimer = null;
      const cannedWarning = document.getElementById("canned-warning");
      let untranslated = [];  // inserted canned texts with no current translation in the child's language
      canned.addEventListener("change", function () {
        const option = canned.options[canned.selectedIndex];
        if (canned.value) {
          text.value = (text.value ? text.value + "\n" : "") + canned.value;
          const warning = option && option.getAttribute("data-untranslated");
          if (warning) {
            untranslated.push({ text: canned.value, warning: warning });
            cannedWarning.textContent = warning;
            cannedWarning.hidden = false;
          }
        }
        canned.value = "";
        text.focus();
      });
      text.addEventListener("input", function () {
        if (!typingOn) { typingOn = true; socket.emit("typing", { conv_id: convId, on: true }); }
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typingOn = false; socket.emit("typing", { conv_id: convId, on: false }); }, 3000);
      });
      text.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
      });
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        if (!text.value.trim()) return;
        // Said before sending: an untranslated canned text still in the box needs a second yes.
        const still = untranslated.filter(function (item) { return text.value.indexOf(item.text) !== -1; });
        if (still.length && !window.confirm(still[0].warning)) return;
        const body = new URLSearchParams({ csrf: csrf, text: text.value });
        fetch(form.action, {
          method: "POST", body: body, credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf, Accept: "application/json" }
        }).then(function (r) { return r.json(); }).then(function (result) {
          if (result.ok) {
            text.value = "";
            untranslated = [];
            cannedWarning.hidden = true;
            typingOn = false;
            socket.emit("typing", { conv_id: convId, on: false });
          } else {
            showAlert(result.message || result.detail);
          }
        }).catch(function () { showAlert(t("not_sent")); });
      });
    }

    // Offer the secure upload without leaving the page (a half-written reply stays in the box).
    const offer = document.getElementById("offer-upload-form");
    if (offer) {
      offer.addEventListener("submit", function (e) {
        e.preventDefault();
        fetch(offer.action, {
          method: "POST", body: new URLSearchParams({ csrf: csrf }), credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf, Accept: "application/json" }
        }).then(function (r) { return r.json(); }).then(function (result) {
          if (!result.ok) showAlert(result.message || result.detail);
        }).catch(function () { showAlert(t("not_sent")); });
      });
    }
  }
})();
