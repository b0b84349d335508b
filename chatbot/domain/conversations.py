"""Conversation service: opens anonymous sessions, takes in children's messages, writes the bot's answers.

It validates everything a stranger can send before it reaches the store, and returns what happened as
values; delivering them over a socket is the transport's business.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from chatbot.clock import Clock
from chatbot.domain import errors, payloads
from chatbot.domain.bot import Bot, BotContext, BotTurn, Plan
from chatbot.domain.ending import Ending, EndReason
from chatbot.domain.floods import ClientId, FloodGuard
from chatbot.domain.hours import STOCKHOLM
from chatbot.domain.inputs import choose_locale, is_encodable
from chatbot.domain.returns import LeftFor, Returned, Returns
from chatbot.domain.sessions import (
    is_client_id,
    is_session_id,
    new_conversation_id,
    new_session_id,
    session_hash,
)
from chatbot.model import ConversationState, Entry, QuickReply, Reply, Role, to_ms
from chatbot.settings import Settings
from chatbot.store.content_versions import ShownCounts
from chatbot.store.conversations import ConversationStore, IngestStatus, StoredAnswer
from chatbot.upload.codes import redact_case_codes
from chatbot.upload.values import Grant

log = logging.getLogger(__name__)

# A conversation longer than this is abuse, not a child seeking help; it bounds what one session can store.
MAX_ENTRIES = 5000


@dataclass(frozen=True)
class Opened:
    session_id: str
    conv_id: str
    resumed: bool
    state: ConversationState
    last_seq: int
    locale: str


@dataclass(frozen=True)
class Received:
    """A stored child message and what was appended in answer (empty for a duplicate)."""

    entry: Entry
    duplicate: bool
    replies: list[Entry] = field(default_factory=list)
    urgent: bool = False
    state: ConversationState | None = None
    """The conversation's state after the answer (None for a duplicate: not known)."""


