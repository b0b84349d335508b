"""Published content versions in Redis: immutable snapshots, the current number, and the wake-up channel.

Layout (chatbot/store/keys.py): `sc:{content}:cv:snap:<n>` (the snapshot, JSON), `sc:{content}:cv:meta:<n>` (who, when, JSON),
`sc:{content}:cv:current` (the number every process serves), `sc:{content}:cv:counter` (the last number handed out) and
`sc:{content}:cv:numbers` (a sorted set of the numbers, for the history). Every key lives `retention` after it was
written; the current version's keys are refreshed by every process's periodic check (`keep`), so what is
served never expires while the old versions age out after the retention.

Redis is the truth; `sc:notify:content` only wakes processes, which then read `sc:{content}:cv:current`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from chatbot.store import keys
from chatbot.store.pipelining import ScriptPipeline

log = logging.getLogger(__name__)

# Compare-and-set publish: the new version becomes current only if the current one is still the one the
# caller based it on ('' = none yet, the seed; '*' = whatever is current, for a supervisor's rollback).
_PUBLISH = """
-- KEYS: current, numbers, counter, snapshot, meta ; ARGV: expected, number, snapshot, meta, ttl_ms, channel
local current = redis.call('GET', KEYS[1]) or ''
if ARGV[1] ~= '*' and current ~= ARGV[1] then return {0, current} end
local ttl = tonumber(ARGV[5])
redis.call('SET', KEYS[4], ARGV[3], 'PX', ttl)
redis.call('SET', KEYS[5], ARGV[4], 'PX', ttl)
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), ARGV[2])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('PUBLISH', ARGV[6], ARGV[2])
return {1, current}
"""


class ContentVersionStore:
    """Snapshots and metadata are opaque JSON strings here; chatbot.domain.content_versions gives them shape."""

    def __init__(self, redis: Redis, retention_s: int) -> None:
        self._redis = redis
        self._retention_ms = retention_s * 1000
        self._publish = redis.register_script(_PUBLISH)

    async def next_number(self) -> int:
        number = int(await self._redis.incr(keys.CONTENT_COUNTER))
        await self._redis.pexpire(keys.CONTENT_COUNTER, self._retention_ms)
        return number

    async def publish(self, number: int, snapshot: str, meta: str, expected: int | str | None) -> int | None:
        """Make `number` current if the current one is `expected` (None: no version yet; '*': any).
        Returns None when it was published, else the number that is current instead."""
        want = "" if expected is None else str(expected)
        done, current = await self._publish(
            keys=[
                keys.CONTENT_CURRENT,
                keys.CONTENT_NUMBERS,
                keys.CONTENT_COUNTER,
                keys.content_snapshot(number),
                keys.content_meta(number),
            ],
            args=[want, number, snapshot, meta, self._retention_ms, keys.NOTIFY_CONTENT],
        )
        if int(done) == 1:
            return None
        text = current.decode() if isinstance(current, bytes) else str(current)
        return int(text) if text else 0

    async def current(self) -> int | None:
        raw = await self._redis.get(keys.CONTENT_CURRENT)
        return int(raw) if raw else None

    async def snapshot(self, number: int) -> str | None:
        raw = await self._redis.get(keys.content_snapshot(number))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def meta(self, number: int) -> str | None:
        raw = await self._redis.get(keys.content_meta(number))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def numbers(self) -> list[int]:
        """Every version number still kept, newest first (expired ones are pruned from the set)."""
        raw: list[Any] = await self._redis.zrevrange(keys.CONTENT_NUMBERS, 0, -1)
        found = [int(n) for n in raw]
        kept = []
        for number in found:
            if await self._redis.exists(keys.content_meta(number)):
                kept.append(number)
            else:
                await self._redis.zrem(keys.CONTENT_NUMBERS, number)
        return kept

    async def keep(self, number: int) -> None:
        """Refresh the retention of the current version (called by every process's periodic check)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in (
                keys.CONTENT_CURRENT,
                keys.CONTENT_NUMBERS,
                keys.CONTENT_COUNTER,
                keys.content_snapshot(number),
                keys.content_meta(number),
            ):
                pipe.pexpire(key, self._retention_ms)
            await pipe.execute()

    async def listen(self, wake: Callable[[], Awaitable[None] | None], stop: asyncio.Event) -> None:
        """Call `wake` on every announcement of a publish until `stop` is set (see `listen`)."""
        await listen(self._redis, keys.NOTIFY_CONTENT, wake, stop)


async def listen(
    redis: Redis, channel: str, wake: Callable[[], Awaitable[None] | None], stop: asyncio.Event
) -> None:
    """Call `wake` on every announcement on `channel` until `stop` is set; reconnects when Redis goes
    away (the caller's periodic check covers what is missed meanwhile). It ends by itself, never by a
    cancel inside a read, so the connection goes back clean."""
    while not stop.is_set():
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(channel)
            while not stop.is_set():
                message = await pubsub.get_message(timeout=0.5)
                if message is not None:
                    result = wake()
                    if result is not None:
                        await result
        except Exception:
            log.warning("listener on %s lost Redis; retrying in 1 s", channel, exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()


# How an answer shown is counted: one more for each answer id in ARGV[first..last] in the day's hash. Also
# part of the conversation store's `ingest`, which stores an answer with its message and counts it.
COUNT_SHOWN_FUNCTION = """
local function count_shown(key, retention, first, last)
  for i = first, last do redis.call('HINCRBY', key, ARGV[i], 1) end
  redis.call('EXPIRE', key, retention)
end
"""

_COUNT_SHOWN = (
    COUNT_SHOWN_FUNCTION
    + """
-- KEYS: the day's counts ; ARGV: retention_s, answer_id...
count_shown(KEYS[1], ARGV[1], 2, #ARGV)
return 1
"""
)


class ShownCounts:
    """How often each answer was shown per Stockholm day: counts only (docs/content.md)."""

    def __init__(self, redis: Redis, retention_s: int, scripts: ScriptPipeline | None = None) -> None:
        """`scripts`: the pipeline of the writes the count goes with (the gateway's conversation store), so
        the count shares their round trip instead of costing one of its own per message."""
        self._redis = redis
        self.retention_s = retention_s  # how long a day's counts are kept (the ingest's counts too)
        self._script = scripts.register(_COUNT_SHOWN) if scripts is not None else None

    async def count(self, day: str, answer_ids: list[str]) -> None:
        if not answer_ids:
            return
        key = keys.content_shown(day)
        if self._script is not None:
            await self._script(keys=[key], args=[self.retention_s, *answer_ids])
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for answer_id in answer_ids:
                pipe.hincrby(key, answer_id, 1)
            pipe.expire(key, self.retention_s)
            await pipe.execute()

    async def day(self, day: str) -> dict[str, int]:
        raw: dict[Any, Any] = await self._redis.hgetall(keys.content_shown(day))  # type: ignore[misc]
        return {(k.decode() if isinstance(k, bytes) else str(k)): int(v) for k, v in raw.items()}
