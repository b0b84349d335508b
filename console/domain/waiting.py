"""The queue as counsellors see it, the out-of-hours list, and telling each waiting child their place."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from chatbot.model import ConversationState, Entry, Role
from console.domain.deskpart import DeskPart, Moved


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


class Waiting(DeskPart):
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
