"""Aggregate statistics in Redis: per-day counters and wait times, never a conversation id or any text."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, Protocol

from redis.asyncio import Redis

from console.store import keys


class StatsObserver(Protocol):
    """Told what the store records, as it records it (the process's metrics); never a conversation id."""

    def desk_counted(self, counters: Mapping[str, int]) -> None: ...

    def waited(self, wait_ms: int) -> None: ...


class StatsStore:
    def __init__(self, redis: Redis, *, retention: int, observer: StatsObserver | None = None) -> None:
        self._redis = redis
        self._retention = retention
        self._observer = observer

    async def count(self, day: str, counters: Mapping[str, int]) -> None:
        key = keys.stats_day(day)
        async with self._redis.pipeline(transaction=True) as pipe:
            for name, amount in counters.items():
                pipe.hincrby(key, name, amount)
            pipe.expire(key, self._retention)
            await pipe.execute()
        if self._observer is not None:
            self._observer.desk_counted(counters)

    async def wait(self, day: str, wait_ms: int) -> None:
        key = keys.stats_waits(day)
        async with self._redis.pipeline(transaction=True) as pipe:
            # A random member: the set holds durations only, nothing that leads back to a conversation.
            pipe.zadd(key, {secrets.token_hex(6): max(0, wait_ms)})
            pipe.expire(key, self._retention)
            await pipe.execute()
        if self._observer is not None:
            self._observer.waited(wait_ms)

    async def day(self, day: str) -> dict[str, int]:
        raw = await self._redis.hgetall(keys.stats_day(day))  # type: ignore[misc]
        return {_text(k): int(v) for k, v in raw.items()}

    async def waits(self, day: str) -> list[int]:
        raw: list[Any] = await self._redis.zrange(keys.stats_waits(day), 0, -1, withscores=True)
        return [int(pair[1]) for pair in raw]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
