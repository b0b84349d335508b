"""What every part of the desk shares: its stores, the clock, the settings, the child-facing notices, and
what an action reports (`Moved`) or refuses (`DeskError`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from chatbot.clock import Clock
from chatbot.content.library import ContentLibrary
from chatbot.domain.handoff import Handoff
from chatbot.domain.notices import notice_entries
from chatbot.model import Entry, to_ms
from chatbot.settings import Settings
from chatbot.store.conversations import ConversationStore
from chatbot.store.queue import QueueStore
from console.domain import stats as stats_rules
from console.store.handoff import HandoffStore
from console.store.stats import StatsStore

log = logging.getLogger(__name__)


class DeskError(Exception):
    """A desk action that cannot be done now; `code` is stable for the UI and the socket events."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Moved:
    """What an action changed: entries appended to the child's log, and conversations whose place moved."""

    conv_id: str
    entries: list[Entry] = field(default_factory=list)
    detail: str = ""


@dataclass(frozen=True)
class DeskContext:
    """What the desk's parts share, built once per desk: the stores (hand-offs and shifts, conversations,
    the queue, the day's counts), the content, the clock, the settings and the one `Handoff`."""

    store: HandoffStore
    conversations: ConversationStore
    queue: QueueStore
    stats: StatsStore
    content: ContentLibrary
    clock: Clock
    settings: Settings
    handoff: Handoff


class DeskPart:
    """One part of the desk (shifts, the queue, a transcript, actions, the sweep)."""

    def __init__(self, context: DeskContext) -> None:
        self._store = context.store
        self._conversations = context.conversations
        self._queue = context.queue
        self._stats = context.stats
        self._content = context.content
        self._clock = context.clock
        self._settings = context.settings
        self._handoff = context.handoff

    def _now_ms(self) -> int:
        return to_ms(self._clock.now())

    def _today(self) -> str:
        return stats_rules.day_of(self._clock.now())

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
