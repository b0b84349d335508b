"""The counsellors' queue in Redis: one sorted set, urgent first, then first come first served.

A member whose conversation has expired is pruned on the next write, so the queue never keeps a
conversation longer than its retention; the key itself expires when nobody has queued for a retention
period.
"""

from __future__ import annotations

from collections.abc import Sequence

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

_WAITING = """
-- KEYS: queue ; ARGV: conversation key format, field... The members in order, each followed by those
-- fields of its conversation (false where missing; state is false only for a conversation that is
-- gone). Read-only: one consistent look at the whole queue in one reply, however long it is.
local out = {}
for _, conv in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  table.insert(out, conv)
  for _, value in ipairs(redis.call('HMGET', string.format(ARGV[1], conv), 'state', unpack(ARGV, 2))) do
    table.insert(out, value)
  end
end
return out
"""

_DROP_UNQUEUED = """
-- KEYS: queue ; ARGV: conversation key format. Removes every member whose conversation is no longer
-- waiting (ended, back with the bot, expired) and returns them. One step: a claim or a requeue cannot
-- slip between the look at a member's state and its removal.
local dropped = {}
for _, conv in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('HGET', string.format(ARGV[1], conv), 'state') ~= 'queued' then
    redis.call('ZREM', KEYS[1], conv)
    table.insert(dropped, conv)
  end
end
return dropped
"""


class QueueStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._enqueue = redis.register_script(_ENQUEUE)
        self._drop_unqueued = redis.register_script(_DROP_UNQUEUED)
        self._waiting = redis.register_script(_WAITING)

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

    async def remove(self, *conv_ids: str) -> int:
        """Take conversations out of the queue; returns how many were in it (0: someone was first)."""
        if not conv_ids:
            return 0
        return int(await self._redis.zrem(keys.QUEUE, *conv_ids))

    async def drop_unqueued(self) -> list[str]:
        """Remove and return the members whose conversation is no longer waiting (one script)."""
        dropped = await self._drop_unqueued(keys=[keys.QUEUE], args=[keys.conversation("%s")])
        return [m.decode() if isinstance(m, bytes) else str(m) for m in dropped]

    async def waiting(self) -> list[str]:
        return [
            m.decode() if isinstance(m, bytes) else str(m)
            for m in await self._redis.zrange(keys.QUEUE, 0, -1)
        ]

    async def waiting_with(self, fields: Sequence[str]) -> list[tuple[str, dict[str, str] | None]]:
        """The queue in order, each member with these fields of its conversation (those set) and its
        state; None for a member whose conversation is gone. One script, so one round trip."""
        flat = await self._waiting(keys=[keys.QUEUE], args=[keys.conversation("%s"), *fields])
        width = len(fields) + 2
        found: list[tuple[str, dict[str, str] | None]] = []
        for i in range(0, len(flat), width):
            conv_id, state, *values = flat[i : i + width]
            if state is None:
                found.append((_text(conv_id), None))
                continue
            meta = {"state": _text(state)}
            meta.update({f: _text(v) for f, v in zip(fields, values, strict=True) if v is not None})
            found.append((_text(conv_id), meta))
        return found

    async def counts(self) -> tuple[int, int, int]:
        """Children waiting, urgent ones among them, and counsellors on shift: one round trip (metrics)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zcard(keys.QUEUE)
            pipe.zcount(keys.QUEUE, "-inf", 0)  # urgent scores are shifted below zero (URGENT_SHIFT_MS)
            pipe.hlen(keys.COUNSELLORS_AVAILABLE)
            waiting, urgent, on_shift = await pipe.execute()
        return int(waiting), int(urgent), int(on_shift)

    async def free_slots(self) -> int:
        """Chat slots counsellors on shift have free right now (0 when nobody is on shift)."""
        values = await self._redis.hvals(keys.COUNSELLORS_AVAILABLE)
        return sum(max(0, int(v)) for v in values)

    async def prune(self) -> int:
        """Drop members whose conversation no longer exists (expired or deleted): three round trips at
        most, whatever the queue's length (a conversation id is never reused, so a gone one stays gone)."""
        members = await self.waiting()
        if not members:
            return 0
        async with self._redis.pipeline(transaction=False) as pipe:
            for conv_id in members:
                pipe.exists(keys.conversation(conv_id))
            found = await pipe.execute()
        return await self.remove(*(c for c, there in zip(members, found, strict=True) if not there))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
