// The conversation on screen: entries in seq order, once each; bubbles, help-line links, answer buttons.
import { config, cssId, el, state } from "./context.js";
import { t } from "./strings.js";
import { hideTyping } from "./typing.js";
import { forgetPlace, notePlace } from "./queue.js";
import { sendMessage, settle } from "./sending.js";
import { openUpload } from "./upload-panel.js";
import { leaveForCounsellor } from "./leave.js";

export function whoLabel(role, author) {
  if (role === "child") return t("who.you");
  if (role === "counsellor" && author) return t("who.counsellor", { name: author });
  if (role === "system") return t("who.system");
  return t("who.bot");
}

export function followNotice(notice) {
  // Live hand-off notices move the conversation between bot and counsellor (a replayed one is old news:
  // session_state already told the current state).
  if (!notice || typeof notice !== "object") return;
  if (notice.type === "counsellor_joined") state.conversationState = "counsellor";
  if (["conversation_ended", "handoff_closed", "hours_unknown", "leave_queue"].indexOf(notice.type) >= 0) state.conversationState = "bot";
  if (["handoff_queued", "queue_update", "counsellor_lost"].indexOf(notice.type) >= 0) state.conversationState = "queued";
}

export function markSeen(seq) {
  if (typeof seq !== "number" || seq < 1) return;
  state.seen.add(seq);
  while (state.seen.has(state.contiguous + 1)) state.contiguous += 1;
}

export function onEntry(entry) {
  if (!entry || typeof entry !== "object" || typeof entry.seq !== "number") return;
  if (state.seen.has(entry.seq)) return; // delivered twice (a replay after reconnect): show once
  if (Array.isArray(entry.quick_replies)) {
    entry.quick_replies.forEach(function (reply) {
      if (reply && typeof reply.payload === "string") state.payloadTitles.set(reply.payload, reply.title);
    });
  }
  notePlace(entry);
  if (entry.notice && entry.notice.type === "counsellor_joined" && typeof entry.notice.name === "string") {
    state.counsellorName = entry.notice.name;
  }
  if (entry.role === "child") {
    const mine = entry.client_id ? el.log.querySelector('[data-client-id="' + cssId(entry.client_id) + '"]') : null;
    markSeen(entry.seq);
    if (mine) {
      settle(mine, entry.seq);
      state.pending.delete(entry.client_id);
      return;
    }
    let text = entry.text;
    if (typeof text === "string" && text.charAt(0) === "/" && state.payloadTitles.has(text)) {
      text = state.payloadTitles.get(text);
    }
    insertMessage(makeMessage("child", text, null), entry.seq);
    clearReplies();
    return;
  }
  markSeen(entry.seq);
  const node = insertMessage(makeMessage(entry.role, entry.text, entry.author), entry.seq);
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

export function addOfferButton(node, replies) {
  replies.forEach(function (reply) {
    if (!reply || reply.payload !== config.uploadPayload || typeof reply.title !== "string") return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-reply msg-action";
    button.textContent = reply.title;
    button.addEventListener("click", openUpload);
    node.appendChild(button);
  });
}

export function isLast(seq) {
  let last = 0;
  state.seen.forEach(function (s) {
    if (s > last) last = s;
  });
  return seq >= last;
}

export function makeMessage(role, text, author) {
  const item = document.createElement("div");
  item.className = "msg msg--" + (role === "child" ? "child" : role === "counsellor" ? "counsellor" : role === "system" ? "system" : "bot");
  const who = document.createElement("span");
  who.className = role === "counsellor" && author ? "who" : "who visually-hidden";
  who.setAttribute("data-who", role);
  if (author) who.setAttribute("data-author", author);
  who.textContent = whoLabel(role, author) + ": ";
  const bubble = document.createElement("p");
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
export const PHONE = /(^|[^\d])(112|116 ?111|90101|114 ?14)(?![\d])/g;

export function fillBubble(bubble, text, links) {
  bubble.textContent = "";
  let last = 0;
  let match;
  PHONE.lastIndex = 0;
  while (links && (match = PHONE.exec(text)) !== null) {
    const start = match.index + match[1].length;
    if (start > last) bubble.appendChild(document.createTextNode(text.slice(last, start)));
    const isolate = document.createElement("bdi");
    isolate.dir = "ltr";
    const link = document.createElement("a");
    link.className = "tel";
    link.href = "tel:" + match[2].replace(/ /g, "");
    link.textContent = match[2];
    isolate.appendChild(link);
    bubble.appendChild(isolate);
    last = start + match[2].length;
  }
  if (last < text.length) bubble.appendChild(document.createTextNode(text.slice(last)));
}

export function insertMessage(node, seq) {
  if (typeof seq === "number") {
    node.setAttribute("data-seq", String(seq));
    // Keep log order: before the first message with a higher seq, or before the ones still pending.
    const children = el.log.children;
    for (let i = 0; i < children.length; i += 1) {
      const other = children[i];
      const otherSeq = other.getAttribute("data-seq");
      if ((otherSeq && Number(otherSeq) > seq) || other.classList.contains("is-pending")) {
        el.log.insertBefore(node, other);
        return node;
      }
    }
  }
  el.log.appendChild(node);
  return node;
}

export function showNotice(text, role) {
  const node = makeMessage(role || "system", text, null);
  node.classList.add("msg--notice");
  el.log.appendChild(node);
  scrollToEnd();
  return node;
}

export function clearTranscript() {
  el.log.textContent = "";
  state.seen.clear();
  state.contiguous = 0;
  state.payloadTitles.clear();
  forgetPlace();
  clearReplies();
  hideTyping();
  state.pending.forEach(function (item) {
    el.log.appendChild(item.node); // what the child wrote and we have not stored yet stays visible
  });
}

export function renderReplies(replies) {
  el.replies.textContent = "";
  replies.forEach(function (reply) {
    if (!reply || typeof reply.title !== "string" || typeof reply.payload !== "string") return;
    const button = document.createElement("button");
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

export function clearReplies() {
  el.replies.textContent = "";
  el.replies.hidden = true;
}

export function scrollToEnd() {
  window.requestAnimationFrame(function () {
    // Until the child has written, the conversation is the welcome: shown from its start, so its first
    // lines (who we are, that the chat is anonymous) are on screen even when its buttons do not fit
    // (a 1280x720 laptop). From the child's first message on, the newest message is what matters.
    const welcome = !el.log.querySelector(".msg--child");
    el.scroll.scrollTop = welcome ? 0 : el.scroll.scrollHeight;
  });
}
