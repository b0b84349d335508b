"""The one place the upload services are built from settings: the gateway, the console and the CLI use it."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from chatbot.clock import Clock
from chatbot.settings import Settings
from chatbot.store.audit import AuditLog
from chatbot.upload.cases import CaseService
from chatbot.upload.context import UploadContext
from chatbot.upload.retention import RetentionSweeper
from chatbot.upload.storage import LocalStorage
from chatbot.upload.store import UploadStore
from chatbot.upload.uploads import UploadService


@dataclass(frozen=True)
class Uploads:
    """The encrypted upload's services: the child's side, the cases, retention and the audit log."""

    uploads: UploadService
    cases: CaseService
    sweeper: RetentionSweeper
    audit: AuditLog


def build_uploads(settings: Settings, redis: Redis, clock: Clock) -> Uploads:
    """All four over one store, one ciphertext directory (`UPLOAD_DIR`) and one audit log."""
    audit = AuditLog(redis, clock, settings.audit_retention)
    context = UploadContext(UploadStore(redis), LocalStorage(settings.upload_dir), audit, clock, settings)
    return Uploads(UploadService(context), CaseService(context), RetentionSweeper(context), audit)
