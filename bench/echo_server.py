"""The yardsticks for bench/load.py: bare python-socketio servers that answer each message at once.

Two modes, both on the gateway's own stack (python-socketio AsyncServer on aiohttp, default asyncio
loop), both with no Redis, no log and no model:

  echo   the issue's yardstick: `session_request` → `session_confirm`, `user_uttered` → one
         `bot_uttered {text}`; nothing else.
  wire   the gateway's wire without its work: `user_uttered` → one compact `turn` frame with the
         ack and the same bubbles the gateway sends for the benchmark's message (the real answer from
         `content/`, with seq, role, ts and buttons), as the extensions do (docs/protocol.md). Gateway minus wire is what our work costs;
         wire minus echo is what the protocol's extra events cost.

    .venv/bin/python bench/echo_server.py --port 8100 [--mode wire --answer greet]
"""

from __future__ import annotations

import argparse
import secrets
import time
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent


def create_app(mode: str = "echo", answer: str = "greet") -> web.Application:
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*", logger=False, cookie=None)
    bubbles = _bubbles(answer) if mode == "wire" else []
    seqs: dict[str, int] = {}

    @sio.on("session_request")
    async def session_request(sid: str, data: Any = None) -> None:
        await sio.emit("session_confirm", secrets.token_urlsafe(32), to=sid)

    @sio.on("user_uttered")
    async def user_uttered(sid: str, data: Any = None) -> None:
        text = data.get("message", "") if isinstance(data, dict) else ""
        if mode == "echo":
            await sio.emit("bot_uttered", {"text": text}, to=sid)
            return
        seq = seqs.get(sid, 0) + 1
        seqs[sid] = seq + len(bubbles)
        client_id = data.get("client_id") if isinstance(data, dict) else None
        now = int(time.time() * 1000)
        # The compact protocol (docs/protocol.md): one `turn` frame, the ack and every bubble.
        entries = [{**bubble, "seq": seq + i, "ts": now} for i, bubble in enumerate(bubbles, 1)]
        ack = {"client_id": client_id, "seq": seq, "duplicate": False}
        await sio.emit("turn", {"entries": entries, "ack": ack}, to=sid)

    @sio.on("disconnect")
    async def disconnect(sid: str, *_: Any) -> None:
        seqs.pop(sid, None)

    app = web.Application()
    sio.attach(app)
    return app


def _bubbles(answer_id: str) -> list[dict[str, Any]]:
    """The payloads (without seq and ts) the gateway sends for this answer, built by the gateway's code."""
    from chatbot.content.library import ContentLibrary

    replies = ContentLibrary.load(ROOT / "content", ROOT / "locales").replies(answer_id, "sv")
    out = []
    for reply in replies:
        payload: dict[str, Any] = {"text": reply.text, "role": "bot"}
        if reply.quick_replies:
            payload["quick_replies"] = [q.to_wire() for q in reply.quick_replies]
        out.append(payload)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--mode", choices=("echo", "wire"), default="echo")
    parser.add_argument("--answer", default="greet", help="wire mode: the answer whose bubbles are sent")
    args = parser.parse_args()
    app = create_app(args.mode, args.answer)
    print(f"{args.mode} server on http://{args.host}:{args.port}/", flush=True)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
