"""Time passing at the desk: grace periods, abandoned waits, closing and opening time, children who left."""

from __future__ import annotations

import logging
from datetime import datetime

from chatbot.domain.ending import Ending
from chatbot.domain.hours import format_moment
from chatbot.model import ConversationState
from console.domain.deskpart import DeskContext, DeskPart, Moved
from console.domain.opening import Opening
from console.store.handoff import Left

log = logging.getLogger(__name__)

# Shown to the next counsellor (staff-facing, never to the child).
LOST_NOTE = "counsellor disconnected"
# Moved.detail from the sweep for a chat taken out of a load because Redis had already forgotten it.
GONE = "gone"


class Sweep(DeskPart):
    def __init__(self, context: DeskContext, opening: Opening) -> None:
        super().__init__(context)
        self._opening = opening
        self._ending = Ending(context.conversations, context.content, context.clock, context.settings)

    async def sweep(self) -> list[Moved]:
        """Grace periods, abandoned waits and closing time; run every few seconds by the console."""
        hours = await self._opening.load()
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
        if not hours.is_open(moment):
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
        opening = self._opening.hours.next_opening(moment)
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
