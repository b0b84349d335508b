"""The staff socket.io namespace: authenticated by the session cookie at connect, role-checked per event.

Every event re-reads the staff session, so a logout, an idle timeout or the absolute lifetime ends a
socket's rights as it ends the pages'. Counsellors join only the rooms of conversations they may see.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

import socketio

from console import events
from console.domain.accounts import Role, Staff, StaffSessions
from console.domain.desk import Desk
from console.domain.deskpart import DeskError
from console.live import Live
from console.security import SESSION_COOKIE

log = logging.getLogger(__name__)

DESK_ROLES = frozenset({Role.COUNSELLOR, Role.SUPERVISOR})
STAFF_ROOM = "staff"


def user_room(name: str) -> str:
    return f"user:{name}"


@dataclass
class _Socket:
    token: str
    name: str
    role: Role


class StaffNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(self, sessions: StaffSessions, desk: Desk, live: Live) -> None:
        super().__init__(events.NAMESPACE)
        self._sessions = sessions
        self._desk = desk
        self._live = live
        self._sockets: dict[str, _Socket] = {}
        # Names this process's sockets in Redis presence, apart from other console processes' sids.
        self._instance = secrets.token_hex(6)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: object = None) -> None:
        token = _cookie(environ.get("HTTP_COOKIE", ""))
        staff = await self._sessions.resolve(token)
        if staff is None or staff.role not in DESK_ROLES or staff.stage:
            # Refused before any room is joined; the client sees connect_error.
            raise socketio.exceptions.ConnectionRefusedError("sign in as a counsellor or supervisor")
        assert token is not None
        self._sockets[sid] = _Socket(token, staff.name, staff.role)
        await self.enter_room(sid, STAFF_ROOM)
        await self.enter_room(sid, user_room(staff.name))
        await self._desk.shifts.connected(staff.name, self._conn(sid))
        await self.emit(events.HELLO, {"name": staff.name, "role": staff.role.value}, to=sid)
        await self.emit(events.QUEUE, await self._live.snapshot(), to=sid)

    async def on_disconnect(self, sid: str, *args: object) -> None:
        socket = self._sockets.pop(sid, None)
        if socket is None:
            return
        self._live.unwatch_all(sid)
        # If no other socket of theirs is live (here or in another process), the grace period starts;
        # the sweep requeues their chats if they do not come back in time.
        await self._desk.shifts.disconnected(socket.name, self._conn(sid))

    async def heartbeat(self) -> None:
        """Every tick: sockets whose session ended go (a socket that only listens sends no event to
        check it); the rest are still live in Redis (a crashed process's go stale there)."""
        for sid, socket in list(self._sockets.items()):
            if not await self._sessions.valid(socket.token):
                await self._drop(sid)
        await self._desk.shifts.alive([(s.name, self._conn(sid)) for sid, s in list(self._sockets.items())])

    async def drop_account(self, name: str) -> None:
        """An administrator ended this account's sessions: its sockets here go at once."""
        for sid, socket in list(self._sockets.items()):
            if socket.name == name:
                await self._drop(sid)

    async def _drop(self, sid: str) -> None:
        await self.emit(events.ERROR, events.error("unauthorised", "your session has ended"), to=sid)
        await self.disconnect(sid)

    async def release_all(self) -> None:
        """Shutdown: take this process's sockets out of Redis now, so their grace starts without waiting."""
        for sid, socket in list(self._sockets.items()):
            self._sockets.pop(sid, None)
            await self._desk.shifts.disconnected(socket.name, self._conn(sid))

    def _conn(self, sid: str) -> str:
        return f"{self._instance}:{sid}"

    async def on_watch(self, sid: str, data: object = None) -> None:
        staff = await self._check(sid)
        if staff is None:
            return
        conv_id, last_seq = _conv(data), _seq(data)
        if conv_id is None:
            await self.emit(events.ERROR, events.error("malformed_payload", "conv_id is required"), to=sid)
            return
        try:
            view = await self._desk.transcripts.view(
                conv_id, staff.name, supervisor=staff.role is Role.SUPERVISOR
            )
        except DeskError as exc:
            await self.emit(events.ERROR, events.error(exc.code, exc.detail), to=sid)
            return
        await self._live.watch(sid, conv_id, max(last_seq, view.hidden_before - 1))

    async def on_unwatch(self, sid: str, data: object = None) -> None:
        if await self._check(sid) is None:
            return
        conv_id = _conv(data)
        if conv_id is not None:
            await self._live.unwatch(sid, conv_id)

    async def on_typing(self, sid: str, data: object = None) -> None:
        staff = await self._check(sid)
        if staff is None:
            return
        conv_id = _conv(data)
        on = isinstance(data, dict) and data.get("on") is True
        if conv_id is None:
            return
        meta = await self._desk.transcripts.conversation_meta(conv_id)
        if meta.get("counsellor") != staff.name:
            await self.emit(events.ERROR, events.error("not_yours", "not your conversation"), to=sid)
            return
        await self._live.counsellor_typing(conv_id, on)

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event not in ("connect", "disconnect", events.WATCH, events.UNWATCH, events.TYPING):
            sid = args[0] if args else None
            if isinstance(sid, str):
                await self.emit(events.ERROR, events.error("malformed_payload", "unknown event"), to=sid)
            return None
        try:
            return await super().trigger_event(event, *args)
        except socketio.exceptions.ConnectionRefusedError:
            raise
        except Exception:
            log.exception("staff event %s failed", event)
            return None

    async def _check(self, sid: str) -> Staff | None:
        """The session behind this socket, still valid and with a desk role; otherwise the socket goes."""
        socket = self._sockets.get(sid)
        staff = await self._sessions.resolve(socket.token) if socket else None
        if staff is None or staff.role not in DESK_ROLES or staff.stage:
            await self._drop(sid)
            return None
        return staff


def _cookie(header: str) -> str | None:
    try:
        jar = SimpleCookie(header)
    except CookieError:
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def _conv(data: object) -> str | None:
    if isinstance(data, dict):
        value = data.get("conv_id")
        if isinstance(value, str) and 0 < len(value) <= 64 and value.isalnum():
            return value
    return None


def _seq(data: object) -> int:
    value = data.get("last_seq") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
