"""`python -m chatbot serve` and `python -m console serve` (one shared helper) as an operator runs them."""

from __future__ import annotations

import asyncio
import gc
import os
import sys

import aiohttp
import pytest
from aiohttp import web

from chatbot.cli_support import YOUNG_OBJECTS_BEFORE_COLLECTION, settle_heap
from chatbot.redis_server import free_port
from chatbot.settings import Settings
from tests.conftest import ROOT


async def start(package: str, env: dict[str, str], *argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        package,
        "serve",
        *argv,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize("package", ["chatbot", "console"])
async def test_serve_says_what_is_missing(package: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    process = await start(package, env)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2 and out == b""
    assert err.decode().strip() == (
        "error: REDIS_URL is not set. Point it at a Redis, or run scripts/run to start everything."
    )


@pytest.mark.parametrize(("package", "banner"), [("chatbot", "chatbot gateway"), ("console", "console")])
async def test_serve_listens_where_asked_and_stops_on_sigterm(
    package: str, banner: str, settings: Settings, redis: object
) -> None:
    key = settings.console_secret_key
    assert key is not None
    env = {**os.environ, "REDIS_URL": settings.redis_url, "CONSOLE_SECRET_KEY": key.reveal()}
    port = free_port()
    process = await start(package, env, "--host", "127.0.0.1", "--port", str(port))
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 120)
        assert line.decode().strip() == f"{banner} on http://127.0.0.1:{port}/"
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        assert response.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"{package} did not answer on port {port}")
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_after_startup_the_heap_is_frozen_and_collected_in_larger_steps() -> None:
    threshold = gc.get_threshold()
    try:
        kept = [{"made": "at startup"} for _ in range(1000)]  # objects that live as long as the process
        await settle_heap(web.Application())
        assert gc.get_freeze_count() >= len(kept)
        assert not any(x is kept for x in gc.get_objects())  # never walked again
        assert gc.get_threshold()[0] == YOUNG_OBJECTS_BEFORE_COLLECTION > threshold[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
