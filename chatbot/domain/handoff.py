"""Hand-off to a person: queue a conversation, estimate the wait honestly, move urgent ones up."""

from __future__ import annotations

import math
from dataclasses import dataclass

from chatbot.clock import Clock
from chatbot.model import to_ms
from chatbot.settings import Settings
from chatbot.store.conversations import ConversationStore
from chatbot.store.queue import QueueStore


@dataclass(frozen=True)
class QueuePlace:
    position: int
    wait_minutes: int


class Handoff:
    def __init__(
        self,
        queue: QueueStore,
        conversations: ConversationStore,
        clock: Clock,
        *,
        retention: int,
        average_chat_minutes: int,
    ) -> None:
        self._queue = queue
        self._conversations = conversations
        self._clock = clock
        self._retention = retention
        self._average = average_chat_minutes

    @classmethod
    def for_settings(
        cls, queue: QueueStore, conversations: ConversationStore, clock: Clock, settings: Settings
    ) -> Handoff:
        """The one way both processes build it (the gateway's dialogue and the console's desk)."""
        return cls(
            queue,
            conversations,
            clock,
            retention=settings.conversation_retention,
            average_chat_minutes=settings.average_chat_minutes,
        )

    async def request(self, conv_id: str) -> QueuePlace | None:
        """Queue the conversation (keeping its place if already queued); None if it no longer exists."""
        meta = await self._conversations.meta(conv_id)
        urgent = meta.get("urgent") == "1"
        position = await self._queue.enqueue(
            conv_id, now_ms=to_ms(self._clock.now()), urgent=urgent, retention=self._retention
        )
        if position < 0:
            return None
        place = QueuePlace(position, await self.estimate(position))
        # The child is told this place now (handoff_queued, queue_update): recorded as what they were told,
        # so the console tells them when it changes, also if it changes before the console first saw them
        # (the one ahead left at once). The console's mark has the same shape (console.domain.desk).
        await self._conversations.set_flag(conv_id, "announced", f"{place.position}/{place.wait_minutes}")
        return place

    async def place(self, conv_id: str) -> QueuePlace | None:
        position = await self._queue.position(conv_id)
        if position is None:
            return None
        return QueuePlace(position, await self.estimate(position))

    async def leave(self, conv_id: str) -> None:
        await self._queue.remove(conv_id)

    async def mark_urgent(self, conv_id: str) -> None:
        """Flag the conversation for staff; if it is waiting, it moves ahead of every non-urgent one."""
        await self._conversations.set_flag(conv_id, "urgent", "1")
        # Left for the counsellors out of hours: marked urgent in the console's out-of-hours list too.
        await self._queue.urgent_out_of_hours(conv_id)
        if await self._queue.position(conv_id) is not None:
            await self._queue.enqueue(
                conv_id, now_ms=to_ms(self._clock.now()), urgent=True, retention=self._retention
            )

    async def estimate(self, position: int) -> int:
        """Minutes until a counsellor is likely free: chats ahead of the child, shared over free slots.

        Honest rather than hopeful: with nobody free we assume each chat ahead takes an average chat's
        length, spread over one counsellor; never less than a minute.
        """
        return self.wait_minutes(position, await self._queue.free_slots())

    def wait_minutes(self, position: int, free: int) -> int:
        """`estimate` for a known number of free slots: a whole queue's waits from one read of them."""
        if free >= position:
            return 1
        ahead = position - free
        return max(1, math.ceil(ahead * self._average / max(1, free)))
