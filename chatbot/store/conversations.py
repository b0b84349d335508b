"""Conversation logs in Redis: append-only lists whose position is the sequence number.

Every write that two parties can race on (a resend and its original, two processes appending) is one
Lua script, so a message is stored once and numbered once. Every key gets the retention TTL on every
write: a conversation disappears a retention period after its last activity, with nothing left behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from redis.asyncio import Redis

from chatbot.model import ConversationState, Entry
from chatbot.store import keys, notifications
from chatbot.store.content_versions import COUNT_SHOWN_FUNCTION
from chatbot.store.pipelining import ScriptPipeline, Timing

_CREATE = """
-- KEYS: session, conversation, stats_day (keys.NO_KEY to leave uncounted), active
-- ARGV: conv_id, now_ms, retention_s, locale, stats_retention_s, counted (1/0)
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('HSET', KEYS[2], 'state', 'bot', 'created', ARGV[2], 'last_activity', ARGV[2], 'locale', ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[4], ARGV[3])
-- Every new conversation is a contact: one more in the day's aggregate (a number, nothing that identifies).
if ARGV[6] == '1' then
  redis.call('HINCRBY', KEYS[3], 'contacts', 1)
  redis.call('EXPIRE', KEYS[3], ARGV[5])
end
return 1
"""

_TOUCH_SESSION = """
-- KEYS: session ; ARGV: retention_s, conversation key pattern, log key pattern (same hash slot).
-- Returns the conversation id and its state, refreshing both TTLs.
local conv = redis.call('GET', KEYS[1])
if not conv then return false end
local meta = string.format(ARGV[2], conv)
local state = redis.call('HGET', meta, 'state')
if not state then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
local n = redis.call('LLEN', string.format(ARGV[3], conv))
return {conv, state, n}
"""

# Announces a write to the other gateway processes with a socket on the conversation (keys.listeners),
# never to the writer: a process hears only what it did not write itself (keys.NOTIFY_PROCESS).
_TELL_OTHERS = """
local function tell_others(listeners, writer, prefix, message, retention)
  redis.call('EXPIRE', listeners, retention)
  if writer == '' then return end
  for _, process in ipairs(redis.call('HKEYS', listeners)) do
    if process ~= writer then redis.call('PUBLISH', prefix .. process, message) end
  end
end
"""

_INGEST = (
    _TELL_OTHERS
    + COUNT_SHOWN_FUNCTION
    + """
-- A child's message: dedupe by client id, rate limit (token bucket), append, notify. With an answer
-- worked out before (for the state in ARGV[12]), and that still the state: the answer too, in one step
-- (its marks set in the conversation's meta, its answers counted, its entries right after the message).
-- KEYS: conversation, log, dedupe, rate, active, listeners, shown (keys.NO_KEY for none)
-- ARGV: entry_json, client_id, now_ms, burst, per_minute, retention_s, max_entries, conv_id, channel,
--       writer (the gateway process, '' for none), process channel prefix,
--       answer's state ('' for no answer), shown retention_s, #marks, #shown, (mark name, value)...,
--       answer id..., entry_json...
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'gone', 0, ''} end
if state == 'ended' then return {'ended', 0, state} end
if ARGV[2] ~= '' then
  local seen = redis.call('HGET', KEYS[3], ARGV[2])
  if seen then return {'duplicate', tonumber(seen), state} end
end
local burst = tonumber(ARGV[4])
local per_ms = tonumber(ARGV[5]) / 60000.0
local now = tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[4], 'tokens', 'ts')
local tokens = tonumber(bucket[1]) or burst
local last = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * per_ms)
local bucket_ttl = math.min(math.ceil(burst / per_ms) + 1000, tonumber(ARGV[6]) * 1000)
if tokens < 1 then
  redis.call('HSET', KEYS[4], 'tokens', tostring(tokens), 'ts', ARGV[3])
  redis.call('PEXPIRE', KEYS[4], bucket_ttl)
  return {'rate_limited', math.ceil((1 - tokens) / per_ms), state}
