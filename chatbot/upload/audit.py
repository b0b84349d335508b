"""The analysts' audit log: an append-only Redis stream in which every entry hashes the one before it.

Who saw or did what to which case, and when. Editing or deleting an entry in the middle breaks the chain
(`verify` finds it); trimming by age moves the anchor, so the retained part still verifies.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from chatbot.clock import Clock
from chatbot.store import keys

GENESIS = "0" * 64


class AuditBroken(Exception):
    """The chain does not verify: an entry was altered, removed or inserted."""


@dataclass(frozen=True)
class AuditEntry:
    id: str
    at: datetime
    actor: str
    action: str
    case_id: str
    file_id: str
    prev: str
    hash: str


def _digest(prev: str, at_ms: int, actor: str, action: str, case_id: str, file_id: str) -> str:
    record = json.dumps([prev, at_ms, actor, action, case_id, file_id], separators=(",", ":"))
    return hashlib.sha256(record.encode()).hexdigest()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class AuditLog:
    def __init__(self, redis: Redis, clock: Clock) -> None:
        self._redis = redis
        self._clock = clock

    async def append(self, actor: str, action: str, *, case_id: str = "", file_id: str = "") -> AuditEntry:
        """Write one entry; callers write it *before* the act it records, so no act goes unlogged."""
        at = self._clock.now()
        at_ms = int(at.timestamp() * 1000)
        while True:
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(keys.AUDIT_HEAD)
                    head = await pipe.get(keys.AUDIT_HEAD)
                    prev = _text(head) if head else GENESIS
                    digest = _digest(prev, at_ms, actor, action, case_id, file_id)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    fields = {
                        "at": at_ms,
                        "actor": actor,
                        "action": action,
                        "case": case_id,
                        "file": file_id,
                        "prev": prev,
                        "hash": digest,
                    }
                    pipe.xadd(keys.AUDIT, fields)  # type: ignore[arg-type]
                    pipe.set(keys.AUDIT_HEAD, digest)
                    result = await pipe.execute()
                except WatchError:
                    continue  # another writer got in between; chain onto their entry
            return AuditEntry(_text(result[0]), at, actor, action, case_id, file_id, prev, digest)

    async def entries(self, *, case_id: str | None = None) -> list[AuditEntry]:
        out = []
        stream: Any = await self._redis.xrange(keys.AUDIT)
        for entry_id, raw in stream:
            fields = {_text(k): _text(v) for k, v in raw.items()}
            if case_id is not None and fields["case"] != case_id:
                continue
            out.append(
                AuditEntry(
                    _text(entry_id),
                    datetime.fromtimestamp(int(fields["at"]) / 1000, UTC),
                    fields["actor"],
                    fields["action"],
                    fields["case"],
                    fields["file"],
                    fields["prev"],
                    fields["hash"],
                )
            )
        return out

    async def verify(self) -> int:
        """Check the whole retained chain; returns the number of entries, raises AuditBroken."""
        anchor = await self._redis.get(keys.AUDIT_ANCHOR)
        prev = _text(anchor) if anchor else GENESIS
        entries = await self.entries()
        for entry in entries:
            at_ms = int(entry.at.timestamp() * 1000)
            expected = _digest(prev, at_ms, entry.actor, entry.action, entry.case_id, entry.file_id)
            if entry.prev != prev or entry.hash != expected:
                raise AuditBroken(f"audit entry {entry.id} does not follow from the one before")
            prev = entry.hash
        head = await self._redis.get(keys.AUDIT_HEAD)
        if (_text(head) if head else GENESIS) != prev:
            raise AuditBroken("the newest audit entries are missing")
        return len(entries)

    async def trim(self, before: datetime) -> int:
        """Drop entries older than `before` (retention), keeping the chain verifiable from the anchor."""
        cutoff_ms = int(before.timestamp() * 1000)
        removed = 0
        for entry in await self.entries():
            if int(entry.at.timestamp() * 1000) >= cutoff_ms:
                break
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(keys.AUDIT_ANCHOR, entry.hash)
                pipe.xdel(keys.AUDIT, entry.id)
                await pipe.execute()
            removed += 1
        return removed
