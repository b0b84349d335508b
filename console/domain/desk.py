"""The counsellors' desk: shifts, claiming, chatting, transfer, requeue, ending and categorising.

Every move of a conversation between the queue and counsellors is one store script, so nothing is lost
or doubled when people race; what the child reads about it (a counsellor joined, their place in the
queue, the line closed) is appended to the conversation log from `content/`, so the gateway delivers it
like any other entry and a reconnecting child replays it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from chatbot.clock import Clock
from chatbot.content.library import ContentLibrary
from chatbot.domain.ending import Ending
from chatbot.domain.floods import FloodGuard
from chatbot.domain.handoff import Handoff
from chatbot.domain.hours import OpeningHours, ScheduleError, format_moment
from chatbot.domain.model import HELD_FLAG, ConversationState, Entry, Role, to_ms
from chatbot.domain.notices import notice_entries
from chatbot.settings import Settings
from chatbot.store.conversations import ConversationStore
from chatbot.store.queue import QueueStore
from console.domain import stats as stats_rules
from console.store.handoff import HandoffStore, Left, ShiftRecord
from console.store.hours import HoursStore
from console.store.stats import StatsStore

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 4000
MAX_NOTE_CHARS = 500
MAX_DISPLAY_CHARS = 40
# A live socket's presence is refreshed every console tick (2 s); one not refreshed for this long belongs
# to a console process that died. Generous, so a slow tick or a little clock skew between processes never
# looks like a disconnect (it would only start the grace period, which the next heartbeat cancels).
PRESENCE_STALE_MS = 15_000
# Shown to the next counsellor (staff-facing, never to the child).
LOST_NOTE = "counsellor disconnected"
# Moved.detail of a claim that took an urgent child although the counsellor was at her capacity.
OVER_CAPACITY = "over_capacity"
# Moved.detail from the sweep for a chat taken out of a load because Redis had already forgotten it.
GONE = "gone"


class DeskError(Exception):
    """A desk action that cannot be done now; `code` is stable for the UI and the socket events."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class Status(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"


# What the counsellor is told about the transcript consent (issue 16: "did not agree" was shown when the
# child had never answered).
CONSENT_NOT_ASKED, CONSENT_NO_ANSWER, CONSENT_YES, CONSENT_NO = "not_asked", "no_answer", "yes", "no"
CONSENT_YES_ANSWER = "transcript_consent_yes"


@dataclass(frozen=True)
class QueueItem:
    conv_id: str
    position: int
    waited_s: int
    urgent: bool
    locale: str
    intents: tuple[str, ...]
    consent: bool


@dataclass(frozen=True)
class HeldItem:
    """A conversation left for the counsellors while the line was closed (the out-of-hours list)."""

    conv_id: str
    position: int
    left_s: int
    """Seconds since the child left it."""
    urgent: bool
    locale: str
    intents: tuple[str, ...]
    consent: bool


@dataclass(frozen=True)
class ConversationView:
    conv_id: str
    state: str
    left: bool
    """The child has left (quick exit, end chat, closed tab, expiry): nothing more will come."""
    counsellor: str
    urgent: bool
    locale: str
    note: str
    consent: bool
    entries: list[Entry]
    hidden_before: int
    """Entries before this seq (the bot part) are not shown: the child did not consent to sharing them."""
    held: bool = False
    """Left for the counsellors with a return code: the child may not be here, and reads it on return."""
    read: bool | None = None
    """Held only: has the child read the last counsellor message (None: she has written none yet)."""
    here: bool = False
    """Held only: a socket of the child is open now."""
    consent_state: str = CONSENT_NOT_ASKED
    """Whether the child lets the counsellor read the bot part: not_asked, no_answer, yes or no."""
    buttons: dict[str, str] = field(default_factory=dict)
    """payload → the label the child saw on that button, so a tap reads as the child pressed it."""


def _buttons(entries: list[Entry]) -> dict[str, str]:
    """Each button payload the child was offered, with the label they saw (the latest offer wins)."""
    return {reply.payload: reply.title for entry in entries for reply in entry.quick_replies}


