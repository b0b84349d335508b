"""Composition root of the bot: content, intent model, opening hours, hand-off and uploads, from settings."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

from redis.asyncio import Redis

from chatbot.clock import Clock
from chatbot.content.library import ContentLibrary
from chatbot.domain.dialogue import DialogueBot
from chatbot.domain.edited_hours import HoursSource
from chatbot.domain.floods import FloodGuard
from chatbot.domain.handoff import Handoff
from chatbot.domain.hours import OpeningHours
from chatbot.nlu.service import Nlu
from chatbot.settings import Settings
from chatbot.store.conversations import ConversationStore
from chatbot.store.hours import HoursStore
from chatbot.store.queue import QueueStore
from chatbot.upload.audit import AuditLog
from chatbot.upload.service import CaseService, RetentionSweeper, UploadService
from chatbot.upload.storage import LocalStorage
from chatbot.upload.store import UploadStore

log = logging.getLogger(__name__)


def build_nlu(settings: Settings) -> Nlu:
    return Nlu.build(settings)


@dataclass(frozen=True)
class Uploads:
    """The encrypted upload's services: the child's side, the cases, retention and the audit log."""

    uploads: UploadService
    cases: CaseService
    sweeper: RetentionSweeper
    audit: AuditLog


def build_hours(settings: Settings, redis: Redis, clock: Clock) -> HoursSource:
    """The opening hours the dialogue and the return codes act on: the supervisor's edit, else the settings'."""
    hours = OpeningHours.parse(settings.opening_hours, settings.opening_exceptions)
    now = clock.now()
    if not hours.is_open(now) and hours.next_opening(now) is None:
        # Children would be told "we open again ." with nothing after it; staff must see this at start.
        log.warning("OPENING_HOURS schedules no opening in the next 60 days; check OPENING_HOURS/EXCEPTIONS")
    # Refreshed on the injected clock, so a test that moves the clock on sees an edit arrive as a child would.
    return HoursSource(HoursStore(redis), hours, monotonic=lambda: clock.now().timestamp())


def build_uploads(settings: Settings, redis: Redis, clock: Clock) -> Uploads:
    store = UploadStore(redis)
    storage = LocalStorage(settings.upload_dir)
    audit = AuditLog(redis, clock, settings.audit_retention)
    return Uploads(
        UploadService(store, storage, audit, clock, settings),
        CaseService(store, storage, audit, clock, settings),
        RetentionSweeper(store, storage, audit, clock, settings),
        audit,
    )


def build_bot(
    settings: Settings,
    redis: Redis,
    store: ConversationStore,
    clock: Clock,
    nlu: Nlu,
    content: ContentLibrary,
    uploads: Uploads,
    floods: FloodGuard | None = None,
    *,
    languages: Collection[str] | None = None,
    hours: HoursSource | None = None,
) -> DialogueBot:
    """`languages`: the safe-complete languages offered; a crisis message written in one of them gets
    the crisis answer in it, whatever the widget is set to."""
    handoff = Handoff.for_settings(QueueStore(redis), store, clock, settings)
    hours = hours or build_hours(settings, redis, clock)
    return DialogueBot(
        content,
        nlu,
        hours,
        handoff,
        clock,
        flags=store,
        uploads=uploads.uploads,
        cases=uploads.cases,
        retention_days=max(1, settings.conversation_retention // 86400),
        queue_guard=floods.admit_queue_join if floods is not None else None,
        languages=languages,
    )
