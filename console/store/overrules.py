"""The gate's overrules in Redis: one hash of JSON documents, kept a year after the newest (keys.py)."""

from __future__ import annotations

from redis.asyncio import Redis

from console.store import keys


class OverruleStore:
    def __init__(self, redis: Redis, retention_s: int = keys.OVERRULE_RETENTION) -> None:
        self._redis = redis
        self._retention_s = retention_s

    async def add(self, overrule_id: str, document: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.OVERRULES, overrule_id, document)
            pipe.expire(keys.OVERRULES, self._retention_s)
            await pipe.execute()

    async def all(self) -> list[str]:
        raw = await self._redis.hvals(keys.OVERRULES)
        return [item.decode() if isinstance(item, bytes) else str(item) for item in raw]
