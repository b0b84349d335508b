"""The children's socket.io namespace: parses events, calls the conversation service, emits results.

Every handler turns a ChatError into an `error` event and carries on; nothing a stranger sends can
take the connection or the process down. Logs name only the random conversation id, never text or IP.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import socketio

from chatbot.domain import errors, inputs
from chatbot.domain.conversations import ConversationService
from chatbot.domain.floods import ClientHasher, ClientId
from chatbot.domain.sessions import is_client_id
from chatbot.gateway import protocol
from chatbot.gateway.delivery import Delivery
from chatbot.model import ConversationState, Reply
from chatbot.observability import Instruments
from chatbot.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class _SocketSession:
    session_id: str
    conv_id: str
    locale: str
    state: ConversationState
    # Asked for the extensions (our widget); else a plain Rasa client, which gets Rasa's channel exactly.
    extended: bool = True
    # A new conversation whose welcome this socket was sent and where the child has not written yet: a
    # Rasa client's init payload (`/get_started`) then has nothing left to do.
    fresh: bool = False
    # Until when (time.monotonic) this socket's messages are not answered before they are stored: after a
    # rate-limited message, so a flood costs no intent model for messages that will be refused.
    limited_until: float = 0.0


class _Once:
    """True for a key's first sighting in each window: a traceback is logged once, not per event."""

    def __init__(self, window_s: float) -> None:
        self._window = window_s
        self._seen: dict[str, float] = {}

    def first(self, key: str) -> bool:
        now = time.monotonic()
        if now - self._seen.get(key, -self._window) < self._window:
            return False
        if len(self._seen) > 1000:  # a handful of kinds in practice; never a growing map
            self._seen.clear()
        self._seen[key] = now
        return True


class ChildNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(
        self,
        service: ConversationService,
        delivery: Delivery,
        settings: Settings,
        locales: Collection[str] = (),
        clients: ClientHasher | None = None,
        instruments: Instruments | None = None,
    ) -> None:
        super().__init__(protocol.NAMESPACE)
        self._service = service
        self._settings = settings
        self._delivery = delivery
        # The languages offered now (set_locale, a new session): a live view, the supervisor's switch
        # reaches it within seconds (chatbot/domain/translation_follower.py).
        self._locales = locales
        self._sockets: dict[str, _SocketSession] = {}
        self._invalid_logged: set[str] = set()  # sockets whose invalid text has been logged once
        self._hasher = clients
        # Each socket's client as a keyed hash (flood limits); the address itself is never kept.
        self._clients: dict[str, ClientId] = {}
        # Sockets refused a new conversation (flood limits), with the locale they asked for: what they
        # write gets the crisis answer or the busy notice, nothing is stored.
        self._refused: dict[str, str] = {}
        self._tracebacks = _Once(60.0)
        self._instruments = instruments or Instruments()
        # Sockets whose last session_request did not ask for the extensions (Rasa clients).
        self._plain: set[str] = set()

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: object = None) -> None:
        # Nothing from environ is kept: it holds the child's address. Only its keyed hash, in memory.
        request = environ.get("aiohttp.request")
        if self._hasher is not None and request is not None:
            forwarded = request.headers.getall("X-Forwarded-For", [])
            self._clients[sid] = self._hasher.identify_peer(request.remote, forwarded)
        return None

    async def on_disconnect(self, sid: str, *args: object) -> None:
        self._invalid_logged.discard(sid)
        self._clients.pop(sid, None)
        self._refused.pop(sid, None)
        self._plain.discard(sid)
        session = self._sockets.pop(sid, None)
        if session is not None:
            await self._delivery.leave(sid, session.conv_id, extended=session.extended)
            # The last socket gone starts the child's time away (a closed tab ends after CHILD_GRACE).
            await self._service.left(session.conv_id)

    async def on_session_request(self, sid: str, data: object = None, *_: object) -> None:
        await self._guard(sid, self._session_request, data)

    async def on_user_uttered(self, sid: str, data: object = None, *_: object) -> None:
        await self._guard(sid, self._user_uttered, data)

    async def on_resume(self, sid: str, data: object = None, *_: object) -> None:
        await self._guard(sid, self._resume, data)

    async def on_end_session(self, sid: str, data: object = None, *_: object) -> None:
        await self._guard(sid, self._end_session, data)

    async def on_set_locale(self, sid: str, data: object = None, *_: object) -> None:
        await self._guard(sid, self._set_locale, data)

    async def on_typing(self, sid: str, data: object = None, *_: object) -> None:
        await self._guard(sid, self._typing, data)

    async def on_upload_request(self, sid: str, data: object = None, *_: object) -> None:
        await self._guard(sid, self._upload_request, data)

    async def on_leave_request(self, sid: str, data: object = None, *_: object) -> None:
        await self._guard(sid, self._leave_request, data)

    async def on_resume_code(self, sid: str, data: object = None, *_: object) -> None:
        await self._guard(sid, self._resume_code, data)

    async def _leave_request(self, sid: str, data: object) -> None:
        session = self._require(sid)
        protocol.as_mapping(data)
        # Announcements of the notice wait until the code and the notice went out here, in that order.
        async with self._delivery.writing(sid, session.conv_id, None):
            left = await self._service.leave_for_counsellor(session.conv_id, session.locale)
            session.state = left.state
            # To this socket only, once: the code is a bearer secret, never in the room, the log or Redis.
            await self.emit(
                protocol.RETURN_CODE,
                {"code": left.code, "keep_days": max(1, self._settings.conversation_retention // 86400)},
                to=sid,
            )
            if left.entries:
                await self._delivery.publish(session.conv_id, left.entries)

    async def _resume_code(self, sid: str, data: object) -> None:
        payload = protocol.as_mapping(data)
        returned = await self._service.open_with_code(payload.get("code"), self._clients.get(sid))
        previous = self._sockets.pop(sid, None)
        if previous is not None:
            await self._delivery.leave(sid, previous.conv_id)
            await self._service.left(previous.conv_id)
        self._refused.pop(sid, None)
        self._sockets[sid] = _SocketSession(
            returned.session_id, returned.conv_id, returned.locale, returned.state
        )
        await self._service.joined(returned.conv_id)
        await self.emit(protocol.SESSION_CONFIRM, returned.session_id, to=sid)
        await self.emit(
            protocol.SESSION_STATE,
            {
                "session_id": returned.session_id,
                "resumed": True,
                "conversation_state": returned.state.value,
                "last_seq": returned.last_seq,
                "locale": returned.locale,
                "returned": True,
            },
            to=sid,
        )
        # A new device has nothing: the whole conversation, with all the counsellor wrote meanwhile.
        await self._join(sid, returned.conv_id, 0)

    async def _upload_request(self, sid: str, data: object) -> None:
        session = self._require(sid)
        protocol.as_mapping(data)
        grant = await self._service.upload_grant(session.conv_id, session.locale, session.state)
        # To this socket only: the token is a bearer secret for one upload, never in the room or the log.
        await self.emit(protocol.UPLOAD_GRANT, protocol.upload_grant(grant, self._settings), to=sid)

    async def _typing(self, sid: str, data: object) -> None:
        session = self._require(sid)
        on = protocol.as_mapping(data).get("on")
        if not isinstance(on, bool):
            raise errors.MalformedPayload("on must be true or false")
        await self._service.typing(session.conv_id, on)

    async def trigger_event(self, event: str, *args: Any) -> Any:
        handler = getattr(self, f"on_{event}", None) if event.isidentifier() else None
        if handler is None and event not in ("connect", "disconnect"):
            sid = args[0] if args else None
            if isinstance(sid, str):
                await self._emit_error(sid, errors.MalformedPayload(f"unknown event {event[:40]!r}"))
            return None
        if handler is not None and event not in ("connect", "disconnect"):
            # Our own events: every handler is a coroutine taking (sid, data, *rest). Called directly,
            # without the base class's second lookup and its coroutine-function check on every message.
            return await handler(*args)
        return await super().trigger_event(event, *args)

    async def _session_request(self, sid: str, data: object) -> None:
        payload = protocol.as_mapping(data)
        extended = protocol.wants_extensions(payload)
        if extended:
            self._plain.discard(sid)
        else:
            self._plain.add(sid)
        last_seq = protocol.optional_seq(payload.get("last_seq"))
        locale = payload.get("locale")
        previous = self._sockets.pop(sid, None)
        if previous is not None:
            await self._delivery.leave(sid, previous.conv_id, extended=previous.extended)
            await self._service.left(previous.conv_id)
        self._refused.pop(sid, None)
        try:
            opened = await self._service.open(
                payload.get("session_id"), locale, self._locales, self._clients.get(sid)
            )
        except errors.ConversationLimit:
            chosen = inputs.choose_locale(locale, self._locales) or self._settings.default_locale
            self._refused[sid] = chosen
            for reply in await self._service.outside(None, chosen):
                await self._emit_notice(sid, reply)
            raise
        self._sockets[sid] = _SocketSession(
            opened.session_id,
            opened.conv_id,
            opened.locale,
            opened.state,
            extended=extended,
            fresh=not opened.resumed,
        )
        # Before the child hears anything: from here on they are present (a closed tab's clock stops).
        await self._service.joined(opened.conv_id)
        await self.emit(protocol.SESSION_CONFIRM, opened.session_id, to=sid)
        if not extended:
            # Rasa's channel: the welcome as bot_uttered messages on a new conversation; a resume sends
            # what the client asks for with last_seq (Rasa clients keep their own history and ask none).
            if not opened.resumed and last_seq is None:
                last_seq = 0
            await self._join(sid, opened.conv_id, last_seq, extended=False)
            return
        state: dict[str, Any] = {
            "session_id": opened.session_id,
            "resumed": opened.resumed,
            "conversation_state": opened.state.value,
            "last_seq": opened.last_seq,
            "locale": opened.locale,
        }
        if opened.resumed and _withdrawn(locale, opened.locale, self._locales):
            # The widget showed a language no longer offered: it takes the server's, menu and all.
            state["withdrawn"] = True
        await self.emit(protocol.SESSION_STATE, state, to=sid)
        # A new conversation replays from 0, so the welcome arrives; a resume sends what the client missed.
        # A Rasa webchat client sends no last_seq: it keeps its own history and gets only new messages.
        if not opened.resumed and last_seq is None:
            last_seq = 0
        await self._join(sid, opened.conv_id, last_seq)

    async def _join(self, sid: str, conv_id: str, last_seq: int | None, *, extended: bool = True) -> None:
        """Deliver the conversation to this socket, unless the child left while it was being opened: then
        their time away starts now, as if the socket had closed after joining (no ghost of a present child
        holds a counsellor's slot)."""
        if await self._delivery.join(sid, conv_id, last_seq, extended=extended):
            return
        if self._sockets.pop(sid, None) is not None:
            await self._service.left(conv_id)

    async def _user_uttered(self, sid: str, data: object) -> None:
        payload = protocol.as_mapping(data)
        if sid in self._refused and sid not in self._sockets:
            # No conversation (flood limits): a crisis still gets the crisis answer; nothing is stored.
            for reply in await self._service.outside(payload.get("message"), self._refused[sid]):
                await self._emit_notice(sid, reply)
            client_id = payload.get("client_id")
            raise errors.ConversationLimit(
                "no conversation; send session_request again later",
                client_id=client_id if is_client_id(client_id) else None,
            )
        session = self._require(sid)
        client_id = payload.get("client_id")
        message = payload.get("message")
        fresh, session.fresh = session.fresh, False
        if fresh and not session.extended and self._service.is_welcome_payload(message):
            # A Rasa client's init payload on the conversation it just opened: the welcome went out with
            # session_request; storing the payload and answering again would show the welcome twice.
            return
        sender = client_id if is_client_id(client_id) else None
        with self._instruments.handle_seconds.time():
            async with self._delivery.writing(sid, session.conv_id, sender):
                await self._receive(sid, session, message, client_id)

    async def _receive(self, sid: str, session: _SocketSession, message: Any, client_id: Any) -> None:
        withdrawn = session.locale
        session.locale = await self._service.offered_locale(session.conv_id, session.locale, self._locales)
        if session.locale != withdrawn:
            # Switched off mid-chat: this answer and the widget's strings come in the default language.
            await self._emit_state(sid, session, withdrawn=True)
        # The last known state: an answer with no effects of its own is stored with the message in one step
        # when the conversation is still in it (chatbot/domain/conversations.py).
        expect = session.state if time.monotonic() >= session.limited_until else None
        try:
            received = await self._service.receive(
                session.conv_id, session.locale, message, client_id, expect
            )
        except errors.RateLimited as exc:
            wait_ms = exc.info.get("retry_after_ms")
            session.limited_until = time.monotonic() + (wait_ms if isinstance(wait_ms, int) else 0) / 1000
            for reply in self._service.notice("rate_limited", session.conv_id, session.locale, session.state):
                await self._emit_notice(sid, reply)
            raise
        if received.state is not None:
            session.state = received.state
        self._instruments.received.inc(role="child", status="duplicate" if received.duplicate else "ok")
        if received.urgent:
            self._instruments.crisis.inc()
        for intent in {reply.intent for reply in received.replies if reply.intent}:
            self._instruments.answered(intent)
        ack = None
        if isinstance(client_id, str) and session.extended:
            ack = {"client_id": client_id, "seq": received.entry.seq, "duplicate": received.duplicate}
        entries = [] if received.duplicate else [received.entry, *received.replies]
        await self._delivery.publish(session.conv_id, entries, ack_to=sid if ack else None, ack=ack)

    async def _resume(self, sid: str, data: object) -> None:
        session = self._require(sid)
        last_seq = protocol.optional_seq(protocol.as_mapping(data).get("last_seq")) or 0
        await self._delivery.replay(sid, session.conv_id, last_seq, extended=session.extended)

    async def _set_locale(self, sid: str, data: object) -> None:
        session = self._require(sid)
        locale = protocol.as_mapping(data).get("locale")
        session.locale = await self._service.set_locale(session.conv_id, locale, self._locales)
        await self._emit_state(sid, session)

    async def _emit_state(self, sid: str, session: _SocketSession, *, withdrawn: bool = False) -> None:
        """The conversation's state after its language changed (the child's choice, or a switch-off)."""
        buttons = await self._service.buttons_now(session.conv_id, session.locale)
        state: dict[str, Any] = {
            "session_id": session.session_id,
            "resumed": True,
            "conversation_state": session.state.value,
            "last_seq": await self._service.last_seq(session.conv_id),
            "locale": session.locale,
            # The buttons on screen, in the new language (the widget re-renders them).
            "quick_replies": [q.to_wire() for q in buttons],
        }
        if withdrawn:
            state["withdrawn"] = True
        await self.emit(protocol.SESSION_STATE, state, to=sid)

    async def _end_session(self, sid: str, data: object) -> None:
        session = self._require(sid)
        reason = protocol.as_mapping(data).get("reason")
        await self._service.end(session.conv_id, session.session_id, reason)
        await self.emit(protocol.SESSION_ENDED, {}, room=session.conv_id)
        for member_sid, other in list(self._sockets.items()):
            if other.conv_id == session.conv_id:
                self._sockets.pop(member_sid, None)
                await self._delivery.leave(member_sid, session.conv_id, extended=other.extended)
                # Its socket no longer counts as the child being here (a conversation left for the
                # counsellors lives on after a quick exit, and the console shows whether the child is there).
                await self._service.left(session.conv_id)

    def _require(self, sid: str) -> _SocketSession:
        session = self._sockets.get(sid)
        if session is None:
            raise errors.NoSession("send session_request first")
        return session

    async def _guard(self, sid: str, handler: Any, data: object) -> None:
        try:
            # At the edge, before any handler: text Redis, the log or the model could not take.
            inputs.check_text(data)
            await handler(sid, data)
        except errors.InvalidText as exc:
            if sid not in self._invalid_logged:
                # One short line per socket, never the text: a flood of these must not flood the log.
                self._invalid_logged.add(sid)
                session = self._sockets.get(sid)
                log.info(
                    "invalid_text in %s for conversation %s; more from this socket are not logged",
                    handler.__name__.lstrip("_"),
                    session.conv_id if session else "-",
                )
            await self._emit_error(sid, exc)
        except errors.ChatError as exc:
            await self._emit_error(sid, exc)
        except Exception as exc:
            # Never the payload in the log: it may be what a child wrote. A traceback once per kind of
            # failure a minute; repeats get one line, so a stranger cannot fill the disk with them.
            session = self._sockets.get(sid)
            conv = session.conv_id if session else "-"
            if self._tracebacks.first(f"{handler.__name__}:{type(exc).__name__}"):
                log.exception("handler %s failed for conversation %s", handler.__name__, conv)
            else:
                log.error(
                    "handler %s failed for conversation %s (%s, repeated)",
                    handler.__name__,
                    conv,
                    type(exc).__name__,
                )
            await self._emit_error(
                sid, errors.InternalError("something went wrong on our side; please try again")
            )

    async def _emit_error(self, sid: str, exc: errors.ChatError) -> None:
        self._instruments.errors.inc(code=exc.code)
        if sid in self._plain:
            # Rasa's channel has no error event; what the child must read (slow down, busy, the crisis
            # answer) came as a bot_uttered notice already.
            return
        await self.emit(protocol.ERROR, protocol.error(exc), to=sid)

    async def _emit_notice(self, sid: str, reply: Reply) -> None:
        """A notice outside the log: Rasa's `{text, quick_replies?}` for a plain client, else ephemeral."""
        payload = protocol.rasa_ephemeral(reply) if sid in self._plain else protocol.ephemeral(reply)
        await self.emit(protocol.BOT_UTTERED, payload, to=sid)


def _withdrawn(shown: object, locale: str, offered: Collection[str]) -> bool:
    """Whether the widget shows a language (`shown`, from session_request) that is no longer offered."""
    return isinstance(shown, str) and shown != locale and bool(offered) and shown not in offered
