"""The child socket's Engine.IO transport: python-engineio's websocket loop without a task and a timer a frame.

python-engineio reads each websocket frame in a new task under `asyncio.wait_for` (so that a silent
connection ends after `ping_interval + ping_timeout`) and its writer waits for each frame the same way; a
text message then goes through its generic event dispatch (a closure, a coroutine check, a log call)
before socket.io sees it. At saturation that was about a tenth of the gateway's CPU per message
(docs/benchmarks.md, issue 17, seventh pass). Here each socket has one reader and one writer loop that
simply await the next frame, and a message goes to socket.io's handler directly.

What the timeouts guarded against is kept another way: a client that stops answering pings is found by
Engine.IO's own service task (`check_ping_timeout`), which closes the socket; the writer is then woken so
it closes the websocket, and that ends the reader. Everything else (the upgrade from polling, pings,
polling itself, closing) is python-engineio's own code, unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio
from engineio import async_socket, exceptions
from engineio import packet as eio_packet

log = logging.getLogger(__name__)

_MESSAGE = str(eio_packet.MESSAGE)


class ChildSocket(async_socket.AsyncSocket):  # type: ignore[misc]
    """An Engine.IO socket of the child gateway (see the module's docstring)."""

    # python-engineio's own state, which these methods read and set (its package has no types).
    connected: bool
    upgrading: bool
    upgraded: bool

    async def _websocket_handler(self, ws: Any) -> None:
        websocket = ws._sock  # aiohttp's WebSocketResponse (the async mode is always aiohttp here)
        if self.connected:
            # An upgrade from polling: python-engineio's probe exchange, as it does it.
            self.upgrading = True
            if not await self._probe(websocket, ws):
                self.upgrading = False
                return
            self.upgraded = True
            self.upgrading = False
        else:
            self.connected = True
            self.upgraded = True
        writer = asyncio.ensure_future(self._write(websocket))
        try:
            await self._read(websocket)
        finally:
            await self.queue.put(None)  # the writer's signal to end
            await writer
            await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)

    async def _probe(self, websocket: Any, ws: Any) -> bool:
        probe = await self._next_packet(websocket)
        if probe is None or probe.packet_type != eio_packet.PING or probe.data != "probe":
            log.info("a websocket upgrade without the probe was refused")
            return False
        await ws.send(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
        await self.queue.put(eio_packet.Packet(eio_packet.NOOP))  # ends the poll under way
        upgrade = await self._next_packet(websocket)
        if upgrade is None or upgrade.packet_type != eio_packet.UPGRADE:
            self.upgraded = False
            log.info("a websocket upgrade without the upgrade packet was refused")
            return False
        return True

    async def _next_frame(self, websocket: Any) -> str | bytes | None:
        """The next frame's data; None when the connection closed or failed, or the frame is over the limit
        (the connection then ends)."""
        data = (await websocket.receive()).data
        if not isinstance(data, str | bytes) or len(data) > self.server.max_http_buffer_size:
            return None
        return data

    async def _next_packet(self, websocket: Any) -> eio_packet.Packet | None:
        """The next frame as a packet; None for a closed connection or a frame that is none."""
        data = await self._next_frame(websocket)
        if not data:
            return None
        try:
            return eio_packet.Packet(encoded_packet=data)
        except ValueError:  # not an Engine.IO packet ("x"): the upgrade is refused like any other
            return None

    async def _read(self, websocket: Any) -> None:
        while True:
            data = await self._next_frame(websocket)
            if data is None:
                return
            if not data:
                continue  # an empty frame carries no packet
            try:
                if isinstance(data, str) and data[0] == _MESSAGE and data[1:2].isdigit():
                    # A socket.io packet (it always starts with its type, a digit): straight to socket.io,
                    # as python-engineio's Packet would hand it on.
                    await self._message(data[1:])
                else:
                    await self.receive(eio_packet.Packet(encoded_packet=data))
            except exceptions.SocketIsClosedError:
                return
            except exceptions.UnknownPacketError:
                continue  # a packet type a client may not send: ignored, as python-engineio does
            except (ValueError, TypeError, KeyError, IndexError) as exc:
                # A frame socket.io cannot read, which a stranger can send at will: one line, no frame
                # (it is the stranger's text), and the connection goes on as python-engineio's did.
                log.info("a frame that could not be read was dropped (%s)", type(exc).__name__)
            except Exception:
                log.exception("a frame from a child's socket failed")

    async def _message(self, data: str) -> None:
        handler = self.server.handlers.get("message")
        if handler is not None:
            await handler(self.sid, data)

    async def _write(self, websocket: Any) -> None:
        queue = self.queue
        while True:
            pkt = await queue.get()
            queue.task_done()
            if pkt is None:
                break
            encoded = pkt.encode()
            try:
                if isinstance(encoded, str):
                    await websocket.send_str(encoded)
                else:
                    await websocket.send_bytes(encoded)
            except Exception:  # the connection is gone: the reader sees it end
                break
        await websocket.close()

    async def check_ping_timeout(self) -> bool:
        alive: bool = await super().check_ping_timeout()
        if not alive:
            # Closed for a missed ping: wake the writer, so it closes the websocket and the reader ends.
            self.queue.put_nowait(None)
        return alive


class ChildServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server whose Engine.IO sockets are `ChildSocket`s.

    python-engineio makes each socket itself, with no factory to pass; its connect event is the first
    moment the socket is seen, before any frame is read from it, and the subclass adds only methods, so
    the socket is made a `ChildSocket` there (tests/chatbot/gateway/test_engine.py checks it)."""

    def __init__(self, **options: Any) -> None:
        if options.get("async_handlers", True):
            raise ValueError("the child server reads one child's events in order: async_handlers=False")
        super().__init__(**options)

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        socket = self.eio.sockets.get(eio_sid)
        if type(socket) is async_socket.AsyncSocket:
            socket.__class__ = ChildSocket
        return await super()._handle_eio_connect(eio_sid, environ)
