"""Failed sign-in and step-up counters in Redis (fixed windows by the injected clock) and the blocks index."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from console.store import keys

_COUNT = """
-- One failure in each counter, in one step. A window starts at a counter's first failure and ends at
-- `until` (the injected clock decides, so tests move time; the TTL only cleans up). A counter that reaches
-- its limit is noted in its blocks index (1: clients, 2: names, 0: none), which the supervisors' list reads.
-- KEYS: clients index, names index, counter... ; ARGV: now_ms, window_ms, then per counter member, limit, index
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local out = {}
for i = 3, #KEYS do
  local at = 3 + (i - 3) * 3
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
  local index = tonumber(ARGV[at + 2])
  if index > 0 and n >= tonumber(ARGV[at + 1]) then
    redis.call('ZADD', KEYS[index], ends, ARGV[at])
    redis.call('ZREMRANGEBYSCORE', KEYS[index], '-inf', now)
    redis.call('PEXPIRE', KEYS[index], window)
  end
  out[#out + 1] = n
end
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
-- KEYS: clients index, names index ; ARGV: now_ms, key prefix, most. The live blocks (member, n, until):
-- every index's newest windows first, at most `most` of each.
local out = {}
for k = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', ARGV[1])
  for _, member in ipairs(redis.call('ZREVRANGE', KEYS[k], 0, tonumber(ARGV[3]) - 1)) do
    local v = redis.call('HMGET', ARGV[2] .. member, 'n', 'until')
    if v[1] and tonumber(v[2]) > tonumber(ARGV[1]) then
      out[#out + 1] = member
      out[#out + 1] = v[1]
      out[#out + 1] = v[2]
    end
  end
end
return out
"""

_FORGET = """
-- KEYS: clients index, names index ; ARGV: key prefix, member... (exact) then '|', then member prefixes.
-- Deletes the counters named exactly and every listed one starting with a prefix, and their index entries.
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
  redis.call('ZREM', KEYS[2], member)
end
return removed
"""

_INDEXES = [keys.BLOCKED_CLIENTS, keys.BLOCKED_NAMES]


@dataclass(frozen=True)
class Counted:
    """A sign-in counter to count a failure in, with the limit at which it becomes a block to list."""

    member: str
    limit: int
    slows_name: bool = False


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

    async def count(self, counters: list[Counted], *, now_ms: int, window_s: int) -> list[int]:
        """One more failure in each sign-in counter (listed for supervisors at its limit); the new counts."""
        args: list[str | int] = [now_ms, window_s * 1000]
        for c in counters:
            args += [c.member, c.limit, 2 if c.slows_name else 1]
        found = await self._count(
            keys=[*_INDEXES, *(keys.login_failures(c.member) for c in counters)], args=args
        )
        return [int(n) for n in found]

    async def blocks(self, *, now_ms: int, most: int) -> list[Counter]:
        """The counters at their limit whose window has not ended (at most `most` clients' and `most`
        names', the newest windows first)."""
        flat = await self._list(keys=_INDEXES, args=[now_ms, keys.LOGIN_FAILURES, most])
        items = [_text(v) for v in flat]
        return [Counter(items[i], int(items[i + 1]), int(items[i + 2])) for i in range(0, len(items), 3)]

    async def forget(self, members: list[str], *, prefixes: tuple[str, ...] = ()) -> int:
        """Delete these counters, and every listed client block starting with a prefix; how many existed."""
        removed = await self._forget(keys=_INDEXES, args=[keys.LOGIN_FAILURES, *members, "|", *prefixes])
        return int(removed)

    async def step_up_failures(self, session_hash: str, *, now_ms: int) -> int:
        found = await self._read(keys=[keys.step_up_failures(session_hash)], args=[now_ms])
        return int(found[0])

    async def count_step_up(self, session_hash: str, *, now_ms: int, window_s: int) -> int:
        found = await self._count(
            keys=[*_INDEXES, keys.step_up_failures(session_hash)], args=[now_ms, window_s * 1000, "", 0, 0]
        )
        return int(found[0])

    async def clear_step_up(self, session_hash: str) -> None:
        await self._redis.delete(keys.step_up_failures(session_hash))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
