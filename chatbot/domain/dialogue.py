"""The bot's dialogue: crisis first, then buttons, then the intent model; hand-off and opening hours.

Order matters and is the safety policy of this product:
1. Every message, in every state, goes through the crisis check first, in every language the check
   knows, whatever the widget is set to. A hit shows emergency help at once, in the language the
   child wrote when that language is safe-complete (else the widget's), and marks the conversation
   urgent (a waiting child moves to the front of the queue). What the crisis answer offers besides the
   numbers is true now: a person while the line is open, only the lines that answer around the clock
   while it is closed, and nothing more while a counsellor has the chat (the console alerts her instead).
2. A case code in a message is looked up (`case_status`) whatever the intent model thinks, in every
   state: like the crisis answer it is a fact the child asked for, so a child who gives their code to
   the counsellor still learns where their case stands (the counsellor reads the answer; the log and
   the console see the code only masked). The code never reaches the intent model or the log in clear
   (see ConversationService.receive).
3. After a counsellor has taken over the bot says nothing else.
4. Buttons ('/name') name an intent or an answer directly; free text goes to the intent model, and a
   low-confidence guess is never acted on: the child gets a clarifying question and the offer of a person.
   A message in a language the bot does not understand gets `language_unknown` in the widget's
   language instead: the emergency numbers, the languages we read, and a person.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime
from typing import Protocol

from chatbot.clock import Clock
from chatbot.content.library import Answer, ContentLibrary
from chatbot.domain import errors, payloads
from chatbot.domain.bot import BotContext, BotTurn, Plan
from chatbot.domain.handoff import Handoff
from chatbot.domain.hours import OpeningHours, format_clock, format_moment
from chatbot.domain.moments import default_formats
from chatbot.model import ConversationState, QuickReply, Reply, to_ms
from chatbot.nlu.crisis import CRISIS_LANGUAGES
from chatbot.nlu.language import ARABIC
from chatbot.nlu.service import Nlu, Understanding
from chatbot.upload import codes
from chatbot.upload import errors as upload_errors
from chatbot.upload.values import ChildCaseView, Grant

log = logging.getLogger(__name__)

CRISIS = "crisis"
CRISIS_WITH_COUNSELLOR = "crisis_counsellor"
CRISIS_CLOSED = "crisis_closed"
ASK_HUMAN = "ask_human"
LANGUAGE_UNKNOWN = "language_unknown"
# Opening hours, true in every state (each an answer in content/).
OPENING_HOURS = "opening_hours"
OPEN_NOW = "opening_hours_open"
HOURS_UNKNOWN = "hours_unknown"
HANDOFF_CLOSED = "handoff_closed"
# Buttons whose target answer describes an action: the bot carries the action out, then shows it.
JOIN_QUEUE = "handoff_queued"
LEAVE_QUEUE = "leave_queue"
CASE_STATUS = "case_status"
# A wait this long (minutes; two average chats) or more: the child is offered to leave the chat for the counsellor (issue 20).
LONG_WAIT_MINUTES = 30
LEAVE_OFFER = "leave_offer"
# May the counsellor read the chat with the bot? Asked when the child joins the queue; the console shows
# the part before the counsellor joined only when the flag is "1" (console/domain/desk.py).
CONSENT_ASK = "transcript_consent"
CONSENT_YES = "transcript_consent_yes"
CONSENT_NO = "transcript_consent_no"
CONSENT_FLAG = "transcript_consent"
# After the bot asked for a case code, a message that looks like a try at one (letters and digits, but
# not a code's shape) is answered as a malformed code for this long; later it is ordinary text again.
CODE_ASKED_FLAG = "case_code_asked"
CODE_ASKED_MS = 10 * 60 * 1000
_CODE_TRY = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[0-9A-Za-z][0-9A-Za-z -]{6,38}[0-9A-Za-z]$")
# Grants one conversation may ask for: a child who cancels and tries again needs a few; a script needs more.
MAX_GRANTS = 10
GRANTS_FLAG = "upload_grants"
# The case's topic (shown to analysts) is the last of these the bot answered in the conversation
# (upload_help says how to send, not what happened, so it is no topic).
TOPIC_FLAG = "topic"
TOPICS = frozenset({"takedown_help", "sextortion", "grooming"})
# What a case code lookup can answer; each is an answer in content/ (kind dialogue).
CODE_ERRORS: dict[type[upload_errors.UploadError], str] = {
    upload_errors.MalformedCaseCode: "case_code_malformed",
    upload_errors.MistypedCaseCode: "case_code_mistyped",
    upload_errors.UnknownCase: "case_code_unknown",
}


class HoursProvider(Protocol):
    """Where the opening hours come from: settings, or what a supervisor set in the console."""

    @property
    def latest(self) -> OpeningHours: ...

    async def current(self) -> OpeningHours: ...


class ConversationFlags(Protocol):
    """The few fields of a conversation's meta the dialogue keeps (ConversationStore fulfils it)."""

    async def meta(self, conv_id: str) -> dict[str, str]: ...

    async def set_flag(self, conv_id: str, name: str, value: str) -> bool: ...

    async def increment(self, conv_id: str, name: str) -> int: ...


