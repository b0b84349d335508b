"""How a conversation ends: one function for every exit path (quick exit, end chat, beacon, closed tab,
expiry), in every state, so the console always learns at once that the child has left. A conversation
left for the counsellors is the one exception: a quick exit, the beacon or a closed tab only let the
device go (DETACHING); it waits for the counsellors and the return code.

The end is one store script: the state and the reason, the `child_left` notice in the log (from
content/, so a child who still has a tab open reads it, and the counsellor sees it in the transcript),
out of the queue, into the console's outbox (`keys.LEFT`), and a wake-up on `keys.NOTIFY_LEFT`. The
console settles the rest (load, categorisation, statistics) from the outbox: console.domain.desk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from chatbot.clock import Clock
from chatbot.content.library import ContentLibrary
from chatbot.domain.notices import notice_entries
from chatbot.model import ConversationState, to_ms
from chatbot.settings import Settings
from chatbot.store.conversations import ConversationStore

log = logging.getLogger(__name__)

CHILD_LEFT = "child_left"
"""The notice (content/answers/child_left.yml) every end writes to the log; its `extra.reason` says how."""


class EndReason(StrEnum):
    QUICK_EXIT = "quick_exit"
    END_CHAT = "end_chat"
    BEACON = "beacon"
    """The quick exit's HTTP beacon: the socket was down."""
    CLOSED = "closed"
    """No socket of the child for CHILD_GRACE: a closed tab, a lost phone, a browser that was killed."""
    EXPIRED = "expired"
    """No activity for (almost) the conversation retention: the sweep ends it before Redis forgets it."""


DETACHING = frozenset({EndReason.QUICK_EXIT, EndReason.BEACON, EndReason.CLOSED})
"""Exits that leave a conversation held for the counsellors (chatbot.model.HELD_FLAG) alive: the
device keeps nothing, but what the child left waits for the counsellors and the return code. An end chat,
the return code's end and expiry end it like any other."""


@dataclass(frozen=True)
class Ended:
    conv_id: str
    reason: EndReason
    left_from: ConversationState
    last_seq: int


class Ending:
    def __init__(
        self, store: ConversationStore, content: ContentLibrary, clock: Clock, settings: Settings
    ) -> None:
        self._store = store
        self._content = content
        self._clock = clock
        self._settings = settings

    async def end(
        self,
        conv_id: str,
        reason: EndReason,
        *,
        session_hash: str | None = None,
        away_before_ms: int = 0,
        idle_before_ms: int = 0,
    ) -> Ended | None:
        """End the conversation; None when it was already ended, is gone, or the child came back."""
        now = self._clock.now()
        meta = await self._store.meta(conv_id)
        locale = meta.get("locale") or self._settings.default_locale
        entries = (
            notice_entries(self._content, CHILD_LEFT, locale, now, reason=reason.value)
            if CHILD_LEFT in self._content
            else []
        )
        result = await self._store.end(
            conv_id,
            entries,
            reason=reason.value,
            session_hash=session_hash,
            now_ms=to_ms(now),
            retention=self._settings.conversation_retention,
            away_before_ms=away_before_ms,
            idle_before_ms=idle_before_ms,
            detach=reason in DETACHING,
        )
        if result.held:
            # Left for the counsellors: the device is let go (its session id is dead), the conversation
            # waits for them and for the child's return code.
            log.info(
                "conversation %s is left for the counsellors; %s only let the device go",
                conv_id,
                reason.value,
            )
            return None
        if not result.ended or result.left_from is None:
            return None
        log.info("conversation %s ended (%s) from state %s", conv_id, reason.value, result.left_from.value)
        return Ended(conv_id, reason, result.left_from, result.last_seq)

    async def sweep(self) -> list[Ended]:
        """The exits nobody announces, decided here and not by Redis expiry (which is only the backstop):
        a closed tab (no socket of the child for CHILD_GRACE) and a chat idle for almost the retention
        (a margin of CHILD_GRACE, at most half the retention, before Redis would forget it)."""
        now_ms = to_ms(self._clock.now())
        away_before = now_ms - self._settings.child_grace * 1000
        margin = min(self._settings.child_grace, self._settings.conversation_retention // 2)
        idle_before = now_ms - (self._settings.conversation_retention - margin) * 1000
        away, idle = await self._store.due_to_end(away_before_ms=away_before, idle_before_ms=idle_before)
        ended = []
        for conv_id in away:
            done = await self.end(conv_id, EndReason.CLOSED, away_before_ms=away_before)
            if done is not None:
                ended.append(done)
        for conv_id in idle:
            done = await self.end(conv_id, EndReason.EXPIRED, idle_before_ms=idle_before)
            if done is not None:
                ended.append(done)
        return ended
