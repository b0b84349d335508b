"""Failed sign-in and step-up counters in Redis (fixed windows by the injected clock) and the blocks index."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from console.store import keys

_COUNT = """
-- One attempt in each counter, in one step, unless a guarded counter is already at its limit: then
-- nothing is counted and the answer is {-position}. Checking and counting in one step means parallel
-- attempts from one client cannot all pass the check before any is counted. A window starts at a
-- counter's first attempt and ends at `until` (the injected clock decides, so tests move time; the TTL
-- only cleans up). A counter that reaches its limit is noted in its blocks index (1: clients, 2: names,
-- 0: none), which the supervisors' list reads.
-- KEYS: clients index, names index, counter... ; ARGV: now_ms, window_ms, then per counter: member, limit,
-- index, guarded (1/0)
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
for i = 3, #KEYS do
  local at = 3 + (i - 3) * 4
  if ARGV[at + 3] == '1' then
    local v = redis.call('HMGET', KEYS[i], 'n', 'until')
    if v[1] and tonumber(v[2]) > now and tonumber(v[1]) >= tonumber(ARGV[at + 1]) then return {2 - i} end
  end
end
local out = {}
for i = 3, #KEYS do
  local at = 3 + (i - 3) * 4
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

_UNCOUNT = """
-- KEYS: counter... ; ARGV: now_ms. Takes back one attempt from each counter whose window is still open.
for i = 1, #KEYS do
  local v = redis.call('HMGET', KEYS[i], 'n', 'until')
  if v[1] and tonumber(v[2]) > tonumber(ARGV[1]) and tonumber(v[1]) > 0 then
    redis.call('HINCRBY', KEYS[i], 'n', -1)
  end
end
return 1
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
    guarded: bool = False
    """At its limit, this counter refuses the attempt: nothing is counted (`Refused`)."""


class Refused(Exception):
    """A guarded counter was at its limit; `member` names it."""

    def __init__(self, member: str) -> None:
        super().__init__(member)
        self.member = member


@dataclass(frozen=True)
class Counter:
    member: str
    failures: int
    until_ms: int


class ThrottleStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._count = redis.register_script(_COUNT)
        self._uncount = redis.register_script(_UNCOUNT)
        self._list = redis.register_script(_LIST)
        self._forget = redis.register_script(_FORGET)

    async def count(self, counters: list[Counted], *, now_ms: int, window_s: int) -> list[int]:
        """One more attempt in each sign-in counter (listed for supervisors at its limit); the new counts.
        Refused, and nothing counted, when a guarded counter is already at its limit."""
        args: list[str | int] = [now_ms, window_s * 1000]
        for c in counters:
            args += [c.member, c.limit, 2 if c.slows_name else 1, int(c.guarded)]
        found = await self._count(
            keys=[*_INDEXES, *(keys.login_failures(c.member) for c in counters)], args=args
        )
        counts = [int(n) for n in found]
        if counts[0] < 0:
            raise Refused(counters[-counts[0] - 1].member)
        return counts

    async def uncount(self, members: list[str], *, now_ms: int) -> None:
        """Take back one attempt from each of these counters (it succeeded after all)."""
        await self._uncount(keys=[keys.login_failures(m) for m in members], args=[now_ms])

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

    async def count_step_up(self, session_hash: str, *, now_ms: int, window_s: int) -> int:
        found = await self._count(
            keys=[*_INDEXES, keys.step_up_failures(session_hash)], args=[now_ms, window_s * 1000, "", 0, 0, 0]
        )
        return int(found[0])

    async def clear_step_up(self, session_hash: str) -> None:
        await self._redis.delete(keys.step_up_failures(session_hash))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