end
local n = redis.call('LLEN', KEYS[2])
if n >= tonumber(ARGV[7]) then return {'full', n, state} end
redis.call('HSET', KEYS[4], 'tokens', tostring(tokens - 1), 'ts', ARGV[3])
redis.call('PEXPIRE', KEYS[4], bucket_ttl)
local seq = redis.call('RPUSH', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[3], ARGV[2], seq) end
local answered, last = 0, seq
if ARGV[12] ~= '' and ARGV[12] == state then
  answered = 1
  local at = 16
  for _ = 1, tonumber(ARGV[14]) do
    redis.call('HSET', KEYS[1], ARGV[at], ARGV[at + 1])
    at = at + 2
  end
  local counted = tonumber(ARGV[15])
  if counted > 0 then
    count_shown(KEYS[7], ARGV[13], at, at + counted - 1)
    at = at + counted
  end
  for i = at, #ARGV do last = redis.call('RPUSH', KEYS[2], ARGV[i]) end
end
redis.call('HSET', KEYS[1], 'last_activity', ARGV[3])
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[6]) end
-- A return code lives as long as its conversation (its key is named in the meta, never the code).
local rk = redis.call('HGET', KEYS[1], 'return_key')
if rk then redis.call('EXPIRE', rk, ARGV[6]) end
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[8])
redis.call('EXPIRE', KEYS[5], ARGV[6])
redis.call('PUBLISH', ARGV[9], ARGV[8] .. ' ' .. last)
tell_others(KEYS[6], ARGV[10], ARGV[11], ARGV[8] .. ' ' .. last, ARGV[6])
return {'ok', seq, state, answered, last}
"""
)

_APPEND = (
    _TELL_OTHERS
    + """
-- Bot, counsellor or system entries, appended together so they stay contiguous.
-- KEYS: conversation, log, dedupe, active, listeners
-- ARGV: now_ms, retention_s, conv_id, channel, writer, process channel prefix, entry_json...
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
local seq = 0
for i = 7, #ARGV do seq = redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('HSET', KEYS[1], 'last_activity', ARGV[1])
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
local rk = redis.call('HGET', KEYS[1], 'return_key')
if rk and state ~= 'ended' then redis.call('EXPIRE', rk, ARGV[2]) end
if state ~= 'ended' then
  redis.call('ZADD', KEYS[4], ARGV[1], ARGV[3])
  redis.call('EXPIRE', KEYS[4], ARGV[2])
end
redis.call('PUBLISH', ARGV[4], ARGV[3] .. ' ' .. seq)
tell_others(KEYS[5], ARGV[5], ARGV[6], ARGV[3] .. ' ' .. seq, ARGV[2])
return seq
"""
)

_END = """
-- Every way a conversation ends (quick exit, end chat, beacon, closed tab, expiry) is this one step: the
-- state, why, the system entries that say so in the log, out of the queue and the away set, into the
-- console's outbox, and the console woken. An ended or gone conversation is left as it is.
-- KEYS: session (keys.NO_KEY for none: never written, so deleting it changes nothing), conversation, log, dedupe, queue, away, left, active, out_of_hours
-- ARGV: now_ms, retention_s, conv_id, staff_channel, left_channel, reason, away_before_ms,
--       children_channel, idle_before_ms, detach (0/1), entry_json...
-- detach = 1 (quick exit, beacon, closed tab): a conversation left for the counsellors (held = 1) is
-- not ended, only the device is let go (its session key is gone, it is no longer away); it returns
-- {'held', 0}. Every other end of it deletes its return code with it.
-- away_before_ms > 0: end only if the child has been away (no socket) since at least then; idle_before_ms
-- > 0: only if nothing was written since then. The sweep's checks, in the same step as the end, so a
-- child who came back or wrote meanwhile is never ended.
-- Returns {state before ('' when gone, 'ended' when already ended, 'present' when back), last seq}.
redis.call('DEL', KEYS[1])
local state = redis.call('HGET', KEYS[2], 'state')
if not state or state == 'ended' then
  for i = 5, 6 do redis.call('ZREM', KEYS[i], ARGV[3]) end
  redis.call('ZREM', KEYS[8], ARGV[3])
  redis.call('ZREM', KEYS[9], ARGV[3])
  if not state then return {'', 0} end
  return {'ended', 0}
