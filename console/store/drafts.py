"""The editors' drafts in Redis: one JSON document each, written with compare-and-set on a revision."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from console.store import keys

# Compare-and-set on the draft's revision, so two people acting on one draft never overwrite each other.
_SAVE = """
-- KEYS: draft, index ; ARGV: expected revision ('' for a new draft), document, revision, ttl_ms, id, score
local old = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if old then return 0 end
else
  if not old then return 0 end
  if cjson.decode(old)['revision'] ~= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[4]))
redis.call('ZADD', KEYS[2], tonumber(ARGV[6]), ARGV[5])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
return 1
"""


class DraftStore:
    def __init__(self, redis: Redis, retention_s: int = keys.DRAFT_RETENTION) -> None:
        self._redis = redis
        self._retention_ms = retention_s * 1000
        self._save = redis.register_script(_SAVE)

    async def save(self, draft_id: str, document: str, expected_revision: int | None, at_ms: int) -> bool:
        """Write the draft if its stored revision is `expected_revision` (None: it must not exist yet)."""
        done = await self._save(
            keys=[keys.draft(draft_id), keys.DRAFTS],
            args=[
                "" if expected_revision is None else str(expected_revision),
                document,
                0,
                self._retention_ms,
                draft_id,
                at_ms,
            ],
        )
        return int(done) == 1

    async def load(self, draft_id: str) -> str | None:
        raw = await self._redis.get(keys.draft(draft_id))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def ids(self) -> list[str]:
        """Every kept draft, newest change first (expired ones are pruned from the index)."""
        raw: list[Any] = await self._redis.zrevrange(keys.DRAFTS, 0, -1)
        found = []
        for item in raw:
            draft_id = item.decode() if isinstance(item, bytes) else str(item)
            if await self._redis.exists(keys.draft(draft_id)):
                found.append(draft_id)
            else:
                await self._redis.zrem(keys.DRAFTS, draft_id)
        return found
