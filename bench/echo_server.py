"""The yardstick for bench/load.py: a bare python-socketio server that answers each message once.

It answers `session_request` with `session_confirm` (so the same client drives it and the gateway) and
`user_uttered` with one `bot_uttered` `{text}`; nothing else: no Redis, no log, no ack. Same stack as the
gateway (python-socketio AsyncServer on aiohttp, default asyncio loop), so the ratio measures our work.

    .venv/bin/python bench/echo_server.py --port 8100
"""

from __future__ import annotations

import argparse
import secrets
from typing import Any

import socketio
from aiohttp import web


def create_app() -> web.Application:
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*", logger=False, cookie=None)

    @sio.on("session_request")
    async def session_request(sid: str, data: Any = None) -> None:
        await sio.emit("session_confirm", secrets.token_urlsafe(32), to=sid)

    @sio.on("user_uttered")
    async def user_uttered(sid: str, data: Any = None) -> None:
        text = data.get("message", "") if isinstance(data, dict) else ""
        await sio.emit("bot_uttered", {"text": text}, to=sid)

    app = web.Application()
    sio.attach(app)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    print(f"echo server on http://{args.host}:{args.port}/", flush=True)
    web.run_app(create_app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