class GrantIssuer(Protocol):
    """The child's side of the encrypted upload, as far as the dialogue offers it (UploadService fulfils it)."""

    @property
    def enabled(self) -> bool: ...

    async def issue_grant(self, conv_id: str, *, topic: str = "") -> Grant: ...


class CaseLookup(Protocol):
    """What a case code reveals to the child (CaseService fulfils it)."""

    async def child_status(self, code: object) -> ChildCaseView: ...


class DialogueBot:
    """Implements the Bot protocol for the real service."""

    def __init__(
        self,
        content: ContentLibrary,
        nlu: Nlu,
        hours: HoursProvider,
        handoff: Handoff,
        clock: Clock,
        *,
        flags: ConversationFlags,
        uploads: GrantIssuer,
        cases: CaseLookup,
        retention_days: int,
        queue_guard: Callable[[str], Awaitable[bool]] | None = None,
        languages: Collection[str] | None = None,
    ) -> None:
        """`languages`: the safe-complete languages the widget offers (default: every language the
        crisis check knows)."""
        self._queue_guard = queue_guard  # may this conversation's client join the queue now?
        # A live view in the gateway: a language switched on or off is followed (docs/translation.md).
        self._languages = CRISIS_LANGUAGES if languages is None else languages
        self._content = content
        self._nlu = nlu
        self._hours = hours
        self._handoff = handoff
        self._clock = clock
        self._flags = flags
        self._uploads = uploads
        self._cases = cases
        self._retention_days = retention_days

    def welcome(self, ctx: BotContext) -> BotTurn:
        return BotTurn(self._say("welcome", ctx))

    def notice(self, name: str, ctx: BotContext) -> list[Reply]:
        return self._say(name, ctx)

    async def outside(self, text: str, locale: str, notice: str) -> list[Reply]:
        # The crisis rules alone, no intent model: cheap under a flood, and guideline 7 holds in every
        # state, also for a child the flood limits kept out.
        ctx = BotContext("-", locale, ConversationState.BOT)
        if text and self._nlu.crisis_check(text).crisis:
            log.warning("crisis check outside a conversation (refused a new one)")
            return self._say("crisis", ctx)
        return self._say(notice, ctx)

    def relabel(self, buttons: tuple[QuickReply, ...], locale: str) -> tuple[QuickReply, ...]:
        return self._content.relabel(buttons, locale)

    async def upload_grant(self, ctx: BotContext) -> Grant:
        """The child opened the upload the bot or a counsellor offered (button `/upload_start`).

        Issued when the child takes up the offer rather than with every offer: the token goes to the
        child's own socket and is never written to the conversation log, and the grant's time starts
        when it is needed. Any state, also with a counsellor and when the line is closed."""
        if not self._uploads.enabled:
            raise errors.UploadsUnavailable("the encrypted upload is not configured")
        meta = await self._flags.meta(ctx.conv_id)
        if meta.get("state", ConversationState.ENDED.value) == ConversationState.ENDED.value:
            raise errors.ConversationEnded("this conversation has ended")
        if await self._flags.increment(ctx.conv_id, GRANTS_FLAG) > MAX_GRANTS:
            raise errors.UploadLimit(f"at most {MAX_GRANTS} uploads can be opened in one conversation")
        try:
            return await self._uploads.issue_grant(ctx.conv_id, topic=meta.get(TOPIC_FLAG, ""))
        except upload_errors.UploadsFull:
            raise errors.UploadsFull("unfinished uploads fill the quota; try again later") from None

    async def respond(self, ctx: BotContext, text: str) -> BotTurn:
        planned = await self._plan(ctx, text)
        return planned if isinstance(planned, BotTurn) else await planned()

    async def plan(self, ctx: BotContext, text: str) -> Plan:
        """Most answers change nothing but the flags they mark: stored with the message in one step. A
        crisis, the queue, a case code or consent have effects of their own: their step runs after the
        message is stored (and the message is understood once either way)."""
        planned = await self._plan(ctx, text)
        if not isinstance(planned, BotTurn):
            return Plan(then=planned)
        if planned.state is not None or planned.urgent:
            return Plan(then=functools.partial(_given, planned))
        return Plan(at_once=planned)

    async def _plan(self, ctx: BotContext, text: str) -> BotTurn | Callable[[], Awaitable[BotTurn]]:
        """The answer when working it out has no effect; else the step that gives it, with its effects."""
        await self._hours.current()  # refreshes `latest` when a supervisor's edit may have arrived
        # A Rasa client's init or restart payload (`/get_started`, `/restart`, ...) means the start.
        start = payloads.is_welcome_payload(text)
        payload = text[1:].strip() if text.startswith("/") and not start else None
        if payload is not None and not self._is_known(payload):
            payload = None  # "/ something" typed by hand is free text: it must reach the crisis check.
        # A payload we do not know (`/whatever` from some client) gets the fallback, never an intent
        # guess from its letters; the crisis rules still read it (guideline 7, cheap).
        unknown = payload is None and not start and payloads.slash_name(text) is not None
        # A case code is a bearer secret: the intent model (possibly a Rasa server) sees it masked.
        understood = (
            None
            if payload is not None or start or unknown
            else await self._nlu.understand(codes.redact_case_codes(text))
        )
        if payload == CRISIS:
            return functools.partial(self._crisis_turn, ctx, "button")
        if (start or unknown) and self._nlu.crisis_check(text).crisis:
            return functools.partial(self._crisis_turn, ctx, "payload")
        if understood is not None and understood.crisis.crisis:
            written = self._written_locale(ctx, text, understood)
            return functools.partial(self._crisis_turn, ctx, understood.crisis.reason, written)
        if payload in (CONSENT_YES, CONSENT_NO) and ctx.state is not ConversationState.ENDED:
            return functools.partial(self._transcript_consent, ctx, payload == CONSENT_YES)
        found = codes.find_case_code(text) if payload is None else None
        if found is not None:
            # In every state, also with a counsellor: a lookup the child asked for, not bot chatter.
            return functools.partial(self._case_turn, ctx, found)
        if ctx.state in (ConversationState.COUNSELLOR, ConversationState.ENDED):
            return BotTurn()
        if start:
            return self.welcome(ctx)
        if unknown:
            return BotTurn(self._say("fallback", ctx))

        # Only while the bot has the chat: a near-code right after the bot asked for one. With a
        # counsellor the bot asked nothing, so such words are the child's to the counsellor.
        if payload is None and _CODE_TRY.match(text) and await self._code_was_asked(ctx):
            return functools.partial(self._case_turn, ctx, text)

        if understood is not None and self._not_understood_language(understood):
            log.info(
                "language not understood (%s) in conversation %s", understood.language.reason, ctx.conv_id
            )
            return BotTurn(self._say(LANGUAGE_UNKNOWN, ctx))
        if understood is None:
            name = payload or ""
        elif understood.intent is None:
            return BotTurn(self._say("fallback", ctx))
        else:
            name = understood.intent

        if name == ASK_HUMAN:
            return functools.partial(self._ask_human, ctx)
        if name in (OPENING_HOURS, OPEN_NOW, HOURS_UNKNOWN):
            return self._opening_hours(ctx)
        if name == JOIN_QUEUE:
            return functools.partial(self._join_queue, ctx)
        if name == LEAVE_QUEUE:
            return functools.partial(self._leave_queue, ctx)
        answer = self._content.for_intent(name) or self._content.answers.get(name)
        if answer is None or (answer.intent is None and answer.kind != "answer"):
            # Notices and dialogue lines are the bot's to show, not something a payload can call up.
            return BotTurn(self._say("fallback", ctx))
        marks: list[tuple[str, str]] = []
        if name == CASE_STATUS:
            # No code in the message: the answer asks for it, and the next message is read as one.
            marks.append((CODE_ASKED_FLAG, str(to_ms(self._clock.now()))))
        if answer.intent in TOPICS:
            marks.append((TOPIC_FLAG, answer.intent))
        if {"position", "wait"} & set(answer.placeholders):
            # The place in the queue is read, after the message is stored.
            return functools.partial(self._placed_answer, ctx, answer, tuple(marks))
        return BotTurn(
            answer.replies(ctx.locale, **self._params(ctx, answer.placeholders)), marks=tuple(marks)
        )

    async def _case_turn(self, ctx: BotContext, written: str) -> BotTurn:
        replies = await self._case_status(ctx, written)
        if ctx.state is ConversationState.COUNSELLOR:
            # The facts only: its buttons (a person, what happens next) would tap into a bot that
            # stays silent; the counsellor carries on from the answer.
            replies = [dataclasses.replace(r, quick_replies=()) for r in replies]
        return BotTurn(replies)

    async def _placed_answer(
        self, ctx: BotContext, answer: Answer, marks: tuple[tuple[str, str], ...]
    ) -> BotTurn:
        return BotTurn(await self._render(answer, ctx), marks=marks)

    async def _crisis_turn(self, ctx: BotContext, reason: str, locale: str | None = None) -> BotTurn:
        await self._handoff.mark_urgent(ctx.conv_id)
        # The reason is a rule name, never the child's words.
        log.warning("crisis check (%s) in conversation %s, state %s", reason, ctx.conv_id, ctx.state.value)
        if locale is not None and locale != ctx.locale:
            ctx = dataclasses.replace(ctx, locale=locale)
        # The numbers in every state; what else is offered must be true now. With a counsellor: never "a
        # counsellor here too" (her console gets an urgent notice instead). Closed: only what answers now.
        if ctx.state is ConversationState.COUNSELLOR:
            answer_id = CRISIS_WITH_COUNSELLOR
        elif not self._hours.latest.is_open(self._clock.now()):
            answer_id = CRISIS_CLOSED
        else:
            answer_id = CRISIS
        return BotTurn(_as_intent(self._say(answer_id, ctx), CRISIS), urgent=True)

    def _opening_hours(self, ctx: BotContext) -> BotTurn:
        """True in every state: open now until when; closed until when; closed with no opening known."""
        if self._hours.latest.is_open(self._clock.now()):
            replies = self._say(OPEN_NOW, ctx)
        else:
            replies = self._closed(ctx, OPENING_HOURS)
        return BotTurn(_as_intent(replies, OPENING_HOURS))

    def _closed(self, ctx: BotContext, answer_id: str) -> list[Reply]:
        """A closed-line answer that names the next opening, or, with none scheduled, one that does not
        (never "we open again ." with nothing after it)."""
        if self._hours.latest.next_opening(self._clock.now()) is None:
            return self._say(HOURS_UNKNOWN, ctx)
        return self._say(answer_id, ctx)

    def _written_locale(self, ctx: BotContext, text: str, understood: Understanding) -> str:
        """The language the child wrote the crisis message in, when it is safe-complete and not the
        widget's; else the widget's. The widget's language wins whenever its own phrases fired too."""
        widget = ctx.locale.split("_")[0]
        fired = self._nlu.crisis.languages(text)
        if not fired and understood.language.language == ARABIC:
            fired = [ARABIC]
        if widget in fired:
            return ctx.locale
        return next((language for language in fired if language in self._languages), ctx.locale)

    def _not_understood_language(self, understood: Understanding) -> bool:
        """A language the bot cannot read: another script, letters Swedish and English lack, or almost
        no word it knows (a confident intent then rests on a word or two, e.g. German "Bild"); or
        Arabic where Arabic is not safe-complete. Measured: none of the 354 Swedish and English
        held-out messages is taken for a foreign language (docs/languages.md)."""
        guess = understood.language
        if guess.language == ARABIC:
            return ARABIC not in self._languages
        return guess.foreign

    async def _ask_human(self, ctx: BotContext) -> BotTurn:
        """Say what talking to a counsellor means and ask first (guideline 3); closed: say when we open."""
        if not self._hours.latest.is_open(self._clock.now()):
            return BotTurn(self._closed(ctx, HANDOFF_CLOSED))
        if ctx.state is ConversationState.QUEUED:
            return await self._join_queue(ctx)
        return BotTurn(await self._render(self._content.get(ASK_HUMAN), ctx))

    async def _join_queue(self, ctx: BotContext) -> BotTurn:
        if not self._hours.latest.is_open(self._clock.now()):
            return BotTurn(self._closed(ctx, HANDOFF_CLOSED))
        if (
            ctx.state is not ConversationState.QUEUED
            and self._queue_guard is not None
            and not await self._queue_guard(ctx.conv_id)
        ):
            # Too many joins from this child's client (issue 12: 40 fake children in the queue).
            log.info("queue join refused for conversation %s: client over its limit", ctx.conv_id)
            return BotTurn(self._say("queue_busy", ctx))
        place = await self._handoff.request(ctx.conv_id)
        if place is None:
            return BotTurn(self._say("fallback", ctx))
        answer_id = "queue_update" if ctx.state is ConversationState.QUEUED else JOIN_QUEUE
        replies = self._say(answer_id, ctx, position=place.position, wait=place.wait_minutes)
        # The place as values too, like the console's queue_update notice, so the widget's status line
        # shows it from the first moment in the queue (docs/protocol.md, "Hand-off notices").
        notice = {"notice": answer_id, "position": place.position, "wait": place.wait_minutes}
        if replies:
            replies[0] = dataclasses.replace(replies[0], extra=notice)

        if ctx.state is not ConversationState.QUEUED and CONSENT_FLAG not in await self._flags.meta(
            ctx.conv_id
        ):
            # Asked once, after the place in the queue: the child can wait and talk without answering.
            replies += self._say(CONSENT_ASK, ctx)
        if place.wait_minutes >= LONG_WAIT_MINUTES and LEAVE_OFFER in self._content and replies:
            # A long wait need not be spent in an open tab: the child may leave it for the counsellor, with
            # a return code. One more button under the last bubble (the widget shows the last buttons only).
            offer = self._say(LEAVE_OFFER, ctx)[-1].quick_replies
            replies[-1] = dataclasses.replace(replies[-1], quick_replies=replies[-1].quick_replies + offer)
        return BotTurn(replies, state=ConversationState.QUEUED)

    async def _transcript_consent(self, ctx: BotContext, given: bool) -> BotTurn:
        """The child's answer, in any state: a counsellor who has already joined sees the change at once.
        Once a counsellor is there the bot stays silent, as always."""
        await self._flags.set_flag(ctx.conv_id, CONSENT_FLAG, "1" if given else "0")
        log.info("transcript consent %s in conversation %s", "given" if given else "refused", ctx.conv_id)
        if ctx.state is ConversationState.COUNSELLOR:
            return BotTurn()
        return BotTurn(self._say(CONSENT_YES if given else CONSENT_NO, ctx))

    async def _leave_queue(self, ctx: BotContext) -> BotTurn:
        if ctx.state is not ConversationState.QUEUED:
            return BotTurn(self._say("fallback", ctx))
        await self._handoff.leave(ctx.conv_id)
        replies = self._say(LEAVE_QUEUE, ctx)
        if replies:
            # Marked, so the widget knows the wait is over without parsing the text (its status line goes).
            replies[0] = dataclasses.replace(replies[0], extra={"notice": LEAVE_QUEUE})
        return BotTurn(replies, state=ConversationState.BOT)

    async def _case_status(self, ctx: BotContext, written: str) -> list[Reply]:
        """Where the case stands, from the code alone; a kind, typed answer for a code that is not one.

        A malformed code gets the same answer however near it came to a code's shape, so the answer
        teaches nothing about real codes (95 random bits make guessing hopeless anyway)."""
        try:
            view = await self._cases.child_status(written)
        except upload_errors.UploadError as exc:
            answer_id = CODE_ERRORS.get(type(exc))
            if answer_id is None:
                raise
            log.info("case status: %s in conversation %s", exc.code, ctx.conv_id)
            # "Write it again": a malformed or mistyped code's answer asks for the next try.
            retry = not isinstance(exc, upload_errors.UnknownCase)
            await self._flags.set_flag(
                ctx.conv_id, CODE_ASKED_FLAG, str(to_ms(self._clock.now())) if retry else ""
            )
            return self._say(answer_id, ctx)
        await self._flags.set_flag(ctx.conv_id, CODE_ASKED_FLAG, "")
        return self._say(f"case_status_{view.status.value}", ctx, updated=_day(view.updated, ctx.locale))

    async def _code_was_asked(self, ctx: BotContext) -> bool:
        asked = (await self._flags.meta(ctx.conv_id)).get(CODE_ASKED_FLAG, "")
        return asked.isdigit() and to_ms(self._clock.now()) - int(asked) <= CODE_ASKED_MS

    def _is_known(self, name: str) -> bool:
        return name in (CRISIS, ASK_HUMAN, JOIN_QUEUE, LEAVE_QUEUE, CONSENT_YES, CONSENT_NO) or (
            self._content.for_intent(name) is not None or name in self._content
        )

    async def _render(self, answer: Answer, ctx: BotContext) -> list[Reply]:
        params = self._params(ctx, answer.placeholders)
        if {"position", "wait"} & set(answer.placeholders):
            place = await self._handoff.place(ctx.conv_id)
            if place is None:
                return self._say("fallback", ctx)
            params.update(position=place.position, wait=place.wait_minutes)
        return answer.replies(ctx.locale, **params)

    def _say(self, answer_id: str, ctx: BotContext, **extra: object) -> list[Reply]:
        answer = self._content.get(answer_id)
        return answer.replies(ctx.locale, **{**self._params(ctx, answer.placeholders), **extra})

    def _params(self, ctx: BotContext, names: Collection[str]) -> dict[str, object]:
        """The run-time values of the placeholders an answer has (the opening hours are worked out only
        for an answer that tells them: most do not, and every message has an answer)."""
        params: dict[str, object] = {"retention_days": self._retention_days}
        if "next_open" in names or "closes" in names:
            now = self._clock.now()
            opening = self._hours.latest.next_opening(now)
            params["next_open"] = format_moment(opening, ctx.locale) if opening else ""
            closing = self._hours.latest.closes_at(now)
            params["closes"] = format_clock(closing, ctx.locale) if closing else ""
        return params


async def _given(turn: BotTurn) -> BotTurn:
    return turn


def _as_intent(replies: list[Reply], intent: str) -> list[Reply]:
    """A variant of an intent's answer still answers that intent (what the console shows the bot learned)."""
    return [dataclasses.replace(r, intent=intent) for r in replies]


def _day(moment: datetime, locale: str) -> str:
    """A date in the child's language, e.g. '23 november' (locales/dates.yml)."""
    return default_formats().day(moment, locale)
