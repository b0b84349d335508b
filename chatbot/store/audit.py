"""The audit log of every staff action: an append-only Redis stream in which every entry hashes the one before.

Who saw or did what to which case, and when; and every editor's, translator's and supervisor's change to
what children read or when the line is open. Editing or deleting an entry in the middle breaks the chain
(`verify` finds it); trimming by age moves the anchor, so the retained part still verifies. Each case keeps
an index of its entries' ids, written in the same script as the entry, so a case page reads only its own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from chatbot.clock import Clock
from chatbot.store import keys

GENESIS = "0" * 64
INDEXED = "ix"
"""Field on every entry written together with its case index; entries without it predate the index."""
LEGACY_BATCH = 500
TRIM_BATCH = 500
"""Entries the retention trim reads, and removes in one step, at a time."""

# The chained append as one step: compare-and-set on the head (the digest was computed in Python from the
# head read before; SHA-256 is not available in Redis scripts), the entry, the new head and the case's
# index. Entry and index cannot diverge, and two writers cannot chain onto the same head.
_APPEND = """
-- KEYS: audit, head, case index (optional) ; ARGV: expected head ('' for none), digest, index_ttl_ms, field, value, ...
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then return false end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
redis.call('SET', KEYS[2], ARGV[2])
if KEYS[3] then
  redis.call('RPUSH', KEYS[3], id)
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
return id
"""

# One batch of the retention trim as one step: the new anchor, the expired entries and their ids in the
# case indexes go together, so the retained chain always verifies from the anchor and no index lists an id
# whose entry the trim removed. Compare-and-set on the oldest entry: if another sweep (another gateway
# process) trimmed since this one read, nothing is done and the caller reads again, so an older anchor can
# never overwrite a newer one.
_TRIM = """
-- KEYS: audit, anchor, case index of each entry that has a case ; ARGV: anchor, n, the n entry ids (oldest
-- first), then for each case index key the id to remove from it
local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #oldest == 0 or oldest[1][1] ~= ARGV[3] then return false end
local n = tonumber(ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('XDEL', KEYS[1], unpack(ARGV, 3, 2 + n))
for i = 3, #KEYS do redis.call('LREM', KEYS[i], 1, ARGV[i + n]) end
return n
"""


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
    def __init__(self, redis: Redis, clock: Clock, retention_s: int) -> None:
        """`retention_s` is AUDIT_RETENTION: the sweep trims entries older than it, and a case's index
        expires that long after the case's newest entry (when every entry it lists is past retention)."""
        self._redis = redis
        self._clock = clock
        self._retention_ms = retention_s * 1000
        self._append = redis.register_script(_APPEND)
        self._trim = redis.register_script(_TRIM)

    async def append(self, actor: str, action: str, *, case_id: str = "", file_id: str = "") -> AuditEntry:
        """Write one entry; callers write it *before* the act it records, so no act goes unlogged."""
        at = self._clock.now()
        at_ms = int(at.timestamp() * 1000)
        script_keys = [keys.AUDIT, keys.AUDIT_HEAD]
        if case_id:
            script_keys.append(keys.audit_case(case_id))
        while True:
            head = await self._redis.get(keys.AUDIT_HEAD)
            expected = _text(head) if head else ""
            prev = expected or GENESIS
            digest = _digest(prev, at_ms, actor, action, case_id, file_id)
            fields: list[str | int] = [
                *("at", at_ms, "actor", actor, "action", action, "case", case_id, "file", file_id),
                *("prev", prev, "hash", digest, INDEXED, "1"),
            ]
            entry_id = await self._append(
                keys=script_keys, args=[expected, digest, self._retention_ms, *fields]
            )
            if entry_id is not None:
                return AuditEntry(_text(entry_id), at, actor, action, case_id, file_id, prev, digest)
            # Another writer got in between; chain onto their entry.

    async def entries(self, *, case_id: str | None = None) -> list[AuditEntry]:
        """The whole retained log, oldest first; with `case_id`, that case's trail through its index
        (plus the entries from before the index, while retention still keeps any)."""
        if case_id is not None:
            return await self._case_entries(case_id)
        stream: Any = await self._redis.xrange(keys.AUDIT)
        return [_entry(entry_id, raw) for entry_id, raw in stream]

    async def _case_entries(self, case_id: str) -> list[AuditEntry]:
        ids = [_text(i) for i in await self._redis.lrange(keys.audit_case(case_id), 0, -1)]  # type: ignore[misc]
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id in ids:
                pipe.xrange(keys.AUDIT, entry_id, entry_id)
            found: list[Any] = await pipe.execute() if ids else []
        # An id whose entry is gone (trimmed between the two reads, or deleted) is skipped: the page
        # shows what the log holds; `verify` is what reports a removed entry.
        out = {e.id: e for e in await self._legacy_entries(case_id)}
        for stream in found:
            for entry_id, raw in stream:
                out[_text(entry_id)] = _entry(entry_id, raw)
        return sorted(out.values(), key=lambda e: _id_order(e.id))

    async def _legacy_entries(self, case_id: str) -> list[AuditEntry]:
        """Entries written before case indexes existed: the head of the stream up to the first indexed
        entry. That prefix never grows and retention trims it away; once gone this is one short read."""
        out: list[AuditEntry] = []
        start = "-"
        while True:
            batch: Any = await self._redis.xrange(keys.AUDIT, start, "+", count=LEGACY_BATCH)
            for entry_id, raw in batch:
                fields = {_text(k): _text(v) for k, v in raw.items()}
                if INDEXED in fields:
                    return out
                if fields["case"] == case_id:
                    out.append(_entry(entry_id, raw))
            if len(batch) < LEGACY_BATCH:
                return out
            start = "(" + _text(batch[-1][0])

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
        """Drop entries older than `before` (retention), keeping the chain verifiable from the anchor.

        Entries are appended in time order, so the expired ones are the head of the stream: this reads
        from the oldest in batches of TRIM_BATCH and stops at the first entry at or after `before`, so a
        sweep reads what it removes and at most one batch more, not the whole log."""
        cutoff_ms = int(before.timestamp() * 1000)
        removed = 0
        while True:
            batch: Any = await self._redis.xrange(keys.AUDIT, "-", "+", count=TRIM_BATCH)
            expired: list[AuditEntry] = []
            for entry_id, raw in batch:
                entry = _entry(entry_id, raw)
                if int(entry.at.timestamp() * 1000) >= cutoff_ms:
                    break
                expired.append(entry)
            if expired:
                ids = [e.id for e in expired]
                # Each is the oldest id left in its case's list, so LREM finds it at the list's head.
                indexed = [e for e in expired if e.case_id]
                done = await self._trim(
                    keys=[keys.AUDIT, keys.AUDIT_ANCHOR, *(keys.audit_case(e.case_id) for e in indexed)],
                    args=[expired[-1].hash, len(ids), *ids, *(e.id for e in indexed)],
                )
                if done is None:
                    continue  # another sweep trimmed meanwhile: read the head again
                removed += len(ids)
            if len(expired) < TRIM_BATCH:
                return removed


def _entry(entry_id: bytes | str, raw: Any) -> AuditEntry:
    fields = {_text(k): _text(v) for k, v in raw.items()}
    return AuditEntry(
        _text(entry_id),
        datetime.fromtimestamp(int(fields["at"]) / 1000, UTC),
        fields["actor"],
        fields["action"],
        fields["case"],
        fields["file"],
        fields["prev"],
        fields["hash"],
    )


def _id_order(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq)
