"""Hand-offs in Redis: claim, transfer, requeue, end and shifts, each one Lua script (one atomic step).

Two counsellors clicking the same conversation race inside Redis, not in Python: the claim script
removes the conversation from the queue and assigns it in one step, so exactly one of them wins.
Every script also keeps `keys.COUNSELLORS_AVAILABLE` (free slots per available counsellor) current.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from chatbot.store import keys as chat_keys
from chatbot.store.pipelining import run_together
from chatbot.store.queue import URGENT_SHIFT_MS
from console.store import keys

# Shared by every script: a counsellor's free slots as the queue sees them (only while available).
_REFRESH = """
local function refresh(avail, shift, assigned, name, ttl)
  if redis.call('HGET', shift, 'status') == 'available' then
    local free = tonumber(redis.call('HGET', shift, 'capacity') or '0') - redis.call('SCARD', assigned)
    if free < 0 then free = 0 end
    redis.call('HSET', avail, name, free)
    redis.call('EXPIRE', avail, ttl)
  else
    redis.call('HDEL', avail, name)
  end
end
"""

_SHIFT = (
    _REFRESH
    + """
-- KEYS: shift, avail, assigned, onshift ; ARGV: name, status, capacity, display, now_ms, shift_ttl
-- A page request is a sign of life: a running grace period restarts at the next sweep if no socket is live.
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'capacity', ARGV[3], 'display', ARGV[4], 'seen', ARGV[5])
redis.call('HDEL', KEYS[1], 'disconnected', 'grace_until')
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('EXPIRE', KEYS[4], ARGV[6])
refresh(KEYS[2], KEYS[1], KEYS[3], ARGV[1], ARGV[6])
return redis.call('SCARD', KEYS[3])
"""
)

_CLAIM = (
    _REFRESH
    + """
-- KEYS: queue, conversation, avail, assigned, shift ; ARGV: conv_id, name, now_ms, retention, shift_ttl
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return {'gone', '', '0'}
end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  if redis.call('HGET', KEYS[2], 'state') == 'ended' then return {'gone', '', '0'} end
  return {'taken', redis.call('HGET', KEYS[2], 'counsellor') or '', '0'}
end
if redis.call('HGET', KEYS[5], 'status') ~= 'available' then return {'away', '', '0'} end
local cap = tonumber(redis.call('HGET', KEYS[5], 'capacity') or '0')
-- Capacity never blocks an urgent child: the claim goes through, and the caller warns about the load.
local over = '0'
if redis.call('SCARD', KEYS[4]) >= cap then
  if redis.call('HGET', KEYS[2], 'urgent') ~= '1' then return {'full', '', '0'} end
  over = '1'
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'state', 'counsellor', 'counsellor', ARGV[2], 'claimed_at', ARGV[3])
if not redis.call('HGET', KEYS[2], 'first_claimed_at') then
  redis.call('HSET', KEYS[2], 'first_claimed_at', ARGV[3])
end
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('EXPIRE', KEYS[4], ARGV[4])
refresh(KEYS[3], KEYS[5], KEYS[4], ARGV[2], ARGV[5])
return {'ok', redis.call('HGET', KEYS[2], 'queued_at') or ARGV[3], over}
"""
)

_RELEASE = (
    _REFRESH
    + """
-- Take a conversation from its counsellor: to another one, back to the queue, or ended.
-- KEYS: conversation, avail, assigned_from, shift_from, assigned_to, shift_to, queue
-- ARGV: conv_id, from, mode (transfer/requeue/end), to, now_ms, retention, shift_ttl, score, note
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[1])
  refresh(KEYS[2], KEYS[4], KEYS[3], ARGV[2], ARGV[7])
  return 'gone'
end
if redis.call('HGET', KEYS[1], 'counsellor') ~= ARGV[2] or redis.call('HGET', KEYS[1], 'state') ~= 'counsellor' then
  return 'not_yours'
end
if ARGV[3] == 'transfer' then
  if redis.call('HGET', KEYS[6], 'status') ~= 'available' then return 'away' end
  local cap = tonumber(redis.call('HGET', KEYS[6], 'capacity') or '0')
  if redis.call('SCARD', KEYS[5]) >= cap then return 'full' end
