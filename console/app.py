"""`create_app(settings)`: the staff console as an aiohttp application (its own process, firewallable)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis

from chatbot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", Redis)


def create_app(settings: Settings, *, redis: Redis | None = None) -> web.Application:
    if redis is None:
        if not settings.redis_url:
            raise ValueError("REDIS_URL is not set")
        redis = Redis.from_url(settings.redis_url)
    app = web.Application()
    app[SETTINGS] = settings
    app[REDIS] = redis
    app.router.add_get("/healthz", health)
    app.cleanup_ctx.append(_redis_lifecycle)
    return app


async def health(request: web.Request) -> web.Response:
    try:
        await request.app[REDIS].ping()
    except Exception:
        return web.json_response({"status": "degraded", "redis": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "redis": "ok"})


async def _redis_lifecycle(app: web.Application) -> AsyncIterator[None]:
    await app[REDIS].ping()
    yield
    await app[REDIS].aclose()