def _consent_state(flag: str | None, buttons: dict[str, str]) -> str:
    if flag == "1":
        return CONSENT_YES
    if flag == "0":
        return CONSENT_NO
    # The question is a notice with buttons: it was asked when its yes-button was offered.
    asked = any(payload.lstrip("/") == CONSENT_YES_ANSWER for payload in buttons)
    return CONSENT_NO_ANSWER if asked else CONSENT_NOT_ASKED


@dataclass(frozen=True)
class Moved:
    """What an action changed: entries appended to the child's log, and conversations whose place moved."""

    conv_id: str
    entries: list[Entry] = field(default_factory=list)
    detail: str = ""


class Desk:
    def __init__(
        self,
        store: HandoffStore,
        conversations: ConversationStore,
        queue: QueueStore,
        stats: StatsStore,
        content: ContentLibrary,
        clock: Clock,
        settings: Settings,
        hours: OpeningHours,
        hours_store: HoursStore | None = None,
        floods: FloodGuard | None = None,
    ) -> None:
        self._floods = floods
        self._store = store
        self._conversations = conversations
        self._queue = queue
        self._stats = stats
        self._content = content
        self._clock = clock
        self._settings = settings
        self.hours = hours
        self._default_hours = hours
        self._hours_store = hours_store
        self._handoff = Handoff(
            queue,
            conversations,
            clock,
            retention=settings.conversation_retention,
            average_chat_minutes=settings.average_chat_minutes,
        )
        self._ending = Ending(conversations, content, clock, settings)

    @property
    def store(self) -> HandoffStore:
        return self._store

    @property
    def stats(self) -> StatsStore:
        return self._stats

    def _now_ms(self) -> int:
        return to_ms(self._clock.now())

    def _today(self) -> str:
        return stats_rules.day_of(self._clock.now())

    # Shifts -----------------------------------------------------------------------------------------

    async def set_status(
        self, name: str, status: Status | str, *, capacity: int, display: str
    ) -> ShiftRecord:
        try:
            chosen = Status(status)
        except ValueError:
            raise DeskError("bad_status", "status is available or away") from None
        display = display.strip()
        if not display or len(display) > MAX_DISPLAY_CHARS:
            raise DeskError("bad_display", f"the name children see must be 1-{MAX_DISPLAY_CHARS} characters")
        if not 1 <= capacity <= 10:
            raise DeskError("bad_capacity", "capacity is between 1 and 10 chats")
        await self._store.set_shift(
            name, status=chosen.value, capacity=capacity, display=display, now_ms=self._now_ms()
        )
        record = await self._store.shift(name)
        assert record is not None
        log.info("%s is %s (capacity %d)", name, chosen.value, capacity)
        return record

    async def connected(self, name: str, conn: str) -> None:
        """A counsellor's console is back: their conversations stay theirs (the grace period stops)."""
        await self.alive([(name, conn)])

    async def alive(self, sockets: list[tuple[str, str]]) -> None:
        """Heartbeat of this process's (name, conn) sockets; one that stops beating goes stale on its own."""
        if sockets:
            await self._store.presence_up(sockets, stale_at_ms=self._now_ms() + PRESENCE_STALE_MS)

    async def disconnected(self, name: str, conn: str) -> None:
        """A socket closed; if it was the counsellor's last one anywhere, the grace period starts."""
        grace_ms = self._settings.handoff_grace * 1000
        if await self._store.presence_down(name, conn, now_ms=self._now_ms(), grace_ms=grace_ms):
            log.info("%s has no console open; grace period of %d s started", name, grace_ms // 1000)

    # The queue --------------------------------------------------------------------------------------

    async def queue(self) -> list[QueueItem]:
        return [item for item, _ in await self._waiting()]

    async def _waiting(self) -> list[tuple[QueueItem, dict[str, str]]]:
        """The queue in order, each child with the fields of their conversation's meta the desk uses: one
        round trip for any length (two when some expired), because the console reads it every tick and
        a crisis makes it long."""
        found = await self._queue.waiting_with(_QUEUE_FIELDS)
        gone = [conv_id for conv_id, meta in found if meta is None]
        if gone:
            # Expired while waiting: out of the queue, so the places behind them stay honest.
            await self._queue.remove(*gone)
        now = self._now_ms()
        items: list[tuple[QueueItem, dict[str, str]]] = []
        for conv_id, meta in found:
            if meta is None:
                continue
            queued_at = int(meta.get("queued_at", now))
            item = QueueItem(
                conv_id,
                len(items) + 1,
                max(0, (now - queued_at) // 1000),
                meta.get("urgent") == "1",
                meta.get("locale", self._settings.default_locale),
                tuple(i for i in meta.get("intents", "").split(",") if i),
                meta.get("transcript_consent") == "1",
            )
            items.append((item, meta))
        return items

    async def out_of_hours(self) -> list[HeldItem]:
        """The conversations left for the counsellors while the line is closed, in the order they will
        enter the queue at opening (urgent first, then in the order left). One round trip."""
        found = await self._queue.out_of_hours_with(_HELD_FIELDS)
        now = self._now_ms()
        items: list[HeldItem] = []
        for conv_id, meta in found:
            if meta is None or meta.get("state") != ConversationState.LEFT_FOR_COUNSELLOR.value:
                continue
            items.append(
                HeldItem(
                    conv_id,
                    len(items) + 1,
                    max(0, (now - int(meta.get("left_at", now))) // 1000),
                    meta.get("urgent") == "1",
                    meta.get("locale", self._settings.default_locale),
                    tuple(i for i in meta.get("intents", "").split(",") if i),
                    meta.get("transcript_consent") == "1",
                )
            )
        missing = [item.conv_id for item in items if not item.intents]
        if missing:
            # What the bot learned, as in the queue: noted once, shown without the transcript.
            noted = await self._note_intents(missing)
            items = [
                dataclasses.replace(item, intents=tuple(i for i in noted[item.conv_id].split(",") if i))
                if item.conv_id in noted
                else item
                for item in items
            ]
        return items

    async def announce_positions(self) -> list[Moved]:
        """Tell each waiting child their place and an honest wait when it changed (a log entry each).

        A fixed number of round trips while nothing changed, whatever the queue's length: the meta read
        with the queue says who was told what; only children whose place or wait moved (or who are new)
        get a compare-and-set, all in one round trip, and only the caller whose set changed the value
        tells the child, so two console processes ticking at once never say the same place twice.
        """
        waiting = await self._waiting()
        free = await self._queue.free_slots()
        due: list[tuple[QueueItem, int, str]] = []
        for item, meta in waiting:
            wait = self._handoff.wait_minutes(item.position, free)
            mark = f"{item.position}/{wait}"
            if meta.get("announced") != mark or not meta.get("counted"):
                due.append((item, wait, mark))
        if not due:
            return []
        results = await self._store.announce([(item.conv_id, mark) for item, _, mark in due])
        counted = [item for (item, _, _), (_, new) in zip(due, results, strict=True) if new]
        if counted:
            await self._stats.count(
                self._today(), {"queued": len(counted), "urgent": sum(i.urgent for i in counted)}
            )
        # First sight (counted just now): note what the bot learned. The dialogue recorded the place it
        # told the child, so first sight says nothing unless the place changed since ('changed'); a child
        # queued some other way has no mark ('first') and is not told what they already know. (A
        # requeued child has announced="" and is told at once.)
        await self._note_intents(
            [item.conv_id for (item, _, _), (_, new) in zip(due, results, strict=True) if new]
        )
        changed = [
            (item, wait) for (item, wait, _), (p, _) in zip(due, results, strict=True) if p == "changed"
        ]
        # Concurrent appends share round trips (ScriptPipeline); each is still its own atomic script.
        told = await asyncio.gather(
            *(
                self._notice(item.conv_id, "queue_update", item.locale, position=item.position, wait=wait)
                for item, wait in changed
            )
        )
        return [Moved(item.conv_id, entries) for (item, _), entries in zip(changed, told, strict=True)]

    async def _note_intents(self, conv_ids: Sequence[str]) -> dict[str, str]:
        """What the bot learned, as the intents it answered, in order: shown without the transcript."""
        if not conv_ids:
            return {}
        logs = await self._conversations.read_many(conv_ids)
        noted = {conv_id: _intents(entries) for conv_id, entries in zip(conv_ids, logs, strict=True)}
        await asyncio.gather(
            *(self._conversations.set_flag(conv_id, "intents", found) for conv_id, found in noted.items())
        )
        return noted

    # One conversation -------------------------------------------------------------------------------

    async def view(self, conv_id: str, name: str, *, supervisor: bool) -> ConversationView:
        meta = await self._conversations.meta(conv_id)
        if not meta:
            raise DeskError("gone", "this conversation has ended or expired")
        queued = await self._queue.position(conv_id) is not None
        mine = meta.get("counsellor") == name and meta.get("state") == ConversationState.COUNSELLOR.value
        # A chat she still has to categorise stays hers to read: also one the child left.
        mine = mine or meta.get("categorise_by") == name
        # Counsellors see the queue, the out-of-hours list and their own chats; a colleague's is not theirs.
        held_waiting = meta.get("state") == ConversationState.LEFT_FOR_COUNSELLOR.value
        if not (supervisor or queued or mine or held_waiting):
            raise DeskError("forbidden", "this conversation is not in the queue or assigned to you")
        consent = meta.get("transcript_consent") == "1"
        # Without consent a held chat shows what came after it was left (as the queue's after the join).
        joined = meta.get("left_seq") or meta.get("joined_seq", "0")
        hidden_before = 0 if consent else int(joined or 0)
        if not consent and not hidden_before:
            hidden_before = await self._conversations.length(conv_id) + 1
        every = await self._conversations.read(conv_id)
        entries = [e for e in every if e.seq >= hidden_before] if hidden_before else every
        buttons = _buttons(every)
        locale = meta.get("locale", self._settings.default_locale)
        for entry in every:
            if entry.role is Role.CHILD and entry.text.startswith("/") and entry.text not in buttons:
                label = self._button_label(entry.text, locale)
                if label:
                    buttons[entry.text] = label
        held = meta.get(HELD_FLAG) == "1"
        here = int(meta.get("sockets", "0") or 0) > 0
        read: bool | None = None
        if held:
            # Only whether her words reached the child's screen: nothing else about the child.
            last = max((e.seq for e in entries if e.role is Role.COUNSELLOR), default=0)
            read = None if not last else here or int(meta.get("read_seq", "0") or 0) >= last
        return ConversationView(
            conv_id,
            meta.get("state", ""),
            meta.get("state") == ConversationState.ENDED.value,
            meta.get("counsellor", ""),
            meta.get("urgent") == "1",
            meta.get("locale", self._settings.default_locale),
            meta.get("note", ""),
            consent,
            entries,
            hidden_before,
            held,
            read,
            here and held,
            _consent_state(meta.get("transcript_consent"), buttons),
            buttons,
        )

    def _button_label(self, payload: str, locale: str) -> str:
        """The label of the content's first button with this payload, in the child's language (a tap the
        log has no offer for: the widget's own buttons, or an offer older than the log's start)."""
        for answer in self._content.answers.values():
            for index, button in enumerate(answer.buttons):
                if button.target == payload:
                    return answer.localized(locale)[2][index]
        return ""

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

    async def conversation_meta(self, conv_id: str) -> dict[str, str]:
        return await self._conversations.meta(conv_id)

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

    # Time passing -------------------------------------------------------------------------------------

    async def hours_text(self) -> tuple[str, str]:
        saved = await self._hours_store.get() if self._hours_store else None
        return saved or (self._settings.opening_hours, self._settings.opening_exceptions)

    async def set_hours(self, weekly: object, exceptions: object) -> None:
        if not isinstance(weekly, str) or not isinstance(exceptions, str) or self._hours_store is None:
            raise DeskError("bad_hours", "opening hours are text")
        try:
            parsed = OpeningHours.parse(weekly.strip(), exceptions.strip())
        except ScheduleError as exc:
            raise DeskError("bad_hours", str(exc)) from None
        await self._hours_store.set(weekly.strip(), exceptions.strip())
        self.hours = parsed

    async def _load_hours(self) -> None:
        saved = await self._hours_store.get() if self._hours_store else None
        if saved is None:
            self.hours = self._default_hours
            return
        try:
            self.hours = OpeningHours.parse(*saved)
        except ScheduleError:
            log.error("saved opening hours cannot be read; using the settings' hours")
            self.hours = self._default_hours

    async def sweep(self) -> list[Moved]:
        """Grace periods, abandoned waits and closing time; run every few seconds by the console."""
        await self._load_hours()
        moved: list[Moved] = []
        now = self._now_ms()
        shifts = await self._store.on_shift()
        # One script per counsellor decides and requeues atomically: with two console processes
        # sweeping at once, only one gets the ids back, so each child is told once.
        swept = await self._store.sweep(
            [shift.name for shift in shifts],
            now_ms=now,
            grace_ms=self._settings.handoff_grace * 1000,
            retention=self._settings.conversation_retention,
            note=LOST_NOTE,
        )
        for shift, found in zip(shifts, swept, strict=True):
            if found.gone:
                # Redis forgot them before any sweep could end them (the backstop): out of the load now.
                moved += [Moved(conv_id, detail=GONE) for conv_id in found.gone]
                log.info("%s: %d chats whose conversation expired left the load", shift.name, len(found.gone))
            if found.status != "requeued":
                continue
            for conv_id in found.requeued:
                moved.append(await self._back_in_queue(conv_id))
            log.info(
                "%s did not come back within the grace period; %d chats requeued, set away",
                shift.name,
                len(found.requeued),
            )
        # Every exit path the child did not take themselves ends through the same ending as theirs: a
        # closed tab (no socket for CHILD_GRACE), and a chat idle for almost the retention.
        await self._ending.sweep()
        # The child ended the chat (quick exit) or it expired while waiting: abandoned. One script looks
        # and removes, so a child claimed or requeued meanwhile is never dropped or counted.
        abandoned = await self._queue.drop_unqueued()
        if abandoned:
            await self._stats.count(self._today(), {"abandoned": len(abandoned)})
        moment = self._clock.now()
        if not self.hours.is_open(moment):
            moved += await self._close_queue(moment)
        else:
            moved += await self._open_held()
        return moved

    async def _open_held(self) -> list[Moved]:
        """The line is open: conversations left for the counsellors enter the queue by themselves, in the
        order left, urgent first (one store script: with two consoles each moves once). The place is told
        at the next look (announce_positions), also to a child who is not here: they read it on return."""
        entered = await self._queue.open_held(
            now_ms=self._now_ms(), retention=self._settings.conversation_retention
        )
        if entered:
            await self._stats.count(self._today(), {"held_queued": len(entered)})
            log.info(
                "the line opened: %d conversations left for the counsellors entered the queue", len(entered)
            )
        return [Moved(conv_id) for conv_id in entered]

    async def settle_left(self) -> list[Left]:
        """Children who left, by any exit path, since the last look (the outbox `chatbot.store.keys.LEFT`):
        each chat leaves its counsellor's load and waits for her categorisation; a waiting child counts as
        abandoned. Run by the console on every tick and whenever a `NOTIFY_LEFT` wakes it."""
        left = await self._store.settle_left(retention=self._settings.conversation_retention)
        if left:
            counts = {
                "abandoned": sum(item.left_from == ConversationState.QUEUED.value for item in left),
                "child_left": sum(item.left_from == ConversationState.COUNSELLOR.value for item in left),
                # Left for the counsellors and expired before the line opened (or nobody took it).
                "held_expired": sum(
                    item.left_from == ConversationState.LEFT_FOR_COUNSELLOR.value for item in left
                ),
            }
            await self._stats.count(self._today(), {k: v for k, v in counts.items() if v})
        return left

    async def _close_queue(self, moment: datetime) -> list[Moved]:
        moved = []
        opening = self.hours.next_opening(moment)
        for conv_id in await self._queue.waiting():
            # Only the caller that takes the child out of the queue tells them: a claim, or a second
            # console process closing at the same moment, may have been first.
            if await self._queue.back_out_of_hours(conv_id, retention=self._settings.conversation_retention):
                # Left for the counsellors: it waits for the next opening, ahead of the others as before.
                moved.append(Moved(conv_id))
                continue
            if not await self._queue.remove(conv_id):
                continue
            meta = await self._conversations.meta(conv_id)
            locale = meta.get("locale", self._settings.default_locale)
            await self._conversations.set_flag(conv_id, "state", ConversationState.BOT.value)
            if opening is None:
                # No opening scheduled in the coming weeks: words that name no time (never "at -").
                entries = await self._notice(conv_id, "hours_unknown", locale)
            else:
                next_open = format_moment(opening, locale)
                entries = await self._notice(conv_id, "handoff_closed", locale, next_open=next_open)
            await self._stats.count(self._today(), {"closed_in_queue": 1})
            moved.append(Moved(conv_id, entries))
        if moved:
            log.info("closing time: %d queued conversations told and returned to the bot", len(moved))
        return moved

    async def _back_in_queue(self, conv_id: str) -> Moved:
        """Tell a child whose counsellor was lost that they are in the queue again, with place and wait."""
        await self._stats.count(self._today(), {"requeued": 1})
        position = await self._queue.position(conv_id)
        meta = await self._conversations.meta(conv_id)
        if position is None or not meta:
            return Moved(conv_id)
        wait = await self._handoff.estimate(position)
        # Its own words, not handoff_queued's: the child did not ask to wait again, and must hear that
        # the counsellor leaving is not their doing.
        entries = await self._notice(
            conv_id,
            "counsellor_lost",
            meta.get("locale", self._settings.default_locale),
            position=position,
            wait=wait,
        )
        await self._conversations.set_flag(conv_id, "announced", f"{position}/{wait}")
        return Moved(conv_id, entries)

    # Helpers -----------------------------------------------------------------------------------------

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

    async def _notice(self, conv_id: str, answer_id: str, locale: str, **params: object) -> list[Entry]:
        """Append a child-facing notice from content/ as system entries; returns them with their seq."""
        if answer_id not in self._content:
            log.error("content has no answer %r; the child is not told", answer_id)
            return []
        now = self._clock.now()
        entries = notice_entries(
            self._content, answer_id, locale or self._settings.default_locale, now, **params
        )
        last = await self._conversations.append(
            conv_id, entries, now_ms=to_ms(now), retention=self._settings.conversation_retention
        )
        if last == 0:
            return []
        first = last - len(entries) + 1
        return [e.with_seq(first + i) for i, e in enumerate(entries)]


# What `_waiting` reads of each queued conversation (the queue view and who was told which place).
_QUEUE_FIELDS = (
    "queued_at",
    "urgent",
    "locale",
    "intents",
    "transcript_consent",
    "announced",
    "counted",
)


# What `out_of_hours` reads of each conversation in the out-of-hours list.
_HELD_FIELDS = ("left_at", "urgent", "locale", "intents", "transcript_consent")


def _intents(entries: Sequence[Entry]) -> str:
    seen: list[str] = []
    for entry in entries:
        if entry.role is Role.BOT and entry.intent and entry.intent not in seen:
            seen.append(entry.intent)
    return ",".join(seen[-8:])


_RELEASE_ERRORS = {
    "gone": "the conversation has expired",
    "not_yours": "this conversation is not assigned to you",
    "away": "that colleague is away",
    "full": "that colleague has no free chat slot",
}
