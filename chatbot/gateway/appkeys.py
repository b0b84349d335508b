"""Typed keys of the gateway application's state, in one place (so views import them without a cycle)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import socketio
from aiohttp import web
from redis.asyncio import Redis

from chatbot.content.widget_catalogs import WidgetCatalogs
from chatbot.domain.content_versions import ContentFollower
from chatbot.domain.conversations import ConversationService
from chatbot.domain.floods import ClientHasher, FloodGuard
from chatbot.domain.translation_follower import TranslationFollower
from chatbot.gateway.delivery import Delivery
from chatbot.observability import Instruments
from chatbot.settings import Settings
from chatbot.store.audit import AuditLog
from chatbot.upload.cases import CaseService
from chatbot.upload.retention import RetentionSweeper
from chatbot.upload.uploads import UploadService

if TYPE_CHECKING:
    from chatbot.gateway.widget import WidgetAssets

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", Redis)
# This gateway process's id among the gateways (keys.notify_process): which writes it must be told of.
PROCESS = web.AppKey("process", str)
SERVICE = web.AppKey("service", ConversationService)
SIO = web.AppKey("sio", socketio.AsyncServer)
DELIVERY = web.AppKey("delivery", Delivery)
INSTRUMENTS = web.AppKey("instruments", Instruments)
CATALOGS = web.AppKey("widget_catalogs", WidgetCatalogs)
ASSETS: web.AppKey[WidgetAssets] = web.AppKey("widget_assets")
UPLOADS = web.AppKey("uploads", UploadService)
CASES = web.AppKey("cases", CaseService)
SWEEPER = web.AppKey("sweeper", RetentionSweeper)
AUDIT = web.AppKey("audit", AuditLog)
FLOODS = web.AppKey("floods", FloodGuard)
CLIENTS = web.AppKey("clients", ClientHasher)
CONTENT_FOLLOWER = web.AppKey("content_follower", ContentFollower)
TRANSLATION_FOLLOWER = web.AppKey("translation_follower", TranslationFollower)
