"""Leaving a conversation for the counsellors, and the return code that opens it again on any device.

A return code has the case code's shape (chatbot/upload/codes.py: 95 random bits in Crockford base32,
grouped by four, a check character that catches every single typo and every swap of neighbours) but its
own check seed, so a case code is never taken for a return code or the other way round. It is shown once,
to the child's socket only; Redis keeps only HMAC(key from SESSION_SECRET, code), so a dump of Redis
cannot open a conversation, and a guess must be checked by the gateway, which limits guesses per client
(a keyed hash, chatbot/domain/floods.py). Every wrong code gets one of three typed answers that depend
only on what was typed, never on how near it came to a live code.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from chatbot.clock import Clock
from chatbot.content.library import ContentLibrary
from chatbot.domain import errors
from chatbot.domain.dialogue import HoursProvider
from chatbot.domain.floods import ClientId, FloodGuard
from chatbot.domain.hours import OpeningHours, format_moment
from chatbot.domain.notices import notice_entries
from chatbot.domain.sessions import new_session_id, session_hash
from chatbot.model import ConversationState, Entry, to_ms
from chatbot.settings import Settings
from chatbot.store.conversations import ConversationStore
from chatbot.store.queue import URGENT_SHIFT_MS
from chatbot.upload.codes import ALPHABET, DATA_CHARS, check_character, new_code

log = logging.getLogger(__name__)

SEED = 1
"""The return codes' check seed (case codes use 0): the two kinds never pass each other's check."""
_READ = {**{c: i for i, c in enumerate(ALPHABET)}, "O": 0, "I": 1, "L": 1}
# How often one conversation may be left again (each time a new code, the old one dead): a child who lost
# the first code needs another; a script asking for hundreds does not.
MAX_CODES = 5
CODES_FLAG = "return_codes"
LEFT_NOTICE = "left_for_counsellor"
LEFT_QUEUED_NOTICE = "left_in_queue"
CONSENT_ASK = "transcript_consent"
CONSENT_FLAG = "transcript_consent"


def new_return_code() -> str:
    return new_code(SEED)  # shaped as case codes, so it is masked in chat text as they are


def normalize(code: object) -> str:
    """The canonical form of a typed return code; MalformedReturnCode or MistypedReturnCode if it is not
    one. Both answers depend only on the text typed (its shape, its own check character)."""
    if not isinstance(code, str) or len(code) > 64:
        raise errors.MalformedReturnCode(
            "a return code is 20 letters and digits, like ABCD-EFGH-JKMN-PQRS-TVWX"
        )
    text = "".join(ch for ch in code.upper() if ch not in " -_.\t")
    if len(text) != DATA_CHARS + 1 or any(ch not in _READ for ch in text):
        raise errors.MalformedReturnCode(
            "a return code is 20 letters and digits, like ABCD-EFGH-JKMN-PQRS-TVWX"
        )
    values = [_READ[ch] for ch in text]
    if check_character(values[:-1], SEED) != values[-1]:
        raise errors.MistypedReturnCode("this return code has a typing mistake")
    return "".join(ALPHABET[v] for v in values)


class CodeHasher:
    """HMAC of a normalized code under a key derived from SESSION_SECRET: what Redis stores."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"return-code", hashlib.sha256).digest()

    def hash(self, normalized: str) -> str:
        return hmac.new(self._key, normalized.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LeftFor:
    """A conversation left for the counsellors: the code (for the child's socket only, once) and the
    notices appended to the log."""

    code: str
    state: ConversationState
    entries: list[Entry]


@dataclass(frozen=True)
class Returned:
    session_id: str
    conv_id: str
    state: ConversationState
    last_seq: int
    locale: str


class Returns:
    """Leave a conversation for the counsellors; open it again with its return code."""

    def __init__(
        self,
        store: ConversationStore,
        content: ContentLibrary,
        hours: HoursProvider,
        clock: Clock,
        settings: Settings,
        floods: FloodGuard | None = None,
    ) -> None:
        self._store = store
        self._content = content
        self._hours = hours
        self._clock = clock
        self._settings = settings
        self._floods = floods
        self._hasher = CodeHasher(settings.session_secret.reveal().encode())

    async def leave(self, conv_id: str, locale: str) -> LeftFor:
        """Out of hours (or while queued): the conversation waits for the counsellors under a new code."""
        hours = await self._hours.current()
        now = self._clock.now()
        closed = not hours.is_open(now)
        if await self._store.increment(conv_id, CODES_FLAG) > MAX_CODES:
            raise errors.LeaveLimit(f"a conversation can be left at most {MAX_CODES} times")
        code = new_return_code()
        result = await self._store.hold(
            conv_id,
            self._hasher.hash(normalize(code)),
            now_ms=to_ms(now),
            retention=self._settings.conversation_retention,
            closed=closed,
            urgent_shift_ms=URGENT_SHIFT_MS,
        )
        if result.before is None:
            raise errors.ConversationEnded("this conversation has ended")
        if not result.held:
            # With a counsellor there is nothing to leave; with the line open the child joins the queue.
            raise errors.CannotLeave(
                "a conversation can be left for the counsellors while the line is closed or while queued",
                state=result.before.value,
            )
        state = ConversationState.LEFT_FOR_COUNSELLOR if closed else ConversationState.QUEUED
        log.info("conversation %s left for the counsellors (from %s)", conv_id, result.before.value)
        entries = await self._notices(conv_id, locale, closed, hours)
        return LeftFor(code, state, entries)

    async def _notices(self, conv_id: str, locale: str, closed: bool, hours: OpeningHours) -> list[Entry]:
        now = self._clock.now()
        opening = hours.next_opening(now) if closed else None
        params: dict[str, object] = {
            "next_open": format_moment(opening, locale) if opening else "",
            "retention_days": max(1, self._settings.conversation_retention // 86400),
        }
        name = LEFT_NOTICE if closed else LEFT_QUEUED_NOTICE
        entries = notice_entries(self._content, name, locale, now, **params)
        if CONSENT_FLAG not in await self._store.meta(conv_id) and CONSENT_ASK in self._content:
            # The same question as the queue's: without a yes the counsellor reads only what comes after.
            entries += notice_entries(self._content, CONSENT_ASK, locale, now)
        last = await self._store.append(
            conv_id, entries, now_ms=to_ms(now), retention=self._settings.conversation_retention
        )
        first = last - len(entries) + 1
        if first > 0 and not (await self._store.meta(conv_id)).get("left_seq"):
            # Without the child's consent the console shows the chat from here (console.domain.desk).
            await self._store.set_flag(conv_id, "left_seq", str(first))
        return [e.with_seq(first + i) for i, e in enumerate(entries)]

    async def redeem(self, code: object, client: ClientId | None) -> Returned:
        """Open the conversation a return code names on this device, under a new session id. Every try
        counts against the client's limit first (ReturnCodeLimit), then the code is checked."""
        if self._floods is not None and client is not None:
            admitted = await self._floods.admit_return_code(client)
            if admitted.status.value != "ok":
                raise errors.ReturnCodeLimit(
                    "too many return codes tried; wait a while", retry_after_ms=admitted.retry_after_ms
                )
        normalized = normalize(code)
        new_id = new_session_id()
        record = await self._store.redeem(
            self._hasher.hash(normalized),
            session_hash(new_id),
            retention=self._settings.conversation_retention,
        )
        if record is None:
            # One answer for a code never issued, one whose conversation ended, and one that expired.
            raise errors.UnknownReturnCode("no conversation is waiting under this return code")
        meta = await self._store.meta(record.conv_id)
        log.info("conversation %s opened with its return code", record.conv_id)
        return Returned(
            new_id,
            record.conv_id,
            record.state,
            record.last_seq,
            meta.get("locale") or self._settings.default_locale,
        )
