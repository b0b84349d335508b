// The queue's status line: while the child waits for a counsellor, their place and the wait stay on
// screen above the conversation (the notices' bubbles scroll away), updated as they move; it goes when
// a counsellor joins, the line closes or the chat ends (docs/widget.md, "Waiting in the queue").
import { el, state } from "./context.js";
import { t } from "./strings.js";

// Notices whose values are the child's place (docs/protocol.md, "Hand-off notices").
const PLACE_NOTICES = ["handoff_queued", "queue_update", "counsellor_lost"];

export function notePlace(entry) {
  // The newest place told, by seq: a replayed history and live entries may come in any order.
  const notice = entry.notice;
  if (!notice || PLACE_NOTICES.indexOf(notice.type) < 0) return;
  if (typeof notice.position !== "number" || typeof notice.wait !== "number") return;
  if (state.place && state.place.seq > entry.seq) return;
  state.place = { position: notice.position, wait: notice.wait, seq: entry.seq };
}

export function forgetPlace() {
  state.place = null;
  showPlace();
}

export function showPlace() {
  const place = state.conversationState === "queued" && !state.ended && !state.exiting ? state.place : null;
  const text = place ? t("queue.status", { position: place.position, wait: place.wait }) : "";
  // Only a real change reaches the status region, so a screen reader hears each new place once.
  if (el.queueStatus.textContent !== text) el.queueStatus.textContent = text;
  el.queueStatus.hidden = !text;
}
