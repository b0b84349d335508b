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


_OPEN_HELD = """
-- The line opened: every conversation left for the counsellors enters the queue, in the order of the
-- out-of-hours list (urgent first, then in the order left), ahead of anyone who joined later: its queue
-- score is the list's. One step, so with two console processes each conversation moves once.
-- KEYS: out_of_hours, queue ; ARGV: conversation key format, now_ms, retention_s
-- Returns the moved conversation ids, in order.
local moved = {}
for _, item in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')) do
  table.insert(moved, item)
end
local out = {}
for i = 1, #moved, 2 do
  local conv, score = moved[i], moved[i + 1]
  redis.call('ZREM', KEYS[1], conv)
  local meta = string.format(ARGV[1], conv)
  if redis.call('HGET', meta, 'state') == 'left_for_counsellor' then
    redis.call('ZADD', KEYS[2], score, conv)
    -- announced '' : the child is told their place at the next look, also when they are not here (they
    -- read it with everything else when they come back).
    redis.call('HSET', meta, 'state', 'queued', 'queued_at', ARGV[2], 'announced', '')
    table.insert(out, conv)
  end
end
if #out > 0 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return out
"""

_BACK_OUT_OF_HOURS = """
-- Closing time for a held conversation still in the queue: back to the out-of-hours list, with the
-- place it had (urgent first). KEYS: queue, out_of_hours, conversation ; ARGV: conv_id, retention_s, shift
-- Returns 1 for the one caller that moved it.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or redis.call('HGET', KEYS[3], 'held') ~= '1' then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
local left = tonumber(redis.call('HGET', KEYS[3], 'left_at') or score)
if redis.call('HGET', KEYS[3], 'urgent') == '1' then left = left - tonumber(ARGV[3]) end
redis.call('ZADD', KEYS[2], math.min(left, tonumber(score)), ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[3], 'state', 'left_for_counsellor')
return 1
"""

_URGENT_OUT_OF_HOURS = """
-- A crisis in a conversation left for the counsellors: ahead of every non-urgent one in the list.
-- KEYS: out_of_hours, conversation ; ARGV: conv_id, shift
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
local left = tonumber(redis.call('HGET', KEYS[2], 'left_at') or score)
redis.call('ZADD', KEYS[1], math.min(tonumber(score), left - tonumber(ARGV[2])), ARGV[1])
return 1
"""


class QueueStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._enqueue = redis.register_script(_ENQUEUE)
        self._drop_unqueued = redis.register_script(_DROP_UNQUEUED)
        self._waiting = redis.register_script(_WAITING)
        self._open_held = redis.register_script(_OPEN_HELD)
        self._back_out_of_hours = redis.register_script(_BACK_OUT_OF_HOURS)
        self._urgent_out_of_hours = redis.register_script(_URGENT_OUT_OF_HOURS)

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

    async def open_held(self, *, now_ms: int, retention: int) -> list[str]:
        """The line opened: every conversation in the out-of-hours list into the queue (see _OPEN_HELD)."""
        moved = await self._open_held(
            keys=[keys.OUT_OF_HOURS, keys.QUEUE], args=[keys.conversation("%s"), now_ms, retention]
        )
        return [_text(m) for m in moved]

    async def back_out_of_hours(self, conv_id: str, *, retention: int) -> bool:
        """Closing time: a held conversation still waiting goes back to the out-of-hours list."""
        moved = await self._back_out_of_hours(
            keys=[keys.QUEUE, keys.OUT_OF_HOURS, keys.conversation(conv_id)],
            args=[conv_id, retention, URGENT_SHIFT_MS],
        )
        return bool(moved)

    async def urgent_out_of_hours(self, conv_id: str) -> bool:
        """Move a conversation in the out-of-hours list ahead of every non-urgent one (a crisis)."""
        moved = await self._urgent_out_of_hours(
            keys=[keys.OUT_OF_HOURS, keys.conversation(conv_id)], args=[conv_id, URGENT_SHIFT_MS]
        )
        return bool(moved)

    async def out_of_hours_with(self, fields: Sequence[str]) -> list[tuple[str, dict[str, str] | None]]:
        """The out-of-hours list in order, like `waiting_with`."""
        return await self._members_with(keys.OUT_OF_HOURS, fields)

    async def waiting_with(self, fields: Sequence[str]) -> list[tuple[str, dict[str, str] | None]]:
        return await self._members_with(keys.QUEUE, fields)

    async def _members_with(self, key: str, fields: Sequence[str]) -> list[tuple[str, dict[str, str] | None]]:
        """The queue in order, each member with these fields of its conversation (those set) and its
        state; None for a member whose conversation is gone. One script, so one round trip."""
        flat = await self._waiting(keys=[key], args=[keys.conversation("%s"), *fields])
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
