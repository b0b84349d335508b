"""Unfinished uploads' partial files (chatbot/upload/partials.py): when an upload is abandoned, and discarding it."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from chatbot.settings import Settings
from chatbot.store import keys
from chatbot.upload import errors
from chatbot.upload.partials import discard_abandoned, partial_id
from chatbot.upload.records import token_hash
from chatbot.upload.storage import LocalStorage
from chatbot.upload.store import UploadStore
from tests.chatbot.upload.helpers import Services, encrypted, file_entry, quota_services, upload_settings


async def test_an_abandoned_upload_is_discarded_and_frees_its_room(
    redis: Redis, settings: Settings, tmp_path: Path
) -> None:
    plain, blob = encrypted(150_000)
    svc = await quota_services(redis, settings, tmp_path, len(blob))  # room for exactly one
    started = await svc.uploads.start(
        (await svc.uploads.issue_grant("conv1")).token, age_band="13_15", consent=True,
        files=[file_entry(blob, plain)],
    )  # fmt: skip
    await svc.uploads.write(started.token, 0, 0, blob[:50_000])
    svc.clock.advance(29 * 60)
    await svc.uploads.write(started.token, 0, 50_000, blob[50_000:60_000])  # a chunk keeps it alive
    svc.clock.advance(29 * 60)
    assert (await svc.uploads.progress(started.token)).files[0].received == 60_000
    # Full: a grant elsewhere is refused while the upload is alive ...
    with pytest.raises(errors.UploadsFull):
        await svc.uploads.issue_grant("conv2")
    svc.clock.advance(60)  # 30 minutes without a chunk: abandoned
    # ... and given, once the abandoned upload's room is reclaimed on demand (no sweep needed).
    grant = await svc.uploads.issue_grant("conv2")
    assert not [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]
    with pytest.raises(errors.UploadNotFound):
        await svc.uploads.write(started.token, 0, 60_000, blob[60_000:70_000])
    await svc.uploads.start(grant.token, age_band="13_15", consent=True, files=[file_entry(blob, plain)])


async def test_an_upload_expired_in_redis_leaves_no_partial_file_behind(
    svc: Services, redis: Redis, settings: Settings, tmp_path: Path
) -> None:
    plain, blob = encrypted(100_000)
    started = await svc.uploads.start(
        (await svc.uploads.issue_grant("conv1")).token, age_band="13_15", consent=True,
        files=[file_entry(blob, plain)],
    )  # fmt: skip
    await svc.uploads.write(started.token, 0, 0, blob[:1000])
    upload_hash = token_hash(started.token)
    storage = LocalStorage(tmp_path / "uploads")
    assert storage.partials() == [partial_id(upload_hash, 0)]
    await redis.delete(keys.upload(upload_hash))  # what its TTL does at the end of the resume window
    # Its record is gone but its room is still reserved and its bytes are still on disk: both go.
    now = svc.clock.now()
    count = await discard_abandoned(
        UploadStore(redis), storage, now, upload_settings(settings, tmp_path / "uploads")
    )
    assert count == 1
    assert storage.partials() == []
    assert not [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]
    assert await redis.hget(keys.UPLOAD_QUOTA, "total") in (None, b"0")