end
if tonumber(ARGV[7]) > 0 then
  local since = redis.call('ZSCORE', KEYS[6], ARGV[3])
  if not since or tonumber(since) > tonumber(ARGV[7]) then return {'present', 0} end
end
if tonumber(ARGV[9]) > 0 then
  local last = tonumber(redis.call('HGET', KEYS[2], 'last_activity') or '0')
  if last > tonumber(ARGV[9]) then return {'present', 0} end
end
if ARGV[10] == '1' and redis.call('HGET', KEYS[2], 'held') == '1' then
  redis.call('ZREM', KEYS[6], ARGV[3])
  return {'held', 0}
end
local rk = redis.call('HGET', KEYS[2], 'return_key')
if rk then redis.call('DEL', rk) end
redis.call('ZREM', KEYS[9], ARGV[3])
redis.call('HSET', KEYS[2], 'state', 'ended', 'ended_at', ARGV[1], 'end_reason', ARGV[6], 'left_from', state)
for i = 5, 6 do redis.call('ZREM', KEYS[i], ARGV[3]) end
redis.call('ZREM', KEYS[8], ARGV[3])
redis.call('ZADD', KEYS[7], ARGV[1], ARGV[3])
redis.call('EXPIRE', KEYS[7], ARGV[2])
local seq = 0
for i = 11, #ARGV do seq = redis.call('RPUSH', KEYS[3], ARGV[i]) end
if seq == 0 then seq = redis.call('LLEN', KEYS[3]) end
for i = 2, 4 do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
-- Both sides: the console's transcript, and a tab of the child's still open (expiry) reads the notice.
redis.call('PUBLISH', ARGV[4], ARGV[3] .. ' ' .. seq)
redis.call('PUBLISH', ARGV[8], ARGV[3] .. ' ' .. seq)
redis.call('PUBLISH', ARGV[5], ARGV[3])
return {state, seq}
"""

_PRESENT = """
-- A socket of the child joined the conversation: they are here (any gateway process counts), and the
-- process (ARGV[2], '' for none) hears the other processes' writes from now on.
-- KEYS: conversation, away, listeners ; ARGV: conv_id, process, retention_s
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then
  redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
return redis.call('HINCRBY', KEYS[1], 'sockets', 1)
"""

_ABSENT = """
-- A socket of the child left. The last one gone: the child is away from now (the sweep decides later).
-- The process's last socket gone: it no longer hears the conversation.
-- KEYS: conversation, away, listeners ; ARGV: conv_id, now_ms, retention_s, process
if ARGV[4] ~= '' and redis.call('HINCRBY', KEYS[3], ARGV[4], -1) <= 0 then
  redis.call('HDEL', KEYS[3], ARGV[4])
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
local n = redis.call('HINCRBY', KEYS[1], 'sockets', -1)
if n > 0 then return n end
redis.call('HSET', KEYS[1], 'sockets', 0)
if redis.call('HGET', KEYS[1], 'state') ~= 'ended' then
  redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
