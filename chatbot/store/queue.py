"""The counsellors' queue in Redis: one sorted set, urgent first, then first come first served.

A member whose conversation has expired is pruned on the next write, so the queue never keeps a
conversation longer than its retention; the key itself expires when nobody has queued for a retention
period.
"""

from __future__ import annotations

from redis.asyncio import Redis

from chatbot.store import keys

# Urgent conversations sort before any normal one: their score is shifted below every real timestamp.
URGENT_SHIFT_MS = 10**13

_ENQUEUE = """
-- KEYS: queue, conversation ; ARGV: conv_id, score, retention_s, urgent(0/1), now_ms
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
local score = tonumber(ARGV[2])
if current and tonumber(current) <= score then score = tonumber(current) end
redis.call('ZADD', KEYS[1], score, ARGV[1])
redis.call('HSET', KEYS[2], 'state', 'queued', 'queued_at', ARGV[5])
if ARGV[4] == '1' then redis.call('HSET', KEYS[2], 'urgent', '1') end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return redis.call('ZRANK', KEYS[1], ARGV[1]) + 1
"""


class QueueStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._enqueue = redis.register_script(_ENQUEUE)

    async def enqueue(self, conv_id: str, *, now_ms: int, urgent: bool, retention: int) -> int:
        """Put (or move up) a conversation in the queue; returns its 1-based position, -1 if it is gone."""
        await self.prune()
        score = now_ms - URGENT_SHIFT_MS if urgent else now_ms
        position = await self._enqueue(
            keys=[keys.QUEUE, keys.conversation(conv_id)],
            args=[conv_id, score, retention, "1" if urgent else "0", now_ms],
        )
        return int(position)

    async def position(self, conv_id: str) -> int | None:
        rank: int | None = await self._redis.zrank(keys.QUEUE, conv_id)  # type: ignore[assignment]
        return None if rank is None else rank + 1

    async def remove(self, conv_id: str) -> None:
        await self._redis.zrem(keys.QUEUE, conv_id)

    async def waiting(self) -> list[str]:
        return [
            m.decode() if isinstance(m, bytes) else str(m)
            for m in await self._redis.zrange(keys.QUEUE, 0, -1)
        ]

    async def free_slots(self) -> int:
        """Chat slots counsellors on shift have free right now (0 when nobody is on shift)."""
        values = await self._redis.hvals(keys.COUNSELLORS_AVAILABLE)
        return sum(max(0, int(v)) for v in values)

    async def prune(self) -> int:
        """Drop members whose conversation no longer exists (expired or deleted)."""
        removed = 0
        for conv_id in await self.waiting():
            if not await self._redis.exists(keys.conversation(conv_id)):
                removed += await self._redis.zrem(keys.QUEUE, conv_id)
        return removed
