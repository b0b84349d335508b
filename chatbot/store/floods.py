"""Flood limits in Redis: per-client token buckets, the all-clients minute count, and blocks, in Lua.

Only hashes reach Redis (chatbot/domain/floods.py makes them); every key here has a TTL.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from redis.asyncio import Redis

from chatbot.store import keys

_BUCKET = """
-- A token bucket: refill at per_hour, hold at most burst; take one if there is one.
-- Returns {taken (0/1), ms until the next token, tokens used (burst - tokens, before taking)}.
local function take(key, now, burst, per_hour, need_used_below)
  local per_ms = per_hour / 3600000.0
  local b = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(b[1]) or burst
  local last = tonumber(b[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - last) * per_ms)
  -- Conversations opened and not yet refilled, rounded up: a part-refilled token still counts.
  local used = math.ceil(burst - tokens - 1e-9)
  local ttl = math.ceil(burst / per_ms) + 1000
  if tokens < 1 or used >= need_used_below then
    redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', now)
    redis.call('PEXPIRE', key, ttl)
    return {0, math.ceil(math.max(1 - tokens, 0) / per_ms), used}
  end
  redis.call('HSET', key, 'tokens', tostring(tokens - 1), 'ts', now)
  redis.call('PEXPIRE', key, ttl)
  return {1, 0, used}
end
"""

_ADMIT_CONVERSATION = (
    _BUCKET
    + """
-- KEYS: block (current hash), block (previous hash), bucket, this minute's count
-- ARGV: now_ms, burst, per_hour, busy_per_minute, pressure_allowance
local blocked = math.max(redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2]))
if blocked > 0 then return {'blocked', blocked} end
local now = tonumber(ARGV[1])
local count = tonumber(redis.call('GET', KEYS[4]) or '0')
local busy = count >= tonumber(ARGV[4])
-- Under pressure a client that has opened pressure_allowance or more recently waits; a fresh one
-- (the next real child) still gets in.
local need = busy and tonumber(ARGV[5]) or 1e18
local r = take(KEYS[3], now, tonumber(ARGV[2]), tonumber(ARGV[3]), need)
if r[1] == 0 then
  if busy and r[3] >= tonumber(ARGV[5]) then return {'busy', math.max(r[2], 60000 - now % 60000)} end
  return {'limited', r[2]}
end
redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], 120000)
return {'ok', 0}
"""
)

_ADMIT_QUEUE = (
    _BUCKET
    + """
-- KEYS: client_of(conv) ; ARGV: now_ms, burst, per_hour, bucket key prefix
-- A conversation with no recorded client (older, or opened without an address) is not limited here.
local client = redis.call('GET', KEYS[1])
if not client then return {1, 0} end
local r = take(ARGV[4] .. client, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), 1e18)
return {r[1], r[2]}
"""
)

_TAKE = (
    _BUCKET
    + """
-- KEYS: bucket ; ARGV: now_ms, burst, per_hour
local r = take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), 1e18)
return {r[1], r[2]}
"""
)

_BLOCK_CLIENT_OF = """
-- KEYS: client_of(conv) ; ARGV: block key prefix, seconds. Blocks the client that opened the conversation.
local client = redis.call('GET', KEYS[1])
if not client then return 0 end
redis.call('SET', ARGV[1] .. client, '1', 'EX', ARGV[2])
return 1
"""


class Admission(StrEnum):
    OK = "ok"
    LIMITED = "limited"
    BUSY = "busy"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Admitted:
    status: Admission
    retry_after_ms: int


class FloodStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._admit_conversation = redis.register_script(_ADMIT_CONVERSATION)
        self._admit_queue = redis.register_script(_ADMIT_QUEUE)
        self._block_client_of = redis.register_script(_BLOCK_CLIENT_OF)
        self._take = redis.register_script(_TAKE)

    async def take(self, kind: str, client_hash: str, *, now_ms: int, burst: int, per_hour: int) -> Admitted:
        """One token from a client's bucket of this kind (e.g. `code`: case-code lookups)."""
        taken, retry = await self._take(
            keys=[keys.flood_bucket(kind, client_hash)], args=[now_ms, burst, per_hour]
        )
        return Admitted(Admission.OK if int(taken) else Admission.LIMITED, int(retry))

    async def admit_conversation(
        self,
        current: str,
        previous: str,
        *,
        now_ms: int,
        burst: int,
        per_hour: int,
        busy_per_minute: int,
        pressure_allowance: int,
    ) -> Admitted:
        status, retry = await self._admit_conversation(
            keys=[
                keys.client_block(current),
                keys.client_block(previous),
                keys.flood_bucket("conv", current),
                keys.flood_minute(now_ms // 60000),
            ],
            args=[now_ms, burst, per_hour, busy_per_minute, pressure_allowance],
        )
        text = status.decode() if isinstance(status, bytes) else str(status)
        return Admitted(Admission(text), max(0, int(retry)))

    async def remember_client(self, conv_id: str, client_hash: str, *, ttl: int) -> None:
        await self._redis.set(keys.client_of(conv_id), client_hash, ex=ttl)

    async def admit_queue_join(self, conv_id: str, *, now_ms: int, burst: int, per_hour: int) -> Admitted:
        taken, retry = await self._admit_queue(
            keys=[keys.client_of(conv_id)],
            args=[now_ms, burst, per_hour, keys.flood_bucket("queue", "")],
        )
        return Admitted(Admission.OK if int(taken) else Admission.LIMITED, int(retry))

    async def block_client_of(self, conv_id: str, *, seconds: int) -> bool:
        return bool(
            await self._block_client_of(keys=[keys.client_of(conv_id)], args=[keys.client_block(""), seconds])
        )
