"""What a counsellor does with a chat: claim, reply, offer the upload, transfer, requeue, end, block, categorise.

Every move of a conversation between the queue and counsellors is one store script, so nothing is lost
or doubled when people race; what the child reads about it (a counsellor joined, the chat ended) is
appended to the conversation log from `content/`, so the gateway delivers it like any other entry.
"""

from __future__ import annotations

import logging

from chatbot.domain.floods import FloodGuard
from chatbot.model import HELD_FLAG, ConversationState, Entry, Role
from console.domain import stats as stats_rules
from console.domain.deskpart import DeskContext, DeskError, DeskPart, Moved

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 4000
MAX_NOTE_CHARS = 500
# Moved.detail of a claim that took an urgent child although the counsellor was at her capacity.
OVER_CAPACITY = "over_capacity"


class Actions(DeskPart):
    def __init__(self, context: DeskContext, floods: FloodGuard | None = None) -> None:
        super().__init__(context)
        self._floods = floods

    async def claim(self, conv_id: str, name: str) -> Moved:
        status, holder, over = await self._store.claim(
            conv_id, name, now_ms=self._now_ms(), retention=self._settings.conversation_retention
        )
        if status == "taken":
            raise DeskError("taken", "a colleague took this conversation" if holder else "not in the queue")
        if status == "gone":
            raise DeskError("gone", "the child has left or the conversation expired")
        if status == "away":
            raise DeskError("away", "set yourself available first")
        if status == "full":
            raise DeskError("full", "you are at your capacity of chats")
        shift = await self._store.shift(name)
        meta = await self._conversations.meta(conv_id)
        queued_at = int(holder or self._now_ms())
        today = self._today()
        await self._stats.count(today, {"handed_off": 1})
        await self._stats.wait(today, self._now_ms() - queued_at)
        entries = await self._notice(
            conv_id,
            "counsellor_joined",
            meta.get("locale", self._settings.default_locale),
            name=shift.display if shift else name,
        )
        if entries:
            await self._conversations.set_flag(conv_id, "joined_seq", str(entries[0].seq))
        if over:
            log.warning("conversation %s (urgent) claimed by %s over their capacity", conv_id, name)
        else:
            log.info("conversation %s claimed by %s", conv_id, name)
        return Moved(conv_id, entries, OVER_CAPACITY if over else "")

    async def reply(self, conv_id: str, name: str, text: object) -> Entry:
        if not isinstance(text, str) or not text.strip():
            raise DeskError("empty", "write a message first")
        if len(text) > MAX_REPLY_CHARS:
            raise DeskError("too_long", f"a message is at most {MAX_REPLY_CHARS} characters")
        meta = await self._conversations.meta(conv_id)
        if meta.get("counsellor") != name or meta.get("state") != ConversationState.COUNSELLOR.value:
            raise DeskError("not_yours", "this conversation is not assigned to you")
        shift = await self._store.shift(name)
        entry = Entry(
            Role.COUNSELLOR, text.strip(), self._clock.now(), author=shift.display if shift else name
        )
        seq = await self._conversations.append(
            conv_id, [entry], now_ms=self._now_ms(), retention=self._settings.conversation_retention
        )
        if seq == 0:
            raise DeskError("gone", "the conversation has expired")
        return entry.with_seq(seq)

    async def offer_upload(self, conv_id: str, name: str) -> Moved:
        """The assigned counsellor offers the encrypted upload: the notice `upload_offer`, whose one
        button (`/upload_start`) opens the child's upload panel. The grant itself is issued only when
        the child opens the panel (chatbot.domain.dialogue.DialogueBot.upload_grant), never here."""
        meta = await self._conversations.meta(conv_id)
        if not meta:
            raise DeskError("gone", "the child has left or the conversation expired")
        if meta.get("counsellor") != name or meta.get("state") != ConversationState.COUNSELLOR.value:
            raise DeskError("not_yours", "this conversation is not assigned to you")
        entries = await self._notice(
            conv_id, "upload_offer", meta.get("locale", self._settings.default_locale)
        )
        if not entries:
            raise DeskError("gone", "the conversation has expired")
        log.info("conversation %s: %s offered the secure upload", conv_id, name)
        return Moved(conv_id, entries)

    async def transfer(self, conv_id: str, name: str, to: str, note: object = "") -> Moved:
        if to == name:
            raise DeskError("same", "choose a colleague")
        result = await self._release(conv_id, name, "transfer", to=to, note=note)
        if result != "ok":
            raise DeskError(result, _RELEASE_ERRORS.get(result, "cannot transfer now"))
        await self._stats.count(self._today(), {"transferred": 1})
        shift = await self._store.shift(to)
        meta = await self._conversations.meta(conv_id)
        entries = await self._notice(
            conv_id, "counsellor_joined", meta.get("locale", ""), name=shift.display if shift else to
        )
        log.info("conversation %s transferred from %s to %s", conv_id, name, to)
        return Moved(conv_id, entries)

    async def requeue(self, conv_id: str, name: str, note: object = "") -> Moved:
        meta = await self._conversations.meta(conv_id)
        result = await self._release(conv_id, name, "requeue", note=note, urgent=meta.get("urgent") == "1")
        if result != "ok":
            raise DeskError(result, _RELEASE_ERRORS.get(result, "cannot requeue now"))
        await self._conversations.set_flag(conv_id, "announced", "")
        await self._stats.count(self._today(), {"requeued": 1})
        log.info("conversation %s back in the queue from %s", conv_id, name)
        return Moved(conv_id)

    async def end(self, conv_id: str, name: str) -> Moved:
        result = await self._release(conv_id, name, "end")
        if result != "ok":
            raise DeskError(result, _RELEASE_ERRORS.get(result, "cannot end now"))
        meta = await self._conversations.meta(conv_id)
        locale = meta.get("locale", self._settings.default_locale)
        entries = await self._notice(conv_id, "conversation_ended", locale)
        entries += await self._notice(conv_id, "satisfaction", locale)
        await self._stats.count(self._today(), {"ended": 1})
        log.info("conversation %s ended by %s", conv_id, name)
        return Moved(conv_id, entries)

    async def block(self, conv_id: str, name: str) -> Moved:
        """A supervisor ends a malicious conversation and blocks its client from new ones for a while.

        The console never learns an address: the gateway kept only a keyed hash on the conversation
        (for a day at most), and the block is that hash with CLIENT_BLOCK to live. The child's side is
        told the chat ended, like any end; a counsellor who had it gets their slot back."""
        meta = await self._conversations.meta(conv_id)
        if not meta.get("state"):
            raise DeskError("gone", "this conversation no longer exists")
        if meta.get("state") == "counsellor" and meta.get("counsellor"):
            await self._release(conv_id, meta["counsellor"], "end")
        await self._queue.remove(conv_id)
        blocked = await self._floods.block_client_of(conv_id) if self._floods is not None else False
        entries = await self._notice(conv_id, "conversation_ended", meta.get("locale", ""))
        await self._conversations.end(
            conv_id,
            [],
            reason="blocked",
            session_hash=None,
            now_ms=self._now_ms(),
            retention=self._settings.conversation_retention,
        )
        log.warning(
            "conversation %s ended by supervisor %s; its client %s",
            conv_id,
            name,
            "blocked" if blocked else "could not be blocked (no client hash kept any more)",
        )
        return Moved(conv_id, entries, detail="blocked" if blocked else "not_blocked")

    async def categorise(self, conv_id: str, name: str, topic: object, age: object, handled: object) -> None:
        if (
            topic not in stats_rules.TOPICS
            or age not in stats_rules.AGE_BANDS
            or handled not in stats_rules.HANDLED
        ):
            raise DeskError("bad_category", "choose a topic, an age band and how it was handled")
        # Once per ended chat, by the counsellor who ended it: the token is deleted as it is used.
        if not await self._store.take_field(conv_id, "categorise_by", name):
            raise DeskError("not_yours", "this chat is not waiting for your categorisation")
        await self._store.categorised(name, conv_id)
        counts = {f"topic:{topic}": 1, f"age:{age}": 1, f"handled:{handled}": 1, "categorised": 1}
        meta = await self._conversations.meta(conv_id)
        if meta.get(HELD_FLAG) == "1":
            # A chat left for the counsellors: the outcome is a fact, not her choice (the child came back
            # with the return code, or never did).
            counts[f"outcome:{'returned' if meta.get('returned') == '1' else 'not_returned'}"] = 1
        await self._stats.count(self._today(), counts)

    async def child_wrote_at(self, conv_id: str, seq: int) -> None:
        """The gateway stored entry `seq`; if a satisfaction answer is pending, look whether this is it."""
        meta = await self._conversations.meta(conv_id)
        if meta.get("satisfaction_asked") != "1":
            return
        for entry in await self._conversations.read(conv_id, seq - 1, seq):
            await self.child_wrote(conv_id, entry)

    async def child_wrote(self, conv_id: str, entry: Entry) -> None:
        """Counts a satisfaction answer (a button the child pressed after the end), once per chat."""
        if entry.role is not Role.CHILD or entry.text not in stats_rules.SATISFACTION_PAYLOADS:
            return
        if await self._store.take_field(conv_id, "satisfaction_asked", "1"):
            answer = stats_rules.SATISFACTION_PAYLOADS[entry.text]
            await self._stats.count(self._today(), {f"satisfaction:{answer}": 1})

    async def _release(
        self, conv_id: str, name: str, mode: str, *, to: str = "", note: object = "", urgent: bool = False
    ) -> str:
        text = note.strip() if isinstance(note, str) else ""
        if len(text) > MAX_NOTE_CHARS:
            raise DeskError("too_long", f"a note is at most {MAX_NOTE_CHARS} characters")
        return await self._store.release(
            conv_id,
            name,
            mode,
            now_ms=self._now_ms(),
            retention=self._settings.conversation_retention,
            to=to,
            urgent=urgent,
            note=text,
        )


_RELEASE_ERRORS = {
    "gone": "the conversation has expired",
    "not_yours": "this conversation is not assigned to you",
    "away": "that colleague is away",
    "full": "that colleague has no free chat slot",
}
