"""Typed keys of the console application's state (kept apart so views can import them without a cycle)."""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis

from chatbot.clock import Clock
from chatbot.content.library import ContentLibrary
from chatbot.domain.content_versions import ContentFollower, ContentVersions
from chatbot.observability import Instruments
from chatbot.settings import Settings
from chatbot.store.audit import AuditLog
from chatbot.store.content_versions import ShownCounts
from chatbot.upload.cases import CaseService
from console.domain.accounts import AccountService, StaffSessions
from console.domain.desk import Desk
from console.domain.editing import Workspace
from console.domain.overrules import Overrules
from console.domain.reauth import Reauth
from console.domain.translations import TranslationDesk
from console.i18n import ConsoleTemplates
from console.live import Live
from console.preview_assets import PreviewAssets

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", Redis)
CLOCK = web.AppKey("clock", Clock)
ACCOUNTS = web.AppKey("accounts", AccountService)
SESSIONS = web.AppKey("sessions", StaffSessions)
TEMPLATES = web.AppKey("templates", ConsoleTemplates)
DESK = web.AppKey("desk", Desk)
CONTENT = web.AppKey("content", ContentLibrary)
LIVE = web.AppKey("live", Live)
CASES = web.AppKey("cases", CaseService)
AUDIT = web.AppKey("audit", AuditLog)
REAUTH = web.AppKey("reauth", Reauth)
INSTRUMENTS = web.AppKey("instruments", Instruments)
TRANSLATIONS = web.AppKey("translations", TranslationDesk)
VERSIONS = web.AppKey("content_versions", ContentVersions)
CONTENT_FOLLOWER = web.AppKey("content_follower", ContentFollower)
WORKSPACE = web.AppKey("content_workspace", Workspace)
SHOWN = web.AppKey("content_shown", ShownCounts)
OVERRULES = web.AppKey("content_overrules", Overrules)
PREVIEW = web.AppKey("preview", PreviewAssets)