return 0
"""


_HOLD = """
-- The child leaves the conversation for the counsellors, with a new return code (one step, so the old
-- code is dead when the new one works). Out of hours it joins the out-of-hours list; while queued it keeps
-- its place in the queue. KEYS: conversation, return key, out_of_hours, queue, log
-- ARGV: conv_id, now_ms, retention_s, closed (0/1), urgent_shift_ms
-- Returns {state before ('' when gone or ended, or the state that cannot be left), position or 0}.
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'ended' then return {'', 0} end
if state == 'counsellor' then return {state, 0} end
if ARGV[4] ~= '1' and state ~= 'queued' then return {state, 0} end
local old = redis.call('HGET', KEYS[1], 'return_key')
if old then redis.call('DEL', old) end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3])
-- Left again (a new code): it keeps the moment it was first left, and so its place.
redis.call('HSETNX', KEYS[1], 'left_at', ARGV[2])
redis.call('HSET', KEYS[1], 'held', '1', 'return_key', KEYS[2], 'read_seq', redis.call('LLEN', KEYS[5]))
if ARGV[4] ~= '1' then return {state, redis.call('ZRANK', KEYS[4], ARGV[1]) + 1} end
local score = tonumber(redis.call('HGET', KEYS[1], 'left_at'))
if redis.call('HGET', KEYS[1], 'urgent') == '1' then score = score - tonumber(ARGV[5]) end
local before = redis.call('ZSCORE', KEYS[3], ARGV[1])
if before and tonumber(before) < score then score = tonumber(before) end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'left_for_counsellor')
redis.call('ZADD', KEYS[3], score, ARGV[1])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return {state, redis.call('ZRANK', KEYS[3], ARGV[1]) + 1}
"""

_REDEEM = """
-- A return code opens its conversation on this device: a new session key names it (the old device's
-- was deleted by its quick exit). KEYS: return key, new session ; ARGV: retention_s, conversation key
-- pattern, log key pattern (same hash slot).
-- Returns {conv_id, state, log length} or false when the code names nothing that is still held.
local conv = redis.call('GET', KEYS[1])
if not conv then return false end
local meta = string.format(ARGV[2], conv)
local state = redis.call('HGET', meta, 'state')
if not state or state == 'ended' or redis.call('HGET', meta, 'held') ~= '1'
    or redis.call('HGET', meta, 'return_key') ~= KEYS[1] then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('SET', KEYS[2], conv, 'EX', ARGV[1])
redis.call('HSET', meta, 'returned', '1')
return {conv, state, redis.call('LLEN', string.format(ARGV[3], conv))}
"""

_MARK_READ = """
-- The child's device has the whole log (a socket joined, or the last one left after live delivery): a
-- held conversation records up to where, so the counsellor sees whether her message was read.
-- KEYS: conversation, log
if redis.call('HGET', KEYS[1], 'held') ~= '1' then return 0 end
local n = redis.call('LLEN', KEYS[2])
redis.call('HSET', KEYS[1], 'read_seq', n)
return n
"""

_SET_FIELD = """
-- KEYS: conversation ; ARGV: field, value. HSET on a missing key would create it without a TTL.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

_INCREMENT = """
-- KEYS: conversation ; ARGV: field. A counter in an existing conversation's meta; 0 when it is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
"""


class IngestStatus(StrEnum):
    OK = "ok"
    DUPLICATE = "duplicate"
    RATE_LIMITED = "rate_limited"
    ENDED = "ended"
    GONE = "gone"
    FULL = "full"


@dataclass(frozen=True)
class IngestResult:
    status: IngestStatus
    seq: int
    """The entry's number (OK, DUPLICATE), or ms to wait (RATE_LIMITED)."""
    state: ConversationState | None
    answered: bool = False
    """The answer given to `ingest` was stored after the message (its entries from seq + 1)."""


@dataclass(frozen=True)
class StoredAnswer:
    """An answer worked out before its message was stored, to store with it when the conversation is
    still in `state`: its entries, the meta fields it sets, and the answers to count for `shown_day`."""

    state: ConversationState
    entries: Sequence[Entry]
    marks: Sequence[tuple[str, str]] = ()
    shown_day: str = ""
    shown: Sequence[str] = ()
    shown_retention: int = 0


@dataclass(frozen=True)
class SessionRecord:
    conv_id: str
    state: ConversationState
    last_seq: int