end
redis.call('SREM', KEYS[3], ARGV[1])
refresh(KEYS[2], KEYS[4], KEYS[3], ARGV[2], ARGV[7])
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'note', ARGV[9]) end
if ARGV[3] == 'transfer' then
  redis.call('HSET', KEYS[1], 'counsellor', ARGV[4], 'claimed_at', ARGV[5])
  redis.call('SADD', KEYS[5], ARGV[1])
  redis.call('EXPIRE', KEYS[5], ARGV[6])
  refresh(KEYS[2], KEYS[6], KEYS[5], ARGV[4], ARGV[7])
elseif ARGV[3] == 'requeue' then
  redis.call('HDEL', KEYS[1], 'counsellor')
  redis.call('HSET', KEYS[1], 'state', 'queued', 'queued_at', ARGV[5])
  redis.call('ZADD', KEYS[7], tonumber(ARGV[8]), ARGV[1])
  redis.call('EXPIRE', KEYS[7], ARGV[6])
else
  redis.call('HDEL', KEYS[1], 'counsellor')
  -- Back to the bot (not ended): the child can still answer the satisfaction question and read answers.
  redis.call('HSET', KEYS[1], 'state', 'bot', 'handoff_ended', ARGV[5], 'categorise_by', ARGV[2],
    'satisfaction_asked', '1')
end
return 'ok'
"""
)

_PRESENCE_UP = """
-- A console socket of this counsellor is live (connect, and every heartbeat): the grace period stops.
-- KEYS: shift, conns ; ARGV: conn, stale_at_ms, ttl
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('HDEL', KEYS[1], 'disconnected', 'grace_until')
return 1
"""

_PRESENCE_DOWN = """
-- A socket closed. If it was the counsellor's last live one (in any console process), the grace starts.
-- KEYS: shift, conns ; ARGV: conn, now_ms, grace_ms. Returns 1 when the grace period started.
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])
if redis.call('ZCARD', KEYS[2]) > 0 or redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'grace_until') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'disconnected', ARGV[2], 'grace_until', tonumber(ARGV[2]) + tonumber(ARGV[3]))
return 1
"""

_SWEEP = (
    _REFRESH
    + """
-- One counsellor on shift, seen by any console process (every tick, and at start). The deadline lives
-- here, not in a process's timer, so a console that crashed or restarted cannot strand a child: its
-- sockets' heartbeats stop, their members go stale, and the first sweep after that starts the grace.
-- KEYS: shift, conns, assigned, avail, queue
-- ARGV: name, now_ms, grace_ms, retention, shift_ttl, urgent_shift_ms, note, conversation key format
-- Returns {status, {requeued...}, {gone...}}, status 'live'|'idle'|'grace'|'requeued': only the one sweep
-- that requeues gets those ids. First, no ghost in the load: a chat whose conversation Redis already
-- forgot (the backstop of expiry; chatbot.domain.ending ends idle chats before that) leaves the set now
-- ('gone'); one that ended is left to the outbox (settle_left), which also frees its slot.
local now = tonumber(ARGV[2])
local gone = {}
for _, conv in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if redis.call('EXISTS', string.format(ARGV[8], conv)) == 0 then
    redis.call('SREM', KEYS[3], conv)
    table.insert(gone, conv)
  end
end
if #gone > 0 then refresh(KEYS[4], KEYS[1], KEYS[3], ARGV[1], ARGV[5]) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])
if redis.call('ZCARD', KEYS[2]) > 0 then
  redis.call('HDEL', KEYS[1], 'disconnected', 'grace_until')
  return {'live', {}, gone}
end
local status = redis.call('HGET', KEYS[1], 'status')
if not status or (status ~= 'available' and redis.call('SCARD', KEYS[3]) == 0) then
  return {'idle', {}, gone}
end
local deadline = tonumber(redis.call('HGET', KEYS[1], 'grace_until') or '')
if not deadline then
  deadline = now + tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], 'grace_until', deadline)
  if redis.call('HEXISTS', KEYS[1], 'disconnected') == 0 then redis.call('HSET', KEYS[1], 'disconnected', now) end