class ConversationService:
    def __init__(
        self,
        store: ConversationStore,
        bot: Bot,
        clock: Clock,
        settings: Settings,
        ending: Ending,
        floods: FloodGuard | None = None,
        returns: Returns | None = None,
        shown: ShownCounts | None = None,
    ) -> None:
        self._shown = shown
        self._returns = returns
        self._store = store
        self._bot = bot
        self._clock = clock
        self._settings = settings
        self._ending = ending
        self._floods = floods

    async def last_seq(self, conv_id: str) -> int:
        """The seq of the conversation's newest entry (0 for none): where a resuming client stands."""
        return await self._store.length(conv_id)

    async def open(
        self,
        session_id: object,
        locale: object = None,
        available: Collection[str] = (),
        client: ClientId | None = None,
    ) -> Opened:
        """Resume the session a valid, known id names; anything else starts a new anonymous session.

        A new session takes `locale` if it is one of `available` (the same rule as `set_locale`), else
        the default: a child is never refused a chat over a language. A new session counts against the
        client's flood limit (ConversationLimit when over it); a resume never does."""
        retention = self._settings.conversation_retention
        if is_session_id(session_id):
            assert isinstance(session_id, str)
            record = await self._store.resolve(session_hash(session_id), retention=retention)
            if record is not None and record.state is not ConversationState.ENDED:
                meta = await self._store.meta(record.conv_id)
                return Opened(
                    session_id,
                    record.conv_id,
                    True,
                    record.state,
                    record.last_seq,
                    await self.offered_locale(
                        record.conv_id, meta.get("locale", self._settings.default_locale), available
                    ),
                )
        if self._floods is not None:
            admitted = await self._floods.admit_conversation(client)
            if admitted.status.value != "ok":
                log.info("new conversation refused: %s", admitted.status.value)
                raise errors.ConversationLimit(
                    "no new conversation can start now; try again later",
                    retry_after_ms=admitted.retry_after_ms,
                )
        new_id = new_session_id()
        conv_id = new_conversation_id()
        chosen = choose_locale(locale, available) or self._settings.default_locale
        now = self._clock.now()
        await self._store.create(
            session_hash(new_id),
            conv_id,
            now_ms=to_ms(now),
            retention=retention,
            locale=chosen,
            # Statistics days are Stockholm days (as in console.domain.stats.day_of).
            contact_day=now.astimezone(STOCKHOLM).date().isoformat(),
            stats_retention=self._settings.stats_retention,
        )
        if self._floods is not None:
            await self._floods.opened(conv_id, client)
        ctx = BotContext(conv_id, chosen, ConversationState.BOT)
        welcome = await self._replies_as_entries(conv_id, self._bot.welcome(ctx).replies)
        last_seq = welcome[-1].seq if welcome else await self._store.length(conv_id)
        log.info("conversation %s started", conv_id)
        return Opened(new_id, conv_id, False, ConversationState.BOT, last_seq, chosen)

    async def receive(
        self,
        conv_id: str,
        locale: str,
        message: object,
        client_id: object,
        expect: ConversationState | None = None,
    ) -> Received:
        """Store a child's message once, then let the bot answer it while the bot has the conversation.

        `expect`: the state the conversation is likely in (the socket's last known). The answer is planned
        for it first. One with no effect of its own is stored with the message in one step, if the state
        is still that; one with effects runs its planned step once the message is stored; when the state
        has changed, the bot answers anew in the state the store found."""
        if client_id is not None and not is_client_id(client_id):
            raise errors.MalformedPayload("client_id must be 1-64 characters of A-Z a-z 0-9 _ . : -")
        cid = client_id if isinstance(client_id, str) else None
        if not isinstance(message, str):
            raise errors.MalformedPayload("message must be a string", client_id=cid)
        if not is_encodable(message):
            raise errors.InvalidText("text must be valid Unicode (no unpaired surrogates)", client_id=cid)
        text = message.strip()
        if not text:
            raise errors.EmptyMessage("message is empty", client_id=cid)
        limit = self._settings.max_message_chars
        if len(text) > limit:
            raise errors.MessageTooLong(
                f"message is longer than {limit} characters", client_id=cid, limit=limit
            )

        now = self._clock.now()
        # A case code is a bearer secret (Redis keeps only its hash): the log, which counsellors read and
        # which lives for the conversation's retention, gets it masked. The bot still sees the code.
        entry = Entry(Role.CHILD, redact_case_codes(text), now, client_id=cid)
        plan = None if expect is None else await self._plan(BotContext(conv_id, locale, expect), text)
        early = plan.at_once if plan is not None else None
        planned = None
        if early is not None and expect is not None:
            planned = StoredAnswer(
                expect,
                [self._bot_entry(r, now) for r in early.replies],
                early.marks,
                shown_day=_shown_day(now) if self._shown is not None else "",
                shown=_answer_ids(early.replies),
                shown_retention=self._shown.retention_s if self._shown is not None else 0,
            )
        result = await self._store.ingest(
            conv_id,
            entry,
            now_ms=to_ms(now),
            burst=self._settings.rate_limit_burst,
            per_minute=self._settings.rate_limit_per_minute,
            retention=self._settings.conversation_retention,
            max_entries=MAX_ENTRIES,
            answer=planned,
        )
        if result.status is IngestStatus.DUPLICATE:
            return Received(entry.with_seq(result.seq), duplicate=True)
        if result.status is IngestStatus.RATE_LIMITED:
            raise errors.RateLimited(
                "too many messages, wait a moment", client_id=cid, retry_after_ms=result.seq
            )
        if result.status in (IngestStatus.ENDED, IngestStatus.GONE):
            raise errors.ConversationEnded("this conversation has ended", client_id=cid)
        if result.status is IngestStatus.FULL:
            raise errors.ConversationFull("this conversation has reached its length limit", client_id=cid)

        stored = entry.with_seq(result.seq)
        if result.answered and planned is not None:
            answers = [e.with_seq(result.seq + 1 + i) for i, e in enumerate(planned.entries)]
            return Received(stored, duplicate=False, replies=answers, state=planned.state)
        state = result.state or ConversationState.BOT
        if plan is not None and plan.then is not None and state is expect:
            turn: BotTurn = await plan.then()  # worked out for this very state: its effects now
        else:
            turn = await self._bot.respond(BotContext(conv_id, locale, state), text)
        if turn.state is not None and turn.state is not state:
            await self._store.set_state(conv_id, turn.state)
        for name, value in turn.marks:
            await self._store.set_flag(conv_id, name, value)
        replies = await self._replies_as_entries(conv_id, turn.replies)
        if turn.urgent:
            # After the answer is stored: the counsellor's alert comes with the numbers in her transcript.
            await self._store.announce_urgent(conv_id)
        return Received(
            stored, duplicate=False, replies=replies, urgent=turn.urgent, state=turn.state or state
        )

    async def _plan(self, ctx: BotContext, text: str) -> Plan | None:
        """The bot's plan, or None when planning failed: then the message is stored first, as without a
        plan, so a fault in the bot can never cost the child's message (the answer may still fail)."""
        try:
            return await self._bot.plan(ctx, text)
        except Exception as exc:
            # Never the text: only what failed. The step after storing reports the fault in full.
            log.warning("planning an answer failed (%s) in conversation %s", type(exc).__name__, ctx.conv_id)
            return None

    def is_welcome_payload(self, message: object) -> bool:
        """A Rasa client's init or restart payload (`/get_started`, ...): it asks for the welcome."""
        return payloads.is_welcome_payload(message)

    async def outside(self, text: object, locale: str) -> list[Reply]:
        """An answer for a child refused a new conversation (nothing is stored): the crisis answer for
        words about danger, always; else the notice that says to try again soon."""
        message = text.strip() if isinstance(text, str) and is_encodable(text) else ""
        return await self._bot.outside(message[: self._settings.max_message_chars], locale, "new_chat_busy")

    def notice(self, name: str, conv_id: str, locale: str, state: ConversationState) -> list[Reply]:
        return self._bot.notice(name, BotContext(conv_id, locale, state))

    async def upload_grant(self, conv_id: str, locale: str, state: ConversationState) -> Grant:
        """A one-time grant for the encrypted upload the child opened; it goes to their socket only."""
        return await self._bot.upload_grant(BotContext(conv_id, locale, state))

    async def typing(self, conv_id: str, on: bool) -> None:
        """The child is typing (or stopped): live only, never stored."""
        await self._store.announce_typing(conv_id, Role.CHILD.value, on)

    async def history(self, conv_id: str, after: int = 0, upto: int = -1) -> list[Entry]:
        return await self._store.read(conv_id, max(0, after), upto)

    async def end(self, conv_id: str, session_id: str | None, reason: object = None) -> None:
        """The child ends the conversation (end chat, quick exit); the session id can never resume it.

        `reason` is what the widget says it was (`quick_exit` or `end_chat`); anything else is `end_chat`."""
        hashed = session_hash(session_id) if session_id and is_session_id(session_id) else None
        chosen = EndReason.QUICK_EXIT if reason == EndReason.QUICK_EXIT.value else EndReason.END_CHAT
        await self._ending.end(conv_id, chosen, session_hash=hashed)

    async def end_by_session_id(self, session_id: object) -> str | None:
        """End the conversation a session id names; the quick exit's beacon when its socket is down.

        Returns the conversation id, or None when the id names nothing (unknown, expired, ended)."""
        if not is_session_id(session_id):
            raise errors.MalformedPayload("not a session id")
        assert isinstance(session_id, str)
        record = await self._store.resolve(
            session_hash(session_id), retention=self._settings.conversation_retention
        )
        if record is None or record.state is ConversationState.ENDED:
            return None
        await self._ending.end(record.conv_id, EndReason.BEACON, session_hash=session_hash(session_id))
        return record.conv_id

    async def leave_for_counsellor(self, conv_id: str, locale: str) -> LeftFor:
        """The child leaves the conversation for the counsellors (out of hours, or while queued): a new
        return code for their socket only, and the notices for the log (chatbot.domain.returns)."""
        if self._returns is None:
            raise errors.CannotLeave("leaving a conversation for the counsellors is not offered here")
        return await self._returns.leave(conv_id, locale)

    async def open_with_code(self, code: object, client: ClientId | None) -> Returned:
        """Open a conversation left for the counsellors with its return code, on any device."""
        if self._returns is None:
            raise errors.UnknownReturnCode("no conversation is waiting under this return code")
        return await self._returns.redeem(code, client)

    async def joined(self, conv_id: str) -> None:
        """A socket of the child is on the conversation: the child is here (and, in a conversation left
        for the counsellors, has read everything so far: the join replays it)."""
        await self._store.present(conv_id, retention=self._settings.conversation_retention)
        await self._store.mark_read(conv_id)

    async def left(self, conv_id: str) -> None:
        """A socket of the child closed; with none left the console's sweep counts the time away."""
        await self._store.mark_read(conv_id)
        await self._store.absent(
            conv_id, now_ms=to_ms(self._clock.now()), retention=self._settings.conversation_retention
        )

    async def offered_locale(self, conv_id: str, locale: str, available: Collection[str]) -> str:
        """The conversation's language if it is still offered; else (a supervisor switched it off) the
        conversation goes on in the default language, stored, so answers and widget agree."""
        default = self._settings.default_locale
        if not available or locale == default or locale in available:
            return locale
        await self._store.set_flag(conv_id, "locale", default)
        log.info("conversation %s: its language is no longer offered; now %s", conv_id, default)
        return default

    async def set_locale(self, conv_id: str, locale: object, available: Collection[str]) -> str:
        """Switch the conversation's language (the widget's language menu); later answers use it."""
        if not isinstance(locale, str):
            raise errors.MalformedPayload("locale must be a string")
        chosen = choose_locale(locale, available)
        if chosen is None:
            # The value is never echoed: it may be 50,000 characters of anything.
            raise errors.UnsupportedLocale("no catalog for that locale", available=sorted(available))
        if not await self._store.set_flag(conv_id, "locale", chosen):
            raise errors.ConversationEnded("this conversation has ended")
        return chosen

    async def buttons_now(self, conv_id: str, locale: str) -> tuple[QuickReply, ...]:
        """The buttons on the child's screen (those of the last entry, when the bot wrote it), labelled
        in `locale`: after a language switch the widget shows them again in the new language."""
        length = await self._store.length(conv_id)
        if length == 0:
            return ()
        last = await self._store.read(conv_id, after=length - 1)
        if not last or last[-1].role is not Role.BOT or not last[-1].quick_replies:
            return ()
        return self._bot.relabel(last[-1].quick_replies, locale)

    async def _replies_as_entries(self, conv_id: str, replies: list[Reply]) -> list[Entry]:
        if not replies:
            return []
        now = self._clock.now()
        entries = [self._bot_entry(r, now) for r in replies]
        appended = self._store.append(
            conv_id, entries, now_ms=to_ms(now), retention=self._settings.conversation_retention
        )
        if self._shown is None:
            last = await appended
        else:
            # Counts only, per answer and Stockholm day, for the editors (never who or what was written).
            # Made together with the append, so both go to Redis in one round trip.
            counted = self._shown.count(_shown_day(now), _answer_ids(replies))
            last, _ = await asyncio.gather(appended, counted)
        first = last - len(entries) + 1
        return [e.with_seq(first + i) for i, e in enumerate(entries)]

    def _bot_entry(self, reply: Reply, now: datetime) -> Entry:
        return Entry(
            Role.BOT,
            reply.text,
            now,
            quick_replies=reply.quick_replies,
            intent=reply.intent,
            extra=reply.extra,
            answer=reply.answer,
            version=reply.version,
        )


# The day of the last minute asked for. Stockholm's offsets from UTC are whole hours, so its date changes
# only on a whole UTC minute: one conversion a minute instead of one a message.
_last_day: tuple[int, str] = (-1, "")


def _shown_day(now: datetime) -> str:
    """The Stockholm day an answer shown now is counted for (the editors' counts)."""
    global _last_day
    minute = int(now.timestamp()) // 60
    last = _last_day
    if last[0] == minute:
        return last[1]
    day = now.astimezone(STOCKHOLM).date().isoformat()
    _last_day = (minute, day)
    return day


def _answer_ids(replies: list[Reply]) -> list[str]:
    """The answers the replies come from, each once, in order (what is counted as shown)."""
    return list(dict.fromkeys(r.answer for r in replies if r.answer))
