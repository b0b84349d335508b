"""Flood limits measured: one socket flooding new conversations, a school's class behind one address.

Starts its own redis-server and gateway on loopback (default limits unless told otherwise), then:
1. one client opens new conversations as fast as it can for --seconds (issue 12: 16,724 in 12 s before);
2. a "school": --pupils children behind one address (a trusted proxy forwards it) start within a minute;
3. under pressure: after the all-clients threshold is passed, a fresh client still gets in.
Prints what got through. Usage: .venv/bin/python bench/floods.py [--seconds 12] [--pupils 60] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatbot.gateway.app import create_app
from chatbot.redis_server import RedisServer, free_port
from chatbot.settings import Settings
from chatbot.store import keys


async def _client(url: str, address: str) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(url, headers={"X-Forwarded-For": address}, transports=["websocket"], wait_timeout=5)
    return sio


async def _open(sio: socketio.AsyncClient) -> bool:
    """One session_request for a new conversation: True if it opened."""
    done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def state(data: Any = None) -> None:
        if not done.done():
            done.set_result(True)

    def error(data: Any = None) -> None:
        if not done.done() and isinstance(data, dict) and data.get("code") == "conversation_limit":
            done.set_result(False)

    sio.on("session_state", state)
    sio.on("error", error)
    await sio.emit("session_request", {})
    return await asyncio.wait_for(done, 10)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp), appendonly=False) as server:
        settings = Settings(redis_url=server.url, gateway_trusted_proxies=("127.0.0.0/8",))
        redis = Redis.from_url(server.url)
        app = create_app(settings, redis=Redis.from_url(server.url))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        url = f"http://127.0.0.1:{port}"
        try:
            flooder = await _client(url, "198.51.100.66")
            opened = refused = 0
            start = time.monotonic()
            while time.monotonic() - start < args.seconds:
                if await _open(flooder):
                    opened += 1
                else:
                    refused += 1
            flood_s = time.monotonic() - start
            await flooder.disconnect()

            # A new minute, as when a class starts after the flood (the all-clients count is per minute).
            await asyncio.sleep(60 - time.time() % 60 + 0.5)
            pupils = [await _client(url, "203.0.113.10") for _ in range(args.pupils)]
            school = await asyncio.gather(*(_open(p) for p in pupils))
            for p in pupils:
                await p.disconnect()

            # Push the all-clients count of this minute over the threshold with many addresses.
            busy = settings.busy_new_conversations_per_minute
            others = [await _client(url, f"192.0.2.{i % 250 + 1}") for i in range(busy)]
            await asyncio.gather(*(_open(o) for o in others))
            repeat = [await _open(others[0]) for _ in range(settings.pressure_allowance)]
            fresh = await _client(url, "198.18.0.1")
            fresh_ok = await _open(fresh)
            for o in [*others, fresh]:
                await o.disconnect()
            conversations = len([k async for k in redis.scan_iter(keys.conversation("*"))])
        finally:
            await runner.cleanup()
            await redis.aclose()
    return {
        "limits": {
            "burst": settings.new_conversations_burst,
            "per_hour": settings.new_conversations_per_hour,
            "busy_per_minute": settings.busy_new_conversations_per_minute,
            "pressure_allowance": settings.pressure_allowance,
        },
        "flood": {"seconds": round(flood_s, 1), "opened": opened, "refused": refused},
        "school": {"pupils": args.pupils, "opened": sum(school)},
        "pressure": {"one_client_more_opened": sum(repeat), "fresh_client_opened": fresh_ok},
        "conversations_stored": conversations,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="how long the flooder runs")
    parser.add_argument("--pupils", type=int, default=60, help="children behind one school address")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result))
    else:
        for name, value in result.items():
            print(f"{name:22} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
