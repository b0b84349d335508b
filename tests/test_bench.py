"""Smoke tests of the benchmark tools: the echo yardstick answers like the gateway's clients expect."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web

from tests.conftest import served

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load_echo() -> Any:
    spec = importlib.util.spec_from_file_location("bench_echo_server", BENCH / "echo_server.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.asynccontextmanager
async def connected(app: web.Application) -> AsyncIterator[tuple[socketio.AsyncClient, asyncio.Queue[Any]]]:
    """The app on a free loopback port and a real client connected to it, with every event it receives."""
    client = socketio.AsyncClient(reconnection=False)
    events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    @client.on("*")
    async def record(event: str, data: Any = None) -> None:
        await events.put((event, data))

    async with served(app) as url:
        try:
            await client.connect(url, transports=["websocket"], wait_timeout=5)
            yield client, events
        finally:
            await client.disconnect()


async def test_echo_server_answers_one_bot_uttered_per_message() -> None:
    async with connected(_load_echo().create_app()) as (client, events):
        await client.emit("session_request", {"session_id": None})
        event, session_id = await asyncio.wait_for(events.get(), 5)
        assert event == "session_confirm" and isinstance(session_id, str) and len(session_id) == 43
        await client.emit("user_uttered", {"message": "hej", "client_id": "m1"})
        assert await asyncio.wait_for(events.get(), 5) == ("bot_uttered", {"text": "hej"})
        await asyncio.sleep(0.2)
        assert events.empty()  # one answer, no ack, nothing else


async def test_wire_server_sends_the_gateways_events_for_a_message() -> None:
    """The wire floor answers as the gateway does on the compact protocol: one `turn` frame with the ack
    and the answer's bubbles in seq."""
    from chatbot.domain.content import ContentLibrary

    root = BENCH.parent
    expected = ContentLibrary.load(root / "content", root / "locales").replies("greet", "sv")
    async with connected(_load_echo().create_app("wire", "greet")) as (client, events):
        for turn in (1, 2):
            await client.emit("user_uttered", {"message": "hej", "client_id": f"m{turn}"})
            event, frame = await asyncio.wait_for(events.get(), 5)
            assert event == "turn"
            ack = frame["ack"]
            assert ack["client_id"] == f"m{turn}" and not ack["duplicate"]
            assert len(frame["entries"]) == len(expected)
            for i, (reply, bubble) in enumerate(zip(expected, frame["entries"], strict=True), 1):
                assert bubble["seq"] == ack["seq"] + i
                assert bubble["text"] == reply.text and bubble["role"] == "bot"
                assert len(bubble.get("quick_replies", [])) == len(reply.quick_replies)
        assert ack["seq"] == 2 + len(expected)  # seqs continue across turns, as in the log
        await asyncio.sleep(0.2)
        assert events.empty()


def test_load_script_documents_its_options() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "load.py"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "--saturation-clients" in done.stdout and "--paced-clients" in done.stdout
    assert "echo" in done.stdout
