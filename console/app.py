"""`create_app(settings)`: the staff console as an aiohttp application (its own process, firewallable)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import socketio
from aiohttp import web
from redis.asyncio import Redis

from chatbot import hsts
from chatbot.clock import Clock, SystemClock
from chatbot.content.loading import load_library
from chatbot.domain.content_versions import ContentFollower, ContentVersions, LiveLibrary, Snapshot
from chatbot.domain.floods import FloodGuard
from chatbot.domain.hours import OpeningHours
from chatbot.observability import serve_metrics
from chatbot.settings import Settings, SettingsError
from chatbot.store import client
from chatbot.store import keys as chat_keys
from chatbot.store.content_versions import ContentVersionStore, ShownCounts
from chatbot.store.conversations import ConversationStore
from chatbot.store.floods import FloodStore
from chatbot.store.hours import HoursStore
from chatbot.store.notifications import Notifications
from chatbot.store.queue import QueueStore
from console import case_pages, events, preview_pages, routes, security, translation_pages
from console.appkeys import (
    ACCOUNTS,
    AUDIT,
    CASES,
    CLOCK,
    CONTENT,
    CONTENT_FOLLOWER,
    DESK,
    INSTRUMENTS,
    LIVE,
    OVERRULES,
    REDIS,
    SESSIONS,
    SETTINGS,
    SHOWN,
    TEMPLATES,
    VERSIONS,
    WORKSPACE,
)
from console.domain.accounts import AccountService, StaffSessions
from console.domain.desk import Desk
from console.domain.editing import Workspace
from console.domain.overrules import Overrules
from console.domain.throttle import Pause, SignInThrottle
from console.i18n import ConsoleTemplates
from console.live import Live
from console.namespace import StaffNamespace
from console.observing import instruments_for_console, watch_desk
from console.store.accounts import AccountStore, SessionStore
from console.store.drafts import DraftStore
from console.store.handoff import HandoffStore
from console.store.overrules import OverruleStore
from console.store.sealing import SecretBox
from console.store.stats import StatsStore
from console.store.throttle import ThrottleStore

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# The staff namespace, for shutdown (its sockets' presence); only this module needs it.
STAFF_NAMESPACE = web.AppKey("staff_namespace", StaffNamespace)

MISSING_KEY = (
    "CONSOLE_SECRET_KEY (or CONSOLE_SECRET_KEY_FILE) is not set: the console seals staff TOTP secrets with "
    "it. Make one with `openssl rand -hex 32` and keep it with the console, never in Redis; "
    "scripts/run makes a local one in var/console-secret.key."
)

# Console forms are small; nothing a counsellor types comes near this.
MAX_REQUEST_BYTES = 64 * 1024


def create_app(
    settings: Settings,
    *,
    redis: Redis | None = None,
    clock: Clock | None = None,
    pause: Pause = asyncio.sleep,
) -> web.Application:
    """Build the console. Tests pass their own Redis client, clock and `pause` (how the sign-in throttle
    waits, so they can see its delays without waiting); production passes settings only."""
    if settings.console_secret_key is None:
        raise SettingsError(MISSING_KEY)
    box = SecretBox.from_hex(settings.console_secret_key.reveal())
    if redis is None:
        if not (settings.redis_url or settings.redis_sentinels or settings.redis_cluster_nodes):
            raise ValueError("REDIS_URL is not set")
        redis = client.connect(
            settings.redis_url,
            sentinels=settings.redis_sentinels,
            master_name=settings.redis_master_name,
            cluster_nodes=settings.redis_cluster_nodes,
        )
    instruments = instruments_for_console()
    clock = clock or SystemClock()
    throttle = SignInThrottle(
        ThrottleStore(redis), clock, settings.session_secret.reveal().encode(), pause=pause
    )
    accounts = AccountService(AccountStore(redis, box), clock, throttle)
    sessions = StaffSessions(
        SessionStore(redis),
        clock,
        idle_s=settings.console_idle_timeout,
        lifetime_s=settings.console_session_lifetime,
    )
    # Follows the published content version like the gateway (chatbot/domain/content_versions.py).
    content = LiveLibrary.serving(load_library(settings))
    version_store = ContentVersionStore(redis, settings.content_version_retention)
    versions = ContentVersions(version_store, clock)
    follower = ContentFollower(versions, version_store, content, settings.default_locale)
    # The console's writes are announced to the children's side, so the gateway delivers them live.
    conversations = ConversationStore(
        redis,
        announce_to=chat_keys.NOTIFY_CHILDREN,
        timing=instruments.redis_timing,
        ack_replicas=settings.redis_ack_replicas,
    )
    desk = Desk(
        HandoffStore(redis),
        conversations,
        QueueStore(redis),
        StatsStore(redis, retention=settings.stats_retention, observer=instruments),
        content,
        clock,
        settings,
        OpeningHours.parse(settings.opening_hours, settings.opening_exceptions),
        HoursStore(redis),
        FloodGuard(FloodStore(redis), clock, settings),
    )
    # Same origin only (no CORS list): staff pages are served by this process and nobody else's.
    sio = socketio.AsyncServer(async_mode="aiohttp", cookie=None, logger=False, engineio_logger=False)
    live = Live(
        sio,
        Notifications(redis),
        desk,
        conversations,
        delivered=lambda entry: instruments.delivered.inc(role=entry.role.value, side="staff"),
    )
    instruments.watch_queue(QueueStore(redis))
    instruments.watch_connections("staff", lambda: len(sio.eio.sockets))
    namespace = StaffNamespace(sessions, desk, live, errors=lambda code: instruments.errors.inc(code=code))
    sio.register_namespace(namespace)
    live.on_tick(namespace.heartbeat)
    live.on_revoked(namespace.drop_account)
    app = web.Application(
        client_max_size=MAX_REQUEST_BYTES,
        middlewares=[
            security.headers,
            security.sessions_middleware(sessions.resolve),
            security.authorise,
            security.csrf,
        ],
    )
    sio.attach(app, socketio_path=events.SOCKETIO_PATH)
    app[SETTINGS] = settings
    app[REDIS] = redis
    app[CLOCK] = clock
    app[ACCOUNTS] = accounts
    app[SESSIONS] = sessions
    app[TEMPLATES] = ConsoleTemplates(TEMPLATES_DIR, settings.locales_dir)
    app[CONTENT] = content
    app[VERSIONS] = versions
    app[CONTENT_FOLLOWER] = follower
    app[DESK] = desk
    app[LIVE] = live
    app[STAFF_NAMESPACE] = namespace
    app[INSTRUMENTS] = instruments
    case_pages.install(app, redis, clock)
    watch_desk(instruments, desk, app[CASES])
    app[WORKSPACE] = Workspace(DraftStore(redis), versions, app[AUDIT], clock)
    # Scheduled and time-boxed publishing: due schedules are applied at the tick, claimed once.
    live.also_tick(app[WORKSPACE].run_due)
    app[OVERRULES] = Overrules(OverruleStore(redis), app[WORKSPACE], app[AUDIT], clock)
    app[SHOWN] = ShownCounts(redis, settings.stats_retention)
    translation_pages.install(app, redis, clock)
    preview_pages.install(app)
    routes.setup(app)
    hsts.install(app, settings.hsts_max_age)
    app.cleanup_ctx.append(_redis_lifecycle)
    app.cleanup_ctx.append(translation_pages.follow_console_strings)
    app.cleanup_ctx.append(_background)
    app.cleanup_ctx.append(serve_metrics(instruments.metrics, settings.metrics_host, settings.metrics_port))
    return app


async def _redis_lifecycle(app: web.Application) -> AsyncIterator[None]:
    await app[REDIS].ping()
    # Refuse to serve with a key that cannot open the accounts' TOTP secrets (and seal legacy ones).
    await app[ACCOUNTS].check_key()
    yield
    await app[REDIS].aclose()


async def _background(app: web.Application) -> AsyncIterator[None]:
    live = app[LIVE]
    settings = app[SETTINGS]
    follower = app[CONTENT_FOLLOWER]
    await follower.start(Snapshot.from_repository(settings.content_dir, settings.locales_dir))
    tasks = [
        asyncio.create_task(live.run_listener()),
        asyncio.create_task(live.run_ticker()),
        asyncio.create_task(follower.run()),
    ]
    yield
    live.stop()
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # A clean stop hands its counsellors' grace to the other (or the next) console process at once.
    with contextlib.suppress(Exception):
        await app[STAFF_NAMESPACE].release_all()