end
if now < deadline then return {'grace', {}, gone} end
local moved = {}
for _, conv in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local meta = string.format(ARGV[8], conv)
  if redis.call('HGET', meta, 'counsellor') == ARGV[1] and redis.call('HGET', meta, 'state') == 'counsellor' then
    local score = now
    if redis.call('HGET', meta, 'urgent') == '1' then score = now - tonumber(ARGV[6]) end
    redis.call('HDEL', meta, 'counsellor')
    redis.call('HSET', meta, 'state', 'queued', 'queued_at', ARGV[2], 'note', ARGV[7])
    redis.call('ZADD', KEYS[5], score, conv)
    redis.call('EXPIRE', KEYS[5], ARGV[4])
    table.insert(moved, conv)
  end
end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[1], 'status', 'away')
redis.call('HDEL', KEYS[1], 'grace_until')
refresh(KEYS[4], KEYS[1], KEYS[3], ARGV[1], ARGV[5])
return {'requeued', moved, gone}
"""
)

_SETTLE_LEFT = (
    _REFRESH
    + """
-- Drain the outbox of ended conversations (chatbot.store.keys.LEFT), at most ARGV[5] at a time. Each
-- member is taken out in this step, so with two console processes exactly one settles it. A chat that
-- ended while a counsellor had it leaves her load now and waits for her categorisation.
-- KEYS: left, avail
-- ARGV: conversation key format, assigned format, shift format, shift_ttl, max, to-categorise format,
--       retention
-- Returns conv_id, left_from, counsellor, reason, triples... (flat).
local out = {}
for _, conv in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[5]) - 1)) do
  redis.call('ZREM', KEYS[1], conv)
  local meta = string.format(ARGV[1], conv)
  local fields = redis.call('HMGET', meta, 'left_from', 'counsellor', 'end_reason')
  local from, counsellor = fields[1] or '', fields[2] or ''
  if from == 'counsellor' and counsellor ~= '' then
    local assigned = string.format(ARGV[2], counsellor)
    redis.call('SREM', assigned, conv)
    refresh(KEYS[2], string.format(ARGV[3], counsellor), assigned, counsellor, ARGV[4])
    redis.call('HSET', meta, 'categorise_by', counsellor)
    local todo = string.format(ARGV[6], counsellor)
    redis.call('SADD', todo, conv)
    redis.call('EXPIRE', todo, ARGV[7])
  end
  table.insert(out, conv)
  table.insert(out, from)
  table.insert(out, counsellor)
  table.insert(out, fields[3] or '')
end
return out
"""
)

_ANNOUNCE = """
-- A waiting child's place as last told, compare-and-set. KEYS: conversation ; ARGV: mark (place/wait).
-- Returns {'gone'|'same'|'first'|'changed', counted}: 'changed' is the one caller that tells the child,
-- so two console processes ticking at once say a new place once; counted is 1 the first time a waiting
-- conversation is seen (it counts as queued once). A child no longer waiting (claimed meanwhile) is
-- told nothing.
if redis.call('HGET', KEYS[1], 'state') ~= 'queued' then return {'gone', 0} end
local counted = redis.call('HSETNX', KEYS[1], 'counted', '1')
local before = redis.call('HGET', KEYS[1], 'announced')
if before == ARGV[1] then return {'same', counted} end
redis.call('HSET', KEYS[1], 'announced', ARGV[1])
if not before then return {'first', counted} end
return {'changed', counted}
"""

_FORGET_SHIFTS = """
-- KEYS: on_shift ; ARGV: shift key format, names. Drops names whose shift has expired, unless the
-- counsellor came back between our look and this step (set_shift re-creates the shift and re-adds).
for i = 2, #ARGV do
  if redis.call('EXISTS', string.format(ARGV[1], ARGV[i])) == 0 then redis.call('SREM', KEYS[1], ARGV[i]) end
end
return 1
"""

_TAKE_FIELD = """
-- KEYS: conversation ; ARGV: field, expected. Deletes the field if it holds `expected`: a once-only token.
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Swept:
    """One counsellor's sweep: 'live', 'idle', 'grace' or 'requeued' (with the chats requeued), and the
    chats whose conversation was already gone (taken out of the load)."""

    status: str
    requeued: list[str]
    gone: list[str]


