"""`create_app(settings)`: the child gateway as an aiohttp application with socket.io attached."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import ipaddress
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from chatbot import hsts
from chatbot.clock import Clock, SystemClock
from chatbot.content.loading import load_library
from chatbot.content.widget_catalogs import WidgetCatalogs, offer_safe
from chatbot.domain.bot import Bot
from chatbot.domain.content_versions import ContentFollower, ContentVersions, LiveLibrary, Snapshot
from chatbot.domain.conversations import ConversationService
from chatbot.domain.ending import Ending
from chatbot.domain.floods import ClientHasher, FloodGuard
from chatbot.domain.moments import default_formats
from chatbot.domain.returns import Returns
from chatbot.domain.translation_follower import LiveWidgetCatalogs, OfferedLocales, TranslationFollower
from chatbot.gateway import protocol, routes, upload_views, widget
from chatbot.gateway.appkeys import (
    ASSETS,
    CATALOGS,
    CLIENTS,
    CONTENT_FOLLOWER,
    DELIVERY,
    FLOODS,
    INSTRUMENTS,
    PROCESS,
    REDIS,
    SERVICE,
    SETTINGS,
    SIO,
    TRANSLATION_FOLLOWER,
)
from chatbot.gateway.assembly import build_bot, build_hours, build_nlu
from chatbot.gateway.delivery import Delivery
from chatbot.gateway.engine import ChildServer
from chatbot.gateway.namespace import ChildNamespace
from chatbot.model import Role
from chatbot.nlu.service import Nlu
from chatbot.observability import Instruments, serve_metrics
from chatbot.settings import Settings
from chatbot.store import client, keys
from chatbot.store.content_versions import ContentVersionStore, ShownCounts
from chatbot.store.conversations import ConversationStore
from chatbot.store.floods import FloodStore
from chatbot.store.notifications import Notifications, Typing, Written, gateway_channels
from chatbot.store.queue import QueueStore
from chatbot.store.translations import TranslationStore
from chatbot.translation.units import catalog_locales, read_translations, widget_units
from chatbot.upload.wiring import build_uploads

log = logging.getLogger(__name__)


# A 2,000-character message is at most ~12 KiB as escaped JSON; anything far bigger is not a child typing.
MAX_FRAME_BYTES = 64 * 1024


def create_app(
    settings: Settings,
    *,
    redis: Redis | None = None,
    clock: Clock | None = None,
    bot: Bot | None = None,
    nlu: Nlu | None = None,
) -> web.Application:
    """Build the gateway. Tests pass their own Redis client, clock and bot; production passes settings only."""
    if redis is None:
        if not (settings.redis_url or settings.redis_sentinels or settings.redis_cluster_nodes):
            raise ValueError("REDIS_URL is not set")
        redis = client.connect(
            settings.redis_url,
            sentinels=settings.redis_sentinels,
            master_name=settings.redis_master_name,
            cluster_nodes=settings.redis_cluster_nodes,
        )
    app = web.Application(client_max_size=MAX_FRAME_BYTES)
    instruments = Instruments()
    # This process's id among the gateways: its writes are announced to the others, never to itself.
    process = secrets.token_hex(8)
    store = ConversationStore(
        redis,
        announce_to=keys.NOTIFY_STAFF,
        process=process,
        timing=instruments.redis_timing,
        ack_replicas=settings.redis_ack_replicas,
    )
    clock = clock or SystemClock()
    # The repository's content until start-up adopts the published version from Redis (seeding it from
    # the repository at the very first start); then it follows every publish (docs/content.md).
    content = LiveLibrary.serving(load_library(settings))
    version_store = ContentVersionStore(redis, settings.content_version_retention)
    follower = ContentFollower(
        ContentVersions(version_store, clock), version_store, content, settings.default_locale
    )
    default_formats()  # locales/dates.yml read now: a malformed entry stops the start, naming the language
    own_nlu = nlu is None
    nlu = nlu or build_nlu(settings)
    # This process's view of the (maybe shared) model: the same classifier, each parse timed.
    timed = copy.copy(nlu)
    timed.classifier = instruments.timed(nlu.classifier)
    nlu = timed
    uploads = build_uploads(settings, redis, clock)
    floods = FloodGuard(FloodStore(redis), clock, settings)
    # Only safe-complete languages reach the menu, Accept-Language and set_locale (docs/languages.md):
    # OFFERED_LOCALES and the languages a supervisor switched on, with the translators' widget strings,
    # followed live (docs/translation.md).
    catalogs = LiveWidgetCatalogs.serving(
        offer_safe(
            content,
            WidgetCatalogs.load(settings.locales_dir, settings.default_locale),
            settings.offered_locales,
        )
    )
    translations = TranslationFollower(
        TranslationStore(redis),
        content,
        catalogs,
        widget_units(settings.locales_dir),
        read_translations(settings.locales_dir, catalog_locales(settings.locales_dir)),
        settings.offered_locales,
        settings.default_locale,
    )
    offered = OfferedLocales(catalogs)
    hours = build_hours(settings, redis, clock)
    bot = bot or build_bot(
        settings,
        redis,
        store,
        clock,
        nlu,
        content,
        uploads,
        floods,
        languages=offered,
        hours=hours,
    )
    returns = Returns(store, content, hours, clock, settings, floods)
    service = ConversationService(
        store,
        bot,
        clock,
        settings,
        Ending(store, content, clock, settings),
        floods,
        returns,
        ShownCounts(redis, settings.stats_retention, scripts=store.scripts),
    )
    hasher = ClientHasher(settings.session_secret.reveal().encode(), clock, settings.gateway_trusted_proxies)

    _quiet_engineio()
    if not settings.public_origin:
        log.warning("PUBLIC_ORIGIN is not set: only pages on a loopback address may open the child socket")
    sio = ChildServer(
        async_mode="aiohttp",
        cors_allowed_origins=_origin_check(settings),
        max_http_buffer_size=MAX_FRAME_BYTES,
        logger=False,
        engineio_logger=False,
        # One child's events are handled one after another, in the order sent (each socket has its own
        # reader task, so children still run concurrently). Concurrent handlers could store a quick
        # second message before the first.
        async_handlers=False,
        # No cookie: the child's browser keeps nothing but the session id in sessionStorage.
        cookie=None,
    )
    delivery = Delivery(sio, store, instruments)
    sio.register_namespace(
        ChildNamespace(service, delivery, settings, locales=offered, clients=hasher, instruments=instruments)
    )
    instruments.watch_queue(QueueStore(redis))
    instruments.know_intents({*content.answers, *(a.intent for a in content.answers.values() if a.intent)})
    instruments.watch_connections("child", lambda: len(sio.eio.sockets))
    sio.attach(app, socketio_path=protocol.SOCKETIO_PATH)

    app[SETTINGS] = settings
    app[REDIS] = redis
    app[PROCESS] = process
    app[SERVICE] = service
    app[SIO] = sio
    app[DELIVERY] = delivery
    app[INSTRUMENTS] = instruments
    app[CONTENT_FOLLOWER] = follower
    app[TRANSLATION_FOLLOWER] = translations
    app[CATALOGS] = catalogs
    app[ASSETS] = widget.WidgetAssets.load()
    routes.setup(app)
    hsts.install(app, settings.hsts_max_age)
    upload_views.install(app, uploads)
    app[FLOODS] = floods
    app[CLIENTS] = hasher
    app.cleanup_ctx.append(_redis_lifecycle)
    app.cleanup_ctx.append(_content_versions(settings))
    app.cleanup_ctx.append(_notifications)
    app.cleanup_ctx.append(serve_metrics(instruments.metrics, settings.metrics_host, settings.metrics_port))
    app.on_shutdown.append(_close_sockets)
    if own_nlu:
        app.on_cleanup.append(lambda _app: nlu.aclose())
    return app


async def _close_sockets(app: web.Application) -> None:
    """Drop every connection at shutdown so clients reconnect (to the restarted gateway) at once.

    An abort, not a polite close: socket.io clients treat a server's close as "do not come back".
    """
    sio = app[SIO]
    await sio.shutdown()
    for socket in list(sio.eio.sockets.values()):
        await socket.close(wait=False, abort=True)
        await socket.queue.put(None)  # wakes the writer task so the transport ends now


def _origin_check(settings: Settings) -> Any:
    """Browsers may open the child socket from the configured origins only, never from whatever the
    Host header says: a DNS-rebinding page (evil.example resolving to the gateway) sends a Host that
    matches its own Origin. Without PUBLIC_ORIGIN (development), only the gateway's own pages on a
    loopback address, which a rebound name never is."""
    allowed = {settings.public_origin, *settings.allowed_origins} - {""}
    development = not settings.public_origin

    def check(origin: str | None, environ: dict[str, Any]) -> bool:
        # Non-browser clients send no Origin; anything else not allowed is refused before a session.
        if origin is None or origin in allowed:
            return True
        host = environ.get("HTTP_HOST", "")
        return development and _is_loopback(host) and origin == f"http://{host}"

    return check


def _is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class _NoOrigins(logging.Filter):
    """Engine.IO logs a refused Origin verbatim (issue 12): a stranger's string, possibly with CR/LF.
    The line stays, the value goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "accepted origin" in str(record.msg):
            record.msg, record.args = "refused a connection from an origin that is not allowed", ()
        return True


