"""Thin HTTP views of the gateway: health, and the demo host page that shows how to embed the chat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from chatbot.gateway.appkeys import REDIS

STATIC = Path(__file__).resolve().parent.parent / "static"


async def health(request: web.Request) -> web.Response:

    try:
        await request.app[REDIS].ping()
    except Exception:
        return web.json_response({"status": "degraded", "redis": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "redis": "ok"})


async def demo_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "demo.html")


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")
    return response
