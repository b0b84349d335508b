"""The child socket's Engine.IO loop (chatbot/gateway/engine.py): every socket gets it, pings still end a silent
connection, polling still upgrades, and frames a stranger writes by hand leave the connection and every
other child healthy."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import web
from engineio import async_socket

from chatbot.gateway import protocol
from chatbot.gateway.engine import ChildServer, ChildSocket
from tests.conftest import served

SOCKET_PATH = f"/{protocol.SOCKETIO_PATH}/?EIO=4&transport=websocket"


def _echo_server(**options: Any) -> ChildServer:
    server = ChildServer(async_mode="aiohttp", async_handlers=False, **options)

    @server.on("say")  # type: ignore[untyped-decorator]
    async def say(sid: str, data: Any) -> None:
        await server.emit("said", data, to=sid)

    return server


async def _app(server: ChildServer) -> web.Application:
    app = web.Application()
    server.attach(app)
    return app


@contextlib.asynccontextmanager
async def _raw(url: str) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    async with aiohttp.ClientSession() as session, session.ws_connect(url + SOCKET_PATH) as ws:
        opened = await ws.receive_str(timeout=5)
        assert opened.startswith("0{")
        yield ws


async def _frame(ws: aiohttp.ClientWebSocketResponse, prefix: str) -> str:
    """The next text frame that starts with `prefix` (pings and others on the way are answered or skipped)."""
    while True:
        frame = await ws.receive_str(timeout=5)
        if frame == "2":
            await ws.send_str("3")
        elif frame.startswith(prefix):
            return frame


def test_the_child_server_refuses_concurrent_handlers() -> None:
    with pytest.raises(ValueError, match="async_handlers"):
        ChildServer(async_mode="aiohttp")


@pytest.mark.parametrize("transports", [["websocket"], ["polling", "websocket"]])
async def test_every_socket_is_a_child_socket_and_events_flow(transports: list[str]) -> None:
    server = _echo_server()
    async with served(await _app(server)) as url:
        client = socketio.AsyncClient(reconnection=False)
        got: asyncio.Queue[Any] = asyncio.Queue()
        client.on("said", got.put)
        await client.connect(url, transports=transports, wait_timeout=5)
        try:
            for n in range(20):
                await client.emit("say", {"n": n, "text": "hej då, åäö 🙂"})
            assert [await asyncio.wait_for(got.get(), 5) for _ in range(20)] == [
                {"n": n, "text": "hej då, åäö 🙂"} for n in range(20)
            ]
            (socket,) = server.eio.sockets.values()
            assert type(socket) is ChildSocket
            assert socket.upgraded
            assert client.transport() == "websocket"
        finally:
            await client.disconnect()


async def test_a_client_that_answers_pings_stays_and_a_silent_one_is_closed() -> None:
    # Pings every 0.2 s, 0.3 s to answer: python-socketio's client answers them, a raw socket does not.
    server = _echo_server(ping_interval=0.2, ping_timeout=0.3)
    async with served(await _app(server)) as url:
        live = socketio.AsyncClient(reconnection=False)
        await live.connect(url, transports=["websocket"], wait_timeout=5)
        async with _raw(url) as silent:
            await silent.send_str("40")
            assert (await silent.receive_str(timeout=5)).startswith("40")
            # The silent socket is closed by Engine.IO's service task, which then wakes the writer: the
            # websocket closes from the server's side (python-engineio's loop waited 45 s for that).
            while (await silent.receive(timeout=10)).type not in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
            ):
                pass
        assert live.connected
        got: asyncio.Queue[Any] = asyncio.Queue()
        live.on("said", got.put)
        await live.emit("say", "still here")
        assert await asyncio.wait_for(got.get(), 5) == "still here"
        await live.disconnect()
        for _ in range(100):  # the service task drops closed sockets from its table on its next round
            if not server.eio.sockets:
                break
            await asyncio.sleep(0.05)
        assert not server.eio.sockets


# Frames nobody's client sends, written by hand: Engine.IO types that do not exist or a client may not send,
# socket.io packets that do not parse, binary without a packet announcing it.
HOSTILE_FRAMES: list[str | bytes] = [
    "4",
    "4x",
    "42",
    "42[",
    '42["session_request"',
    "42{}",
    "49",
    "4999",
    '4{"a":1}',
    "9",
    "x",
    "6",
    "2probe",
    "5",
    "3",
    "\x00",
    "4\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    b"\x00\x01\x02",
    b"",
    "4" + "2" * 5000,
    '43["x"]',
    '40{"auth":[1,2,3]}',
]


@pytest.mark.parametrize("frame", HOSTILE_FRAMES, ids=repr)
async def test_a_hand_written_frame_leaves_the_connection_and_other_children_healthy(
    gateway: Any, child_factory: Any, caplog: pytest.LogCaptureFixture, frame: str | bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    other = child_factory(gateway.url)
    await other.connect()
    await other.start()
    async with _raw(gateway.url) as ws:
        await ws.send_str("40")
        await _frame(ws, "40")
        if isinstance(frame, bytes):
            await ws.send_bytes(frame)
        else:
            await ws.send_str(frame)
        # The same connection still works: it asks for a session and gets one.
        await ws.send_str('42["session_request",{"extensions":1}]')
        confirm = json.loads((await _frame(ws, '42["session_confirm"'))[2:])
        assert confirm[0] == "session_confirm" and confirm[1]
        await other.say("hej", client_id="after")
        assert (await other.expect("message_ack"))["client_id"] == "after"
    if isinstance(frame, str) and len(frame) > 2:
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert frame not in logged  # a stranger's frame is never written to the log


async def test_the_websocket_loop_is_python_engineios_own_shape() -> None:
    # ChildSocket replaces one method of python-engineio's socket and calls its others: a new python-engineio
    # that renamed them must fail here, not in production.
    for name in ("_websocket_handler", "receive", "close", "check_ping_timeout"):
        assert callable(getattr(async_socket.AsyncSocket, name))
    socket = async_socket.AsyncSocket(_echo_server().eio, "sid")
    assert isinstance(socket.queue, asyncio.Queue)


@pytest.mark.parametrize("probe", ["x", "2nothing", "5", b"\x00"], ids=repr)
async def test_an_upgrade_without_its_probe_is_refused_and_polling_goes_on(
    probe: str | bytes, caplog: pytest.LogCaptureFixture
) -> None:
    server = _echo_server()
    async with served(await _app(server)) as url, aiohttp.ClientSession() as session:
        base = f"{url}/{protocol.SOCKETIO_PATH}/?EIO=4&transport=polling"
        async with session.get(base) as opened:
            sid = json.loads((await opened.text())[1:])["sid"]
        async with session.ws_connect(
            f"{url}/{protocol.SOCKETIO_PATH}/?EIO=4&transport=websocket&sid={sid}"
        ) as ws:
            if isinstance(probe, bytes):
                await ws.send_bytes(probe)
            else:
                await ws.send_str(probe)
            assert (await ws.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        socket = server.eio.sockets[sid]
        assert type(socket) is ChildSocket and not socket.upgrading and not socket.upgraded
        # The polling transport still works: the namespace opens over it.
        async with session.post(f"{base}&sid={sid}", data="40") as posted:
            assert posted.status == 200
        async with session.get(f"{base}&sid={sid}") as polled:
            assert (await polled.text()).startswith("40")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
