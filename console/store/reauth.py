"""When a staff session last re-entered its second factor (the step-up that opening case files needs)."""

from __future__ import annotations

from redis.asyncio import Redis

from console.store import keys


class ReauthStore:
    """One key per session, holding the confirmation time; its TTL is the re-auth window, so it cleans up."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def mark(self, session_hash: str, *, at_ms: int, ttl_s: int) -> None:
        await self._redis.set(keys.reauth(session_hash), at_ms, ex=ttl_s)

    async def last(self, session_hash: str) -> int | None:
        value = await self._redis.get(keys.reauth(session_hash))
        return int(value) if value else None

    async def forget(self, session_hash: str) -> None:
        await self._redis.delete(keys.reauth(session_hash))