class ConversationStore:
    """Reads and writes conversation logs; the only code that knows their Redis layout."""

    def __init__(
        self,
        redis: Redis,
        *,
        announce_to: str,
        process: str = "",
        timing: Timing | None = None,
        ack_replicas: int = 0,
    ) -> None:
        """`announce_to`: the notify channel this side's writes are announced on (see keys); `process`:
        a gateway process's id, whose writes are also announced to the other gateway processes with a
        socket on the conversation, and which hears theirs on keys.notify_process (see keys); `timing`:
        told each round trip of the writes (metrics); `ack_replicas`: writes return once that many
        replicas have them (REDIS_ACK_REPLICAS)."""
        self._redis = redis
        self._channel = announce_to
        self._process = process
        # Every write is one script; calls made while a batch is on the wire share the next round trip.
        scripts = ScriptPipeline(redis, timing, ack_replicas=ack_replicas)
        self.scripts: ScriptPipeline = scripts  # others whose writes go with these (ShownCounts)
        self._create = scripts.register(_CREATE)
        self._touch = scripts.register(_TOUCH_SESSION)
        self._ingest = scripts.register(_INGEST)
        self._append = scripts.register(_APPEND)
        self._end = scripts.register(_END)
        self._present = scripts.register(_PRESENT)
        self._absent = scripts.register(_ABSENT)
        self._set_field = scripts.register(_SET_FIELD)
        self._increment = scripts.register(_INCREMENT)
        self._hold = scripts.register(_HOLD)
        self._redeem = scripts.register(_REDEEM)
        self._mark_read = scripts.register(_MARK_READ)

    async def create(
        self,
        session_hash: str,
        conv_id: str,
        *,
        now_ms: int,
        retention: int,
        locale: str,
        contact_day: str = "",
        stats_retention: int = 0,
    ) -> None:
        """A new conversation; with `contact_day` (YYYY-MM-DD) it also counts as that day's contact."""
        await self._create(
            keys=[
                keys.session(session_hash),
                keys.conversation(conv_id),
                keys.stats_day(contact_day) if contact_day else keys.NO_KEY,
                keys.ACTIVE,
            ],
            args=[conv_id, now_ms, retention, locale, stats_retention, "1" if contact_day else "0"],
        )

    async def resolve(self, session_hash: str, *, retention: int) -> SessionRecord | None:
        found = await self._touch(
            keys=[keys.session(session_hash)], args=[retention, keys.conversation("%s"), keys.log("%s")]
        )
        if not found:
            return None
        conv, state, count = found
        return SessionRecord(_text(conv), ConversationState(_text(state)), int(count))

    async def ingest(
        self,
        conv_id: str,
        entry: Entry,
        *,
        now_ms: int,
        burst: int,
        per_minute: int,
        retention: int,
        max_entries: int,
        answer: StoredAnswer | None = None,
    ) -> IngestResult:
        """Store a child's message once; with `answer`, also the answer, if the state is still its own."""
        planned: list[object] = ["", 0, 0, 0]
        shown_key = keys.NO_KEY
        if answer is not None:
            shown = list(answer.shown) if answer.shown_day else []
            shown_key = keys.content_shown(answer.shown_day) if shown else keys.NO_KEY
            planned = [
                answer.state.value,
                answer.shown_retention,
                len(answer.marks),
                len(shown),
                *(part for mark in answer.marks for part in mark),
                *shown,
                *(e.to_json() for e in answer.entries),
            ]
        status, number, state, *stored = await self._ingest(
            keys=[
                *keys.conversation_keys(conv_id),
                keys.ACTIVE,
                keys.listeners(conv_id),
                shown_key,
            ],
            args=[
                entry.to_json(),
                entry.client_id or "",
                now_ms,
                burst,
                per_minute,
                retention,
                max_entries,
                conv_id,
                self._channel,
                self._process,
                keys.NOTIFY_PROCESS,
                *planned,
            ],
        )
        state_text = _text(state)
        return IngestResult(
            IngestStatus(_text(status)),
            int(number),
            ConversationState(state_text) if state_text else None,
            answered=bool(stored and int(stored[0])),
        )

    async def append(self, conv_id: str, entries: Sequence[Entry], *, now_ms: int, retention: int) -> int:
        """Append entries; returns the last one's seq (0 when the conversation no longer exists)."""
        if not entries:
            raise ValueError("nothing to append")
        conv_key, log_key, dedupe_key, _ = keys.conversation_keys(conv_id)
        last = await self._append(
            keys=[conv_key, log_key, dedupe_key, keys.ACTIVE, keys.listeners(conv_id)],
            args=[
                now_ms,
                retention,
                conv_id,
                self._channel,
                self._process,
                keys.NOTIFY_PROCESS,
                *(e.to_json() for e in entries),
            ],
        )
        return int(last)

    async def read(self, conv_id: str, after: int = 0, upto: int = -1) -> list[Entry]:
        """Entries with after < seq <= upto (upto -1: to the end)."""
        if 0 <= upto <= after:
            return []
        stop = -1 if upto < 0 else upto - 1
        raw = await self._redis.lrange(keys.log(conv_id), after, stop)
        return [Entry.from_json(item, after + i + 1) for i, item in enumerate(raw)]

    async def length(self, conv_id: str) -> int:
        return int(await self._redis.llen(keys.log(conv_id)))

    async def meta(self, conv_id: str) -> dict[str, str]:
        raw = await self._redis.hgetall(keys.conversation(conv_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def read_many(self, conv_ids: Sequence[str]) -> list[list[Entry]]:
        """Many whole logs in one round trip (reads only, so no transaction)."""
        if not conv_ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for conv_id in conv_ids:
                pipe.lrange(keys.log(conv_id), 0, -1)
            raw = await pipe.execute()
        return [[Entry.from_json(item, i + 1) for i, item in enumerate(items)] for items in raw]

    async def announce_typing(self, conv_id: str, role: str, on: bool) -> None:
        """A typing indicator for the other side: published only, never stored (see keys.NOTIFY_TYPING)."""
        await self._redis.publish(keys.NOTIFY_TYPING, notifications.typing(conv_id, role, on))

    async def announce_urgent(self, conv_id: str) -> None:
        """The crisis check hit in this conversation: wake the console (see keys.NOTIFY_URGENT)."""
        await self._redis.publish(keys.NOTIFY_URGENT, conv_id)

    async def set_state(self, conv_id: str, state: ConversationState) -> None:
        await self.set_flag(conv_id, "state", state.value)

    async def set_flag(self, conv_id: str, name: str, value: str) -> bool:
        """Set one field of an existing conversation's meta (never re-creates an expired one)."""
        written = await self._set_field(keys=[keys.conversation(conv_id)], args=[name, value])
        return bool(written)

    async def increment(self, conv_id: str, name: str) -> int:
        """Count one more in a field of an existing conversation's meta (one step, so two tabs cannot race
        past a limit); returns the new count, or 0 when the conversation no longer exists."""
        return int(await self._increment(keys=[keys.conversation(conv_id)], args=[name]))

    async def end(
        self,
        conv_id: str,
        entries: Sequence[Entry],
        *,
        reason: str,
        session_hash: str | None,
        now_ms: int,
        retention: int,
        away_before_ms: int = 0,
        idle_before_ms: int = 0,
        detach: bool = False,
    ) -> EndResult:
        """End the conversation in one step (see _END); only the caller that ended it gets `ended`.

        `detach`: a conversation left for the counsellors is not ended, only the device let go
        (`EndResult.held`)."""
        conv_key, log_key, dedupe_key, _ = keys.conversation_keys(conv_id)
        before, seq = await self._end(
            keys=[
                keys.session(session_hash) if session_hash else keys.NO_KEY,
                conv_key,
                log_key,
                dedupe_key,
                keys.QUEUE,
                keys.AWAY,
                keys.LEFT,
                keys.ACTIVE,
                keys.OUT_OF_HOURS,
            ],
            args=[
                now_ms,
                retention,
                conv_id,
                keys.NOTIFY_STAFF,
                keys.NOTIFY_LEFT,
                reason,
                away_before_ms,
                keys.NOTIFY_CHILDREN,
                idle_before_ms,
                "1" if detach else "0",
                *(e.to_json() for e in entries),
            ],
        )
        state = _text(before)
        if state == "held":
            return EndResult(False, None, 0, held=True)
        if state in ("", "ended", "present"):
            return EndResult(False, None, 0)
        return EndResult(True, ConversationState(state), int(seq))

    async def hold(
        self,
        conv_id: str,
        code_key_hash: str,
        *,
        now_ms: int,
        retention: int,
        closed: bool,
        urgent_shift_ms: int,
    ) -> HoldResult:
        """Leave the conversation for the counsellors under a new return code's hash (see _HOLD)."""
        before, position = await self._hold(
            keys=[
                keys.conversation(conv_id),
                keys.return_code(code_key_hash),
                keys.OUT_OF_HOURS,
                keys.QUEUE,
                keys.log(conv_id),
            ],
            args=[conv_id, now_ms, retention, "1" if closed else "0", urgent_shift_ms],
        )
        state = _text(before)
        if not state:
            return HoldResult(None, False, 0)
        return HoldResult(ConversationState(state), int(position) > 0, int(position))

    async def redeem(self, code_key_hash: str, session_hash: str, *, retention: int) -> SessionRecord | None:
        """The conversation a return code's hash names, now also named by a new session (see _REDEEM)."""
        found = await self._redeem(
            keys=[keys.return_code(code_key_hash), keys.session(session_hash)],
            args=[retention, keys.conversation("%s"), keys.log("%s")],
        )
        if not found:
            return None
        conv, state, count = found
        return SessionRecord(_text(conv), ConversationState(_text(state)), int(count))

    async def mark_read(self, conv_id: str) -> None:
        """A held conversation: the child's device has every entry up to now (see _MARK_READ)."""
        await self._mark_read(keys=[keys.conversation(conv_id), keys.log(conv_id)])

    async def present(self, conv_id: str, *, retention: int) -> None:
        """One more socket of the child on this conversation (it is not away), on this process."""
        await self._present(
            keys=[keys.conversation(conv_id), keys.AWAY, keys.listeners(conv_id)],
            args=[conv_id, self._process, retention],
        )

    async def absent(self, conv_id: str, *, now_ms: int, retention: int) -> None:
        """One socket fewer (on this process); with none left the child is away from `now_ms`."""
        await self._absent(
            keys=[keys.conversation(conv_id), keys.AWAY, keys.listeners(conv_id)],
            args=[conv_id, now_ms, retention, self._process],
        )

    async def due_to_end(self, *, away_before_ms: int, idle_before_ms: int) -> tuple[list[str], list[str]]:
        """Conversations whose child has had no socket since `away_before_ms`, and those with nothing
        written since `idle_before_ms`: both looks in one round trip (the console asks every tick)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrangebyscore(keys.AWAY, "-inf", away_before_ms)
            pipe.zrangebyscore(keys.ACTIVE, "-inf", idle_before_ms)
            away, idle = await pipe.execute()
        return [_text(c) for c in away], [_text(c) for c in idle]


@dataclass(frozen=True)
class EndResult:
    ended: bool
    """This call ended it (False: already ended, gone, or the child came back)."""
    left_from: ConversationState | None
    last_seq: int
    held: bool = False
    """Not ended: the conversation is left for the counsellors and only the device was let go."""


@dataclass(frozen=True)
class HoldResult:
    before: ConversationState | None
    """The state it was left from (None: gone or ended)."""
    held: bool
    position: int
    """Its place in the out-of-hours list or in the queue (1-based)."""


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)