@dataclass(frozen=True)
class Left:
    """An ended conversation the console settled: where the child left from and with whom."""

    conv_id: str
    left_from: str
    counsellor: str
    reason: str


@dataclass(frozen=True)
class ShiftRecord:
    name: str
    status: str
    capacity: int
    display: str
    disconnected_ms: int | None
    load: int
    grace_until_ms: int | None = None


class HandoffStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._shift = redis.register_script(_SHIFT)
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)
        self._take = redis.register_script(_TAKE_FIELD)
        self._up = redis.register_script(_PRESENCE_UP)
        self._down = redis.register_script(_PRESENCE_DOWN)
        self._sweep = redis.register_script(_SWEEP)
        self._announce = redis.register_script(_ANNOUNCE)
        self._settle = redis.register_script(_SETTLE_LEFT)
        self._forget = redis.register_script(_FORGET_SHIFTS)

    async def set_shift(self, name: str, *, status: str, capacity: int, display: str, now_ms: int) -> int:
        load = await self._shift(
            keys=[keys.shift(name), chat_keys.COUNSELLORS_AVAILABLE, keys.assigned(name), keys.ON_SHIFT],
            args=[name, status, capacity, display, now_ms, keys.SHIFT_RETENTION],
        )
        return int(load)

    async def presence_up(self, live: Iterable[tuple[str, str]], *, stale_at_ms: int) -> None:
        """(name, conn) sockets are live until `stale_at_ms` unless refreshed: one round trip for all."""
        await run_together(
            self._redis,
            [
                (
                    self._up,
                    [keys.shift(name), keys.connections(name)],
                    [conn, stale_at_ms, keys.SHIFT_RETENTION],
                )
                for name, conn in live
            ],
        )

    async def presence_down(self, name: str, conn: str, *, now_ms: int, grace_ms: int) -> bool:
        """True when this was the counsellor's last live socket and their grace period started."""
        started = await self._down(
            keys=[keys.shift(name), keys.connections(name)], args=[conn, now_ms, grace_ms]
        )
        return bool(started)

    async def sweep(
        self,
        names: Sequence[str],
        *,
        now_ms: int,
        grace_ms: int,
        retention: int,
        note: str,
    ) -> list[Swept]:
        """Start, keep or end each counsellor's grace period, and keep ghosts out of their load: one
        script each (atomic on its own), all in one round trip. Per name: what the script found."""
        if not names:
            return []
        results = await run_together(
            self._redis,
            [
                (
                    self._sweep,
                    [
                        keys.shift(name),
                        keys.connections(name),
                        keys.assigned(name),
                        chat_keys.COUNSELLORS_AVAILABLE,
                        chat_keys.QUEUE,
                    ],
                    [
                        name,
                        now_ms,
                        grace_ms,
                        retention,
                        keys.SHIFT_RETENTION,
                        URGENT_SHIFT_MS,
                        note,
                        chat_keys.conversation("%s"),
                    ],
                )
                for name in names
            ],
        )
        return [
            Swept(_text(status), [_text(c) for c in requeued], [_text(c) for c in gone])
            for status, requeued, gone in results
        ]

    async def settle_left(self, *, retention: int, most: int = 100) -> list[Left]:
        """Take up to `most` ended conversations out of the outbox, freeing the counsellor's slot of each
        that ended in her hands (one script: only one console process settles a conversation)."""
        flat = await self._settle(
            keys=[chat_keys.LEFT, chat_keys.COUNSELLORS_AVAILABLE],
            args=[
                chat_keys.conversation("%s"),
                keys.assigned("%s"),
                keys.shift("%s"),
                keys.SHIFT_RETENTION,
                most,
                keys.to_categorise("%s"),
                retention,
            ],
        )
        items = [_text(v) for v in flat]
        return [Left(*items[i : i + 4]) for i in range(0, len(items), 4)]

    async def announce(self, marks: Sequence[tuple[str, str]]) -> list[tuple[str, bool]]:
        """Record (conv_id, place/wait) as told: per conversation 'gone', 'same', 'first' or 'changed'
        (only 'changed' is to be told) and whether it was counted as queued just now. One script each,
        all in one round trip."""
        if not marks:
            return []
        results = await run_together(
            self._redis,
            [(self._announce, [chat_keys.conversation(conv_id)], [mark]) for conv_id, mark in marks],
        )
        return [(_text(place), bool(int(counted))) for place, counted in results]

    async def shift(self, name: str) -> ShiftRecord | None:
        raw = await self._redis.hgetall(keys.shift(name))  # type: ignore[misc]
        if not raw:
            return None
        return _record(name, raw, int(await self._redis.scard(keys.assigned(name))))  # type: ignore[misc]

    async def on_shift(self) -> list[ShiftRecord]:
        """Everyone on shift, in two round trips however many they are."""
        members = sorted(_text(m) for m in await self._redis.smembers(keys.ON_SHIFT))  # type: ignore[misc]
        if not members:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for member in members:
                pipe.hgetall(keys.shift(member))
                pipe.scard(keys.assigned(member))
            raw = await pipe.execute()
        found, gone = [], []
        for i, member in enumerate(members):
            record = _record(member, raw[2 * i], int(raw[2 * i + 1]))
            if record is None:
                gone.append(member)
            else:
                found.append(record)
        if gone:
            await self._forget(keys=[keys.ON_SHIFT], args=[keys.shift("%s"), *gone])
        return found

    async def assigned(self, name: str) -> list[str]:
        return sorted(_text(m) for m in await self._redis.smembers(keys.assigned(name)))  # type: ignore[misc]

    async def claim(self, conv_id: str, name: str, *, now_ms: int, retention: int) -> tuple[str, str, bool]:
        """(status, detail, over capacity): an urgent child is claimed also by a counsellor who is full."""
        status, detail, over = await self._claim(
            keys=[
                chat_keys.QUEUE,
                chat_keys.conversation(conv_id),
                chat_keys.COUNSELLORS_AVAILABLE,
                keys.assigned(name),
                keys.shift(name),
            ],
            args=[conv_id, name, now_ms, retention, keys.SHIFT_RETENTION],
        )
        return _text(status), _text(detail), _text(over) == "1"

    async def release(
        self,
        conv_id: str,
        name: str,
        mode: str,
        *,
        now_ms: int,
        retention: int,
        to: str = "",
        urgent: bool = False,
        note: str = "",
    ) -> str:
        target = to or name
        score = now_ms - URGENT_SHIFT_MS if urgent else now_ms
        result = await self._release(
            keys=[
                chat_keys.conversation(conv_id),
                chat_keys.COUNSELLORS_AVAILABLE,
                keys.assigned(name),
                keys.shift(name),
                keys.assigned(target),
                keys.shift(target),
                chat_keys.QUEUE,
            ],
            args=[conv_id, name, mode, target, now_ms, retention, keys.SHIFT_RETENTION, score, note],
        )
        return _text(result)

    async def to_categorise(self, name: str) -> list[str]:
        """Chats the child left while this counsellor had them, not categorised yet."""
        members = await self._redis.smembers(keys.to_categorise(name))  # type: ignore[misc]
        return sorted(_text(m) for m in members)

    async def categorised(self, name: str, conv_id: str) -> None:
        await self._redis.srem(keys.to_categorise(name), conv_id)  # type: ignore[misc]

    async def take_field(self, conv_id: str, field: str, expected: str) -> bool:
        return bool(await self._take(keys=[chat_keys.conversation(conv_id)], args=[field, expected]))


def _record(name: str, hash_: Mapping[Any, Any], load: int) -> ShiftRecord | None:
    raw = {_text(k): _text(v) for k, v in hash_.items()}
    if "status" not in raw:
        return None
    disconnected = raw.get("disconnected")
    grace_until = raw.get("grace_until")
    return ShiftRecord(
        name,
        raw["status"],
        int(raw.get("capacity", "0")),
        raw.get("display", name),
        int(disconnected) if disconnected else None,
        load,
        int(grace_until) if grace_until else None,
    )


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)
