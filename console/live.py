"""Live delivery to staff sockets: transcripts as they grow, the queue as it moves, typing, alerts.

Like the gateway, the log in Redis is the truth and pub/sub only wakes us: a notification names a
conversation and a seq, and we read the entries from the log. A watched conversation has a cursor and
a lock, so a socket that starts watching and a live entry never interleave or repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import socketio

from chatbot.model import Role
from chatbot.store.conversations import ConversationStore
from chatbot.store.notifications import ALL_CHANNELS, Left, Notification, Notifications, Other, Typing, Urgent
from console import events
from console.domain.desk import Desk
from console.domain.sweep import GONE
from console.store import keys

log = logging.getLogger(__name__)

TICK_SECONDS = 2.0


def conv_room(conv_id: str) -> str:
    return f"conv:{conv_id}"


@dataclass
class _Room:
    cursor: int = -1
    sids: set[str] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Live:
    def __init__(
        self, sio: socketio.AsyncServer, notifications: Notifications, desk: Desk, store: ConversationStore
    ) -> None:
        self._sio = sio
        self._notifications = notifications
        self._desk = desk
        self._store = store
        self._rooms: dict[str, _Room] = {}
        self._wake = asyncio.Event()
        self._last_queue = ""
        self._urgent_seen: set[str] = set()
        self._stopped = False
        self._heartbeat: Callable[[], Awaitable[None]] | None = None
        self._revoked: Callable[[str], Awaitable[None]] | None = None

    def on_tick(self, heartbeat: Callable[[], Awaitable[None]]) -> None:
        """Run before every sweep: the staff namespace refreshes its sockets' presence in Redis."""
        self._heartbeat = heartbeat

    def on_revoked(self, drop: Callable[[str], Awaitable[None]]) -> None:
        """Called with an account name when an administrator ended its sessions (disable, reset, remove)."""
        self._revoked = drop

    # Transcripts -------------------------------------------------------------------------------------

    async def watch(self, sid: str, conv_id: str, after: int) -> None:
        room = self._rooms.setdefault(conv_id, _Room())
        async with room.lock:
            if room.cursor < 0:
                room.cursor = await self._store.length(conv_id)
            items = await self._store.read(conv_id, after, room.cursor) if after < room.cursor else []
            payload = events.entries(conv_id, items)
            payload["last_seq"] = max(room.cursor, after)
            await self._sio.emit(events.ENTRIES, payload, to=sid, namespace=events.NAMESPACE)
            room.sids.add(sid)
            await self._sio.enter_room(sid, conv_room(conv_id), namespace=events.NAMESPACE)

    async def unwatch(self, sid: str, conv_id: str) -> None:
        room = self._rooms.get(conv_id)
        if room is None:
            return
        room.sids.discard(sid)
        await self._sio.leave_room(sid, conv_room(conv_id), namespace=events.NAMESPACE)
        if not room.sids:
            self._rooms.pop(conv_id, None)

    def unwatch_all(self, sid: str) -> None:
        for conv_id, room in list(self._rooms.items()):
            room.sids.discard(sid)
            if not room.sids:
                self._rooms.pop(conv_id, None)

    async def publish(self, conv_id: str, upto: int) -> None:
        room = self._rooms.get(conv_id)
        if room is None:
            return
        async with room.lock:
            if upto <= room.cursor:
                return
            items = await self._store.read(conv_id, room.cursor, upto)
            room.cursor = upto
            if items:
                await self._sio.emit(
                    events.ENTRIES,
                    events.entries(conv_id, items),
                    room=conv_room(conv_id),
                    namespace=events.NAMESPACE,
                )

    async def counsellor_typing(self, conv_id: str, on: bool) -> None:
        await self._notifications.typing(conv_id, Role.COUNSELLOR.value, on)

    # The queue ---------------------------------------------------------------------------------------

    def changed(self) -> None:
        """Something moved (a claim, a new child in the queue): recompute the queue now, not at the tick."""
        self._wake.set()

    async def conversation_changed(self, conv_id: str) -> None:
        meta = await self._desk.transcripts.conversation_meta(conv_id)
        await self._sio.emit(
            events.CONVERSATION,
            {
                "conv_id": conv_id,
                "state": meta.get("state", "gone"),
                "counsellor": meta.get("counsellor", ""),
            },
            room="staff",
            namespace=events.NAMESPACE,
        )
        self.changed()

    async def child_left(self, conv_id: str, counsellor: str, left_from: str, reason: str) -> None:
        """The child has left: every console page that shows the chat (the conversation, My chats, the
        queue) says so at once; the load and the queue were already recounted (Desk.settle_left)."""
        await self._sio.emit(
            events.CONVERSATION,
            events.left(conv_id, counsellor, left_from, reason),
            room="staff",
            namespace=events.NAMESPACE,
        )
        self._last_queue = ""  # the loads changed: the next snapshot goes out even if the queue did not

    async def crisis(self, conv_id: str) -> None:
        """The crisis check hit in a conversation: the child was shown the emergency numbers. A waiting
        child moved to the front (the queue's own `urgent` alert follows at the tick); a child with a
        counsellor makes her console show an urgent notice at once, wherever she is in it."""
        meta = await self._desk.transcripts.conversation_meta(conv_id)
        if meta.get("state") != "counsellor":
            self.changed()
            return
        await self._sio.emit(
            events.URGENT,
            events.urgent(conv_id, "counsellor", meta.get("counsellor", "")),
            room="staff",
            namespace=events.NAMESPACE,
        )

    async def snapshot(self) -> dict[str, Any]:
        return {
            "items": [events.queue_item(i) for i in await self._desk.waiting.queue()],
            # Left for the counsellors while the line is closed: they enter the queue when it opens.
            "out_of_hours": [events.held_item(i) for i in await self._desk.waiting.out_of_hours()],
            "on_shift": [events.shift(s) for s in await self._desk.shifts.on_shift()],
        }

    async def tick(self) -> None:
        """Sweep (grace periods, closing time), tell waiting children their place, push the queue."""
        if self._heartbeat is not None:
            # First, so a counsellor connected here never looks gone to this very sweep.
            await self._heartbeat()
        moved = await self._desk.sweeper.sweep()
        # Children who left by any path (the outbox): out of the load, then everyone's pages are told.
        for left in await self._desk.sweeper.settle_left():
            await self.child_left(left.conv_id, left.counsellor, left.left_from, left.reason)
        for item in moved:
            if item.detail == GONE:
                await self.child_left(item.conv_id, "", "", "expired")
        await self._desk.waiting.announce_positions()
        snapshot = await self.snapshot()
        # waited_s changes every second; pages count it up themselves, so it does not make a change.
        comparable = json.dumps(
            {
                "items": [{k: v for k, v in i.items() if k != "waited_s"} for i in snapshot["items"]],
                # Apart from the queue: a child moving from this list into it is a change.
                "out_of_hours": [
                    {k: v for k, v in i.items() if k != "left_s"} for i in snapshot["out_of_hours"]
                ],
                "on_shift": snapshot["on_shift"],
            },
            sort_keys=True,
        )
        if comparable != self._last_queue:
            self._last_queue = comparable
            await self._sio.emit(events.QUEUE, snapshot, room="staff", namespace=events.NAMESPACE)
        for item in snapshot["items"]:
            if item["urgent"] and item["conv_id"] not in self._urgent_seen:
                self._urgent_seen.add(item["conv_id"])
                await self._sio.emit(
                    events.URGENT,
                    events.urgent(item["conv_id"], "queued", ""),
                    room="staff",
                    namespace=events.NAMESPACE,
                )
        waiting = {i["conv_id"] for i in snapshot["items"]}
        self._urgent_seen &= waiting

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    async def run_ticker(self) -> None:
        # A flag as well as cancel(): redis-py can swallow a cancel mid-command, and this loop must end.
        while not self._stopped and not _cancelling():
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                if _cancelling():
                    raise asyncio.CancelledError from None
                log.warning("console tick failed; retrying", exc_info=True)
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel and hang shutdown.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK_SECONDS):
                    await self._wake.wait()
            self._wake.clear()

    async def run_listener(self) -> None:
        while not self._stopped and not _cancelling():
            try:
                async for notice in self._notifications.listen(*ALL_CHANNELS, keys.REVOKED):
                    await self._on_notice(notice)
            except asyncio.CancelledError:
                raise
            except Exception:
                if _cancelling():
                    raise asyncio.CancelledError from None
                # Redis went away: live updates pause; pages resume from their last seq when it is back.
                log.warning("staff listener lost Redis; retrying in 1 s", exc_info=True)
                await asyncio.sleep(1)

    async def _on_notice(self, notice: Notification) -> None:
        if isinstance(notice, Other):
            if notice.channel == keys.REVOKED and self._revoked is not None:
                await self._revoked(notice.text)
            return
        if isinstance(notice, Urgent):
            await self.crisis(notice.conv_id)
            return
        if isinstance(notice, Left):
            # A child left: tick now (settle the outbox, recount the queue), not at the next tick.
            self.changed()
            return
        if isinstance(notice, Typing):
            if notice.role == Role.CHILD.value and notice.conv_id in self._rooms:
                await self._sio.emit(
                    events.CHILD_TYPING,
                    {"conv_id": notice.conv_id, "on": notice.on},
                    room=conv_room(notice.conv_id),
                    namespace=events.NAMESPACE,
                )
            return
        if notice.by_gateway:
            await self._desk.actions.child_wrote_at(notice.conv_id, notice.seq)
            # The gateway wrote: a child may have asked for a person (or left); look at the queue now.
            self.changed()
        await self.publish(notice.conv_id, notice.seq)


def _cancelling() -> bool:
    """A cancel that a library turned into another exception (redis-py does, mid-command) still stops us."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
