"""Opening hours a supervisor edited in the console, as text in Redis: the console writes, every process reads."""

from __future__ import annotations

from redis.asyncio import Redis

from chatbot.store import keys

# Configuration, not personal data; it still expires, a year after the last edit, like an unused account.
HOURS_RETENTION = 365 * 86400


class HoursStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def get(self) -> tuple[str, str] | None:
        """The edited (weekly, exceptions) texts, or None when no supervisor has edited them."""
        raw = await self._redis.hgetall(keys.HOURS)  # type: ignore[misc]
        if not raw:
            return None
        data = {_text(k): _text(v) for k, v in raw.items()}
        return data.get("weekly", ""), data.get("exceptions", "")

    async def set(self, weekly: str, exceptions: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.HOURS, mapping={"weekly": weekly, "exceptions": exceptions})
            pipe.expire(keys.HOURS, HOURS_RETENTION)
            await pipe.execute()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
