"""Live delivery of log entries to the sockets of a conversation, in order and once.

Each conversation with a socket on this process has a cursor: the last seq delivered to its room. Work
on one conversation is serialised by its lock, so a replay to a reconnecting socket and a live message
can never interleave: the socket sees every entry once, in order. The log stays the truth; this only
carries it. A conversation has two socket.io rooms, one per protocol mode: sockets with the extensions
get compact `turn` frames, plain Rasa clients get Rasa's `bot_uttered` messages (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from chatbot.gateway import protocol
from chatbot.model import Entry, Role
from chatbot.observability import Instruments
from chatbot.store.conversations import ConversationStore

# A socket.io EVENT frame as python-socketio's Packet.encode writes it for JSON data: the packet type, the
# namespace unless it is the default one, then [event, data] as compact JSON. The JSON is orjson's, which
# keeps letters as they are where python-socketio escapes them ("å" is 2 bytes on the wire, not "\u00e5"'s
# 6) and takes a tenth of the time. tests/chatbot/gateway/test_delivery.py checks that python-socketio reads
# the frames back as the same data; the npm client and the widget read them in the browser tests.
_EVENT_PREFIX = str(sio_packet.EVENT) + ("" if protocol.NAMESPACE == "/" else protocol.NAMESPACE + ",")
_STANDARD_JSON = json.JSONEncoder(separators=(",", ":")).encode


def event_frame(event: str, data: Any) -> str:
    try:
        return _EVENT_PREFIX + orjson.dumps([event, data]).decode()
    except orjson.JSONEncodeError:
        # A lone surrogate, which UTF-8 cannot carry: escaped, as python-socketio escapes it.
        return _EVENT_PREFIX + _STANDARD_JSON([event, data])


def rasa_room(conv_id: str) -> str:
    """The room of a conversation's plain Rasa sockets; the extended sockets' room is the conv_id itself
    (so what others emit to the conversation, e.g. `session_ended`, reaches only clients that know it)."""
    return "rasa:" + conv_id


@dataclass
class _Room:
    cursor: int
    # The sockets themselves, not counts: a socket that leaves twice, or leaves before its join finished,
    # cannot unbalance the room.
    extended: set[str] = field(default_factory=set)  # sockets with the extensions
    plain: set[str] = field(default_factory=set)  # plain Rasa sockets
    joining: int = 0  # joins under way: the room stays while one waits for its lock
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # A child's message goes to the child's *other* sockets (a second tab), never back to the one that
    # wrote it: client id ('' for none) -> the writing socket, while its write is on the way.
    senders: dict[str, str] = field(default_factory=dict)
    # While a socket's write is on the way, announcements (the pub/sub echo, another process's entries)
    # wait here: the writer delivers its turn with its ack in one frame, then whatever is left goes out.
    deferred: int = 0


class Delivery:
    def __init__(
        self, sio: socketio.AsyncServer, store: ConversationStore, instruments: Instruments | None = None
    ) -> None:
        self._sio = sio
        self._store = store
        self._instruments = instruments or Instruments()
        self._rooms: dict[str, _Room] = {}

    async def join(self, sid: str, conv_id: str, last_seq: int | None, *, extended: bool = True) -> bool:
        """Add a socket to its conversation; with last_seq, replay what it has not seen (one `history` with
        the extensions, Rasa's `bot_uttered` messages without). False when the socket has already gone
        (a child who closed the tab while their session was being opened): nothing is joined."""
        room = self._rooms.get(conv_id)
        if room is None:
            room = self._rooms[conv_id] = _Room(cursor=-1)
        room.joining += 1
        try:
            async with room.lock:
                if room.cursor < 0:
                    room.cursor = await self._store.length(conv_id)
                if not self._sio.manager.is_connected(sid, protocol.NAMESPACE):
                    return False
                (room.extended if extended else room.plain).add(sid)
                await self._sio.enter_room(
                    sid, conv_id if extended else rasa_room(conv_id), namespace=protocol.NAMESPACE
                )
                if last_seq is not None:
                    await self.replay(sid, conv_id, last_seq, room, extended=extended)
            return True
        finally:
            room.joining -= 1
            self._forget_if_empty(conv_id, room)

    def _forget_if_empty(self, conv_id: str, room: _Room) -> None:
        if not room.extended and not room.plain and not room.joining and self._rooms.get(conv_id) is room:
            del self._rooms[conv_id]

    async def replay(
        self,
        sid: str,
        conv_id: str,
        last_seq: int,
        room: _Room | None = None,
        *,
        extended: bool = True,
    ) -> None:
        room = room or self._rooms.get(conv_id)
        upto = room.cursor if room else -1
        entries = await self._store.read(conv_id, last_seq, upto) if upto < 0 or last_seq < upto else []
        if not extended:
            for entry in entries:
                if entry.role is not Role.CHILD:
                    await self._emit(protocol.BOT_UTTERED, protocol.rasa_uttered(entry), to=sid)
            return
        last = entries[-1].seq if entries else (upto if upto >= 0 else last_seq)
        await self._emit(protocol.HISTORY, protocol.history(entries, last), to=sid)

    async def leave(self, sid: str, conv_id: str, *, extended: bool = True) -> None:
        room = self._rooms.get(conv_id)
        if room is None:
            return
        (room.extended if extended else room.plain).discard(sid)
        self._forget_if_empty(conv_id, room)
        await self._sio.leave_room(
            sid, conv_id if extended else rasa_room(conv_id), namespace=protocol.NAMESPACE
        )

    async def publish(
        self,
        conv_id: str,
        entries: Sequence[Entry] = (),
        upto: int | None = None,
        *,
        ack_to: str | None = None,
        ack: dict[str, Any] | None = None,
    ) -> None:
        """Deliver everything up to the given entries' last seq (or `upto`) that the room has not had.

        With `ack`, the socket `ack_to` (extended) gets it in the same `turn` frame as the bubbles, also
        when there is nothing new to deliver (a duplicate, or entries another path delivered first)."""
        room = self._rooms.get(conv_id)
        if room is None:
            if ack is not None and ack_to is not None:
                await self._emit(protocol.TURN, protocol.turn((), ack), to=ack_to)
            return
        last = entries[-1].seq if entries else (upto or 0)
        if not entries and ack is None and room.senders:
            room.deferred = max(room.deferred, last)
            return
        async with room.lock:
            if last <= room.cursor:
                todo: Sequence[Entry] = ()
            elif entries and entries[0].seq <= room.cursor + 1:
                todo = [e for e in entries if e.seq > room.cursor]
            else:
                todo = await self._store.read(conv_id, room.cursor, last)
            for entry in todo:
                if entry.role is not Role.CHILD:
                    continue
                # The child's own message, to their other tabs on this process, never back to the socket
                # that wrote it (a tab on another process gets it from that process). Rasa clients keep
                # their own messages themselves. With no other tab, nothing is made at all.
                writer = room.senders.get(entry.client_id or "")
                if room.extended and not (len(room.extended) == 1 and writer in room.extended):
                    await self._emit(
                        protocol.BOT_UTTERED, protocol.history_entry(entry), room=conv_id, skip_sid=writer
                    )
            shown = [e for e in todo if e.role is not Role.CHILD]
            if ack is not None and ack_to is not None:
                await self._emit(protocol.TURN, protocol.turn(shown, ack), to=ack_to)
                if shown and len(room.extended) > 1:
                    await self._emit(protocol.TURN, protocol.turn(shown), room=conv_id, skip_sid=ack_to)
            elif shown and room.extended:
                await self._emit(protocol.TURN, protocol.turn(shown), room=conv_id)
            if room.plain:
                for entry in shown:
                    await self._emit(
                        protocol.BOT_UTTERED, protocol.rasa_uttered(entry), room=rasa_room(conv_id)
                    )
            for entry in todo:
                self._instruments.delivered.inc(role=entry.role.value, side="child")
            room.cursor = max(room.cursor, last)

    @contextlib.asynccontextmanager
    async def writing(self, sid: str, conv_id: str, client_id: str | None) -> AsyncIterator[None]:
        """While a socket's message is stored and delivered: it is the sender, so its own message is not
        sent back to it, and announcements wait until its turn (ack and bubbles in one frame) is out."""
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
            if not room.senders and room.deferred > room.cursor:
                await self.publish(conv_id, upto=room.deferred)

    async def typing(self, conv_id: str, on: bool) -> None:
        # Extended sockets only: a Rasa client has no such event.
        await self._emit(protocol.TYPING, {"role": "counsellor", "on": on}, room=conv_id)

    def is_local(self, conv_id: str) -> bool:
        return conv_id in self._rooms

    async def _emit(
        self,
        event: str,
        data: Any,
        *,
        to: str | None = None,
        room: str | None = None,
        skip_sid: str | None = None,
    ) -> None:
        """`sio.emit` to one socket or a room, without its per-recipient task: python-socketio's manager
        starts a task for every recipient and waits for them all, though a send only queues the frame on
        the socket (its writer task writes it). Our frames hold JSON only (never bytes), so socket.io's
        scan of the data for binary parts is not needed. The frame is encoded once for every recipient."""
        sio = self._sio
        message = eio_packet.Packet(eio_packet.MESSAGE, event_frame(event, data))
        if to is not None:
            eio_sid = sio.manager.eio_sid_from_sid(to, protocol.NAMESPACE)
            if eio_sid is not None:
                await sio.eio.send_packet(eio_sid, message)
            return
        # get_participants walks a copy of the room: a socket leaving meanwhile changes nothing here.
        for sid, eio_sid in sio.manager.get_participants(protocol.NAMESPACE, room):
            if sid != skip_sid:
                await sio.eio.send_packet(eio_sid, message)
