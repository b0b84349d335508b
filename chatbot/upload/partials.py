"""An unfinished upload's partial files: their names, when the upload counts as abandoned, and discarding it.

Shared by the child's side (which reclaims room on demand when the quota is full) and the retention sweep.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from chatbot.settings import Settings
from chatbot.upload.records import from_ms
from chatbot.upload.storage import Storage
from chatbot.upload.store import UploadRecord, UploadStore


def partial_id(upload_hash: str, index: int) -> str:
    return f"{upload_hash}-{index}"


def is_abandoned(record: UploadRecord, now: datetime, settings: Settings) -> bool:
    if record.done_code:
        return False
    return now >= from_ms(record.last_ms) + timedelta(seconds=settings.upload_abandon_after)


async def discard(store: UploadStore, storage: Storage, upload_hash: str, count: int) -> None:
    """An upload's partial files, then its record (and the room it reserved)."""
    for index in range(count):
        await asyncio.to_thread(storage.discard, partial_id(upload_hash, index))
    await store.drop_upload(upload_hash)


async def discard_abandoned(store: UploadStore, storage: Storage, now: datetime, settings: Settings) -> int:
    """Give back the room of every upload without a chunk for `UPLOAD_ABANDON_AFTER`: files, record, bytes."""
    _, holders = await store.reserved()
    count = 0
    for upload_hash in holders:
        record = await store.upload(upload_hash)
        if record is not None and record.done_code:
            await store.unreserve(upload_hash)  # finished: its files are a case's now
        elif record is None:
            # Expired in Redis (past the resume window): its partial files may still be on disk.
            for partial in await asyncio.to_thread(storage.partials):
                if partial.rsplit("-", 1)[0] == upload_hash:
                    await asyncio.to_thread(storage.discard, partial)
            await store.unreserve(upload_hash)
            count += 1
        elif is_abandoned(record, now, settings):
            await discard(store, storage, upload_hash, len(record.files))
            count += 1
    return count
