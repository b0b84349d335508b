"""Live delivery of log entries to the sockets of a conversation, in order and once.

Each conversation with a socket on this process has a cursor: the last seq delivered to its room. Work
on one conversation is serialised by its lock, so a replay to a reconnecting socket and a live message
can never interleave: the socket sees every entry once, in order. The log stays the truth; this only
carries it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import socketio

from chatbot.domain.model import Entry, Role
from chatbot.gateway import protocol
from chatbot.observability import Instruments
from chatbot.store.conversations import ConversationStore


@dataclass
class _Room:
    cursor: int
    members: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # A child's message goes to the child's *other* sockets (a second tab), never back to the one that
    # wrote it: client id ('' for none) -> the writing socket, while its write is on the way.
    senders: dict[str, str] = field(default_factory=dict)


class Delivery:
    def __init__(
        self, sio: socketio.AsyncServer, store: ConversationStore, instruments: Instruments | None = None
    ) -> None:
        self._sio = sio
        self._store = store
        self._instruments = instruments or Instruments()
        self._rooms: dict[str, _Room] = {}

    async def join(self, sid: str, conv_id: str, last_seq: int | None) -> None:
        """Add a socket to its conversation; with last_seq, replay what it has not seen as one `history`."""
        room = self._rooms.get(conv_id)
        if room is None:
            room = self._rooms[conv_id] = _Room(cursor=-1)
        room.members += 1
        async with room.lock:
            if room.cursor < 0:
                room.cursor = await self._store.length(conv_id)
            await self._sio.enter_room(sid, conv_id, namespace=protocol.NAMESPACE)
            if last_seq is not None:
                await self.replay(sid, conv_id, last_seq, room)

    async def replay(self, sid: str, conv_id: str, last_seq: int, room: _Room | None = None) -> None:
        room = room or self._rooms.get(conv_id)
        upto = room.cursor if room else -1
        entries = await self._store.read(conv_id, last_seq, upto) if upto < 0 or last_seq < upto else []
        last = entries[-1].seq if entries else (upto if upto >= 0 else last_seq)
        await self._sio.emit(
            protocol.HISTORY, protocol.history(entries, last), to=sid, namespace=protocol.NAMESPACE
        )

    async def leave(self, sid: str, conv_id: str) -> None:
        room = self._rooms.get(conv_id)
        if room is None:
            return
        room.members -= 1
        if room.members <= 0:
            del self._rooms[conv_id]
        await self._sio.leave_room(sid, conv_id, namespace=protocol.NAMESPACE)

    async def publish(self, conv_id: str, entries: Sequence[Entry] = (), upto: int | None = None) -> None:
        """Deliver everything up to the given entries' last seq (or `upto`) that the room has not had."""
        room = self._rooms.get(conv_id)
        if room is None:
            return
        last = entries[-1].seq if entries else (upto or 0)
        async with room.lock:
            if last <= room.cursor:
                return
            if entries and entries[0].seq <= room.cursor + 1:
                todo = [e for e in entries if e.seq > room.cursor]
            else:
                todo = await self._store.read(conv_id, room.cursor, last)
            for entry in todo:
                if entry.role is Role.CHILD:
                    # The child's own message, to their other tabs (here, or on another process).
                    await self._sio.emit(
                        protocol.BOT_UTTERED,
                        protocol.history_entry(entry),
                        room=conv_id,
                        skip_sid=room.senders.get(entry.client_id or ""),
                        namespace=protocol.NAMESPACE,
                    )
                else:
                    await self._sio.emit(
                        protocol.BOT_UTTERED,
                        protocol.bot_uttered(entry),
                        room=conv_id,
                        namespace=protocol.NAMESPACE,
                    )
                self._instruments.delivered.inc(role=entry.role.value)
            room.cursor = max(room.cursor, last)

    @contextlib.contextmanager
    def writing(self, sid: str, conv_id: str, client_id: str | None) -> Iterator[None]:
        """While a socket's message is stored and delivered: it is the sender, so its own message is not
        sent back to it, whichever announcement (its own write, or the pub/sub echo) delivers it first."""
        room = self._rooms.get(conv_id)
        if room is None:
            yield
            return
        key = client_id or ""
        room.senders[key] = sid
        try:
            yield
        finally:
            if room.senders.get(key) == sid:
                del room.senders[key]

    async def typing(self, conv_id: str, on: bool) -> None:
        await self._sio.emit(
            protocol.TYPING, {"role": "counsellor", "on": on}, room=conv_id, namespace=protocol.NAMESPACE
        )

    def is_local(self, conv_id: str) -> bool:
        return conv_id in self._rooms
