"""Failed sign-in and step-up counters in Redis (fixed windows by the injected clock) and their index."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from console.store import keys

_COUNT = """
-- One failure in each counter, in one step. A window starts at a counter's first failure and ends at
-- `until` (the injected clock decides, so tests move time; the TTL only cleans up). Members are noted in
-- the index the supervisors' list reads ('' for counters it does not list).
-- KEYS: index, counter... ; ARGV: now_ms, window_ms, member...
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {}
for i = 2, #KEYS do
  local ends = tonumber(redis.call('HGET', KEYS[i], 'until') or '0')
  local n
  if ends <= now then
    ends = now + window
    redis.call('HSET', KEYS[i], 'n', 1, 'until', ends)
    n = 1
  else
    n = redis.call('HINCRBY', KEYS[i], 'n', 1)
  end
  redis.call('PEXPIRE', KEYS[i], ends - now)
  if ARGV[i + 1] ~= '' then redis.call('ZADD', KEYS[1], ends, ARGV[i + 1]) end
  out[#out + 1] = n
end
redis.call('PEXPIRE', KEYS[1], window)
return out
"""

_READ = """
-- KEYS: counter... ; ARGV: now_ms. Each counter's failures in its current window (0: none, or it ended).
local out = {}
for i = 1, #KEYS do
  local v = redis.call('HMGET', KEYS[i], 'n', 'until')
  if v[1] and tonumber(v[2]) > tonumber(ARGV[1]) then out[i] = tonumber(v[1]) else out[i] = 0 end
end
return out
"""

_LIST = """
-- KEYS: index ; ARGV: now_ms, key prefix, most. The live counters (member, n, until), newest windows first.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local out = {}
for _, member in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)) do
  local v = redis.call('HMGET', ARGV[2] .. member, 'n', 'until')
  if v[1] and tonumber(v[2]) > tonumber(ARGV[1]) then
    out[#out + 1] = member
    out[#out + 1] = v[1]
    out[#out + 1] = v[2]
  end
end
return out
"""

_FORGET = """
-- KEYS: index ; ARGV: key prefix, member... (exact) then '|', then member prefixes. Deletes the counters
-- named exactly and every indexed one starting with a prefix, and their index entries.
local exact, prefixes, seen_bar = {}, {}, false
for i = 2, #ARGV do
  if ARGV[i] == '|' then seen_bar = true
  elseif seen_bar then prefixes[#prefixes + 1] = ARGV[i]
  else exact[#exact + 1] = ARGV[i] end
end
if #prefixes > 0 then
  for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    for _, prefix in ipairs(prefixes) do
      if string.sub(member, 1, #prefix) == prefix then exact[#exact + 1] = member end
    end
  end
end
local removed = 0
for _, member in ipairs(exact) do
  removed = removed + redis.call('DEL', ARGV[1] .. member)
  redis.call('ZREM', KEYS[1], member)
end
return removed
"""


@dataclass(frozen=True)
class Counter:
    member: str
    failures: int
    until_ms: int


class ThrottleStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._count = redis.register_script(_COUNT)
        self._read = redis.register_script(_READ)
        self._list = redis.register_script(_LIST)
        self._forget = redis.register_script(_FORGET)

    async def read(self, members: list[str], *, now_ms: int) -> list[int]:
        """Failures in the current window of each sign-in counter, in one round trip."""
        found = await self._read(keys=[keys.login_failures(m) for m in members], args=[now_ms])
        return [int(n) for n in found]

    async def count(self, members: list[str], *, now_ms: int, window_s: int) -> list[int]:
        """One more failure in each sign-in counter (indexed for the supervisors); the new counts."""
        found = await self._count(
            keys=[keys.LOGIN_FAILURE_INDEX, *(keys.login_failures(m) for m in members)],
            args=[now_ms, window_s * 1000, *members],
        )
        return [int(n) for n in found]

    async def live(self, *, now_ms: int, most: int) -> list[Counter]:
        """The sign-in counters whose window has not ended (at most `most`, the newest windows first)."""
        flat = await self._list(keys=[keys.LOGIN_FAILURE_INDEX], args=[now_ms, keys.LOGIN_FAILURES, most])
        items = [_text(v) for v in flat]
        return [Counter(items[i], int(items[i + 1]), int(items[i + 2])) for i in range(0, len(items), 3)]

    async def forget(self, members: list[str], *, prefixes: tuple[str, ...] = ()) -> int:
        """Delete these counters, and every indexed one starting with a prefix; how many existed."""
        removed = await self._forget(
            keys=[keys.LOGIN_FAILURE_INDEX], args=[keys.LOGIN_FAILURES, *members, "|", *prefixes]
        )
        return int(removed)

    async def step_up_failures(self, session_hash: str, *, now_ms: int) -> int:
        found = await self._read(keys=[keys.step_up_failures(session_hash)], args=[now_ms])
        return int(found[0])

    async def count_step_up(self, session_hash: str, *, now_ms: int, window_s: int) -> int:
        found = await self._count(
            keys=[keys.LOGIN_FAILURE_INDEX, keys.step_up_failures(session_hash)],
            args=[now_ms, window_s * 1000, ""],
        )
        return int(found[0])

    async def clear_step_up(self, session_hash: str) -> None:
        await self._redis.delete(keys.step_up_failures(session_hash))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
