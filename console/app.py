"""`create_app(settings)`: the staff console as an aiohttp application (its own process, firewallable)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import jinja2
from aiohttp import web
from redis.asyncio import Redis

from chatbot.clock import Clock, SystemClock
from chatbot.settings import Settings
from console import routes, security
from console.appkeys import ACCOUNTS, CLOCK, REDIS, SESSIONS, SETTINGS, TEMPLATES
from console.domain.accounts import AccountService, StaffSessions
from console.store.accounts import AccountStore, SessionStore

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# Console forms are small; nothing a counsellor types comes near this.
MAX_REQUEST_BYTES = 64 * 1024


def create_app(
    settings: Settings, *, redis: Redis | None = None, clock: Clock | None = None
) -> web.Application:
    """Build the console. Tests pass their own Redis client and clock; production passes settings only."""
    if redis is None:
        if not settings.redis_url:
            raise ValueError("REDIS_URL is not set")
        redis = Redis.from_url(settings.redis_url)
    clock = clock or SystemClock()
    accounts = AccountService(AccountStore(redis), clock, settings.session_secret.reveal().encode())
    sessions = StaffSessions(
        SessionStore(redis),
        clock,
        idle_s=settings.console_idle_timeout,
        lifetime_s=settings.console_session_lifetime,
    )
    app = web.Application(
        client_max_size=MAX_REQUEST_BYTES,
        middlewares=[
            security.headers,
            security.sessions_middleware(sessions.resolve),
            security.authorise,
            security.csrf,
        ],
    )
    app[SETTINGS] = settings
    app[REDIS] = redis
    app[CLOCK] = clock
    app[ACCOUNTS] = accounts
    app[SESSIONS] = sessions
    app[TEMPLATES] = templates()
    routes.setup(app)
    app.cleanup_ctx.append(_redis_lifecycle)
    return app


def templates() -> jinja2.Environment:
    # Autoescape everything: a child's text must render as text in every page, whatever it contains.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return env


async def _redis_lifecycle(app: web.Application) -> AsyncIterator[None]:
    await app[REDIS].ping()
    yield
    await app[REDIS].aclose()