def _quiet_engineio() -> None:
    logger = logging.getLogger("engineio.server")
    if not any(isinstance(f, _NoOrigins) for f in logger.filters):
        logger.addFilter(_NoOrigins())


async def _redis_lifecycle(app: web.Application) -> AsyncIterator[None]:
    await app[REDIS].ping()
    yield
    await app[REDIS].aclose()


def _content_versions(settings: Settings) -> Any:
    """Serve the published content version (seeded from the repository at the first start) and follow
    every publish while the process runs."""

    async def follow(app: web.Application) -> AsyncIterator[None]:
        follower = app[CONTENT_FOLLOWER]
        await follower.start(Snapshot.from_repository(settings.content_dir, settings.locales_dir))
        # The widget's strings and menu as the workspace has them, before the first child arrives.
        translations = app[TRANSLATION_FOLLOWER]
        await translations.check()
        tasks = [asyncio.create_task(follower.run()), asyncio.create_task(translations.run())]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=3.0)

    return follow


async def _notifications(app: web.Application) -> AsyncIterator[None]:
    """Entries appended by another process (the console, or another gateway serving a second tab of the
    same child) reach this process's sockets through here. Its own writes are never announced to it (it
    delivers them itself, and a wake-up per write would cost each message two more loop turns); what
    another process wrote may race with a replay, and the room's cursor (delivery.py) makes the later
    of the two a no-op, so each socket gets each entry once whichever process wrote it."""
    channels = gateway_channels(app[PROCESS])
    task = asyncio.create_task(_listen(Notifications(app[REDIS]), channels, app[DELIVERY], app[INSTRUMENTS]))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _listen(
    notifications: Notifications, channels: tuple[str, ...], delivery: Delivery, instruments: Instruments
) -> None:
    while True:
        try:
            async for notice in notifications.listen(*channels):
                if not delivery.is_local(notice.conv_id if isinstance(notice, Written | Typing) else ""):
                    continue
                if isinstance(notice, Written):
                    await delivery.publish(notice.conv_id, upto=notice.seq)
                elif isinstance(notice, Typing) and notice.role == Role.COUNSELLOR.value:
                    # A counsellor's typing indicator from the console, passed to the child's sockets.
                    await delivery.typing(notice.conv_id, notice.on)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Redis went away: live delivery pauses, the log keeps everything, clients resume by seq.
            instruments.redis_errors.inc()
            log.warning("notification listener lost Redis; retrying in 1 s", exc_info=True)
            await asyncio.sleep(1)
