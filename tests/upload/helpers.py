"""Building blocks for the upload tests: keys, settings and the services on a real Redis."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.settings import Settings
from chatbot.store import keys
from chatbot.store.conversations import ConversationStore
from chatbot.upload import crypto
from chatbot.upload.audit import AuditLog
from chatbot.upload.service import CaseService, RetentionSweeper, UploadService
from chatbot.upload.storage import LocalStorage
from chatbot.upload.store import UploadStore
from tests.conftest import START as CONFTEST_START

# The suite's one test clock start (tests/conftest.py): the upload services, the gateway and the console of a
# test must agree on "now", or the console's sweep takes a conversation opened "months ago" for expired.
START = CONFTEST_START
KEYS = [crypto.PrivateKey.generate(crypto.Kem.X25519), crypto.PrivateKey.generate(crypto.Kem.P256)]


def upload_settings(settings: Settings, root: Path, **changes: object) -> Settings:
    return replace(
        settings,
        upload_public_keys=tuple(str(k.public) for k in KEYS),
        upload_dir=root,
        upload_max_files=3,
        upload_max_file_bytes=400_000,
        upload_max_total_bytes=600_000,
        **changes,  # type: ignore[arg-type]
    )


def file_entry(blob: bytes, plain: bytes) -> dict[str, object]:
    return {
        "size": len(blob),
        "sha256": hashlib.sha256(plain).hexdigest(),
        "md5": hashlib.md5(plain).hexdigest(),
    }


@dataclass
class Services:
    clock: FixedClock
    storage: LocalStorage
    audit: AuditLog
    uploads: UploadService
    cases: CaseService
    sweeper: RetentionSweeper


def services(redis: Redis, settings: Settings) -> Services:
    clock = FixedClock(START)
    store = UploadStore(redis)
    storage = LocalStorage(settings.upload_dir)
    audit = AuditLog(redis, clock, settings.audit_retention)
    return Services(
        clock,
        storage,
        audit,
        UploadService(store, storage, audit, clock, settings),
        CaseService(store, storage, audit, clock, settings),
        RetentionSweeper(store, storage, audit, clock, settings),
    )


def all_bytes_under(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


async def open_conversation(redis: Redis, conv_id: str) -> str:
    """A real, open conversation: a grant lives only as long as its conversation does."""
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    now_ms = int(START.timestamp() * 1000)
    await store.create(secrets.token_hex(32), conv_id, now_ms=now_ms, retention=7 * 86400, locale="sv")
    return conv_id
