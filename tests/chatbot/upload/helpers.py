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
from chatbot.store.audit import AuditLog
from chatbot.store.conversations import ConversationStore
from chatbot.upload import codes, crypto
from chatbot.upload.cases import CaseService
from chatbot.upload.retention import RetentionSweeper
from chatbot.upload.uploads import UploadService
from chatbot.upload.wiring import build_uploads
from tests.conftest import START as CONFTEST_START

# The suite's one test clock start (tests/conftest.py): the upload services, the gateway and the console of a
# test must agree on "now", or the console's sweep takes a conversation opened "months ago" for expired.
START = CONFTEST_START
KEYS = [crypto.PrivateKey.generate(crypto.Kem.X25519), crypto.PrivateKey.generate(crypto.Kem.P256)]
MARKER = b"PLAINTEXT-IMAGE-BYTES-"  # in every test plaintext, so a test can look for it on disk


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
    audit: AuditLog
    uploads: UploadService
    cases: CaseService
    sweeper: RetentionSweeper


def services(redis: Redis, settings: Settings) -> Services:
    """The services as every process builds them (chatbot/upload/wiring.py), on a test clock."""
    clock = FixedClock(START)
    built = build_uploads(settings, redis, clock)
    return Services(clock, built.audit, built.uploads, built.cases, built.sweeper)


def all_bytes_under(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


async def open_conversation(redis: Redis, conv_id: str) -> str:
    """A real, open conversation: a grant lives only as long as its conversation does."""
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    now_ms = int(START.timestamp() * 1000)
    await store.create(secrets.token_hex(32), conv_id, now_ms=now_ms, retention=7 * 86400, locale="sv")
    return conv_id


def encrypted(size: int = 150_000, name: str = "bild.jpg") -> tuple[bytes, bytes]:
    plain = (MARKER * (size // len(MARKER) + 1))[:size]
    return plain, crypto.encrypt(plain, [k.public for k in KEYS], name=name, type="image/jpeg")


async def upload_all(svc: Services, token: str, blobs: list[bytes], piece: int = 100_000) -> None:
    for index, blob in enumerate(blobs):
        for start in range(0, len(blob), piece):
            await svc.uploads.write(token, index, start, blob[start : start + piece])


async def make_case(svc: Services) -> tuple[str, str]:
    plain, blob = encrypted(5000)
    grant = await svc.uploads.issue_grant("conv1")
    started = await svc.uploads.start(
        grant.token, age_band="16_17", consent=True, files=[file_entry(blob, plain)]
    )
    await upload_all(svc, started.token, [blob])
    code = await svc.uploads.finish(started.token)
    (case,) = [c for c in await svc.cases.list_cases() if c.code_hash == codes.code_hash(code)]
    return code, case.case_id


async def quota_services(redis: Redis, settings: Settings, tmp_path: Path, quota: int) -> Services:
    for conv in ("conv1", "conv2", "conv3"):
        await open_conversation(redis, conv)
    return services(redis, upload_settings(settings, tmp_path / "uploads", upload_pending_quota=quota))
