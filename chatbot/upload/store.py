"""Redis layout of grants, unfinished uploads and cases; races (a reused grant, two writers) are Lua."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from chatbot.store import keys

# Consuming a grant and creating the upload is one step, so a grant can never start two uploads. The
# same step checks that the grant's conversation is still open (a grant dies with quick exit, the end of
# the chat and expiry: nothing to invalidate one by one) and reserves the upload's bytes against the
# global quota for unfinished uploads, so strangers cannot fill the disk.
_START = """
-- KEYS: grant, upload, quota, conversation meta
-- ARGV: now_ms, files, largest, total, resume_s, conv, quota_bytes, quota_ttl, upload_hash, field, value, ...
local g = redis.call('HMGET', KEYS[1], 'expires', 'used', 'max_files', 'max_file', 'max_total', 'conv', 'topic')
if not g[1] then return {'grant_invalid'} end
if g[2] == '1' then return {'grant_used'} end
if tonumber(ARGV[1]) >= tonumber(g[1]) then return {'grant_expired'} end
local state = redis.call('HGET', KEYS[4], 'state')
if g[6] ~= ARGV[6] or not state or state == 'ended' then return {'conversation_ended'} end
if tonumber(ARGV[2]) > tonumber(g[3]) then return {'too_many_files', g[3]} end
if tonumber(ARGV[3]) > tonumber(g[4]) then return {'file_too_big', g[4]} end
if tonumber(ARGV[4]) > tonumber(g[5]) then return {'upload_too_big', g[5]} end
local reserved = tonumber(redis.call('HGET', KEYS[3], 'total') or '0')
if reserved + tonumber(ARGV[4]) > tonumber(ARGV[7]) then return {'uploads_busy'} end
redis.call('HSET', KEYS[1], 'used', '1')
for i = 10, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[2], 'conv', g[6], 'topic', g[7], 'last', ARGV[1], 'reserved', ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('HINCRBY', KEYS[3], 'total', ARGV[4])
redis.call('HSET', KEYS[3], 'u:' .. ARGV[9], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[8])
return {'ok'}
"""

# Advancing a file's received offset only from where it was: a stale writer cannot move it backwards.
# `last` is the upload's last sign of life: an upload without a chunk for a while is abandoned.
_ADVANCE = """
-- KEYS: upload, lock ; ARGV: index, from, to, owner, now_ms
if redis.call('GET', KEYS[2]) ~= ARGV[4] then return -1 end
local field = 'f:' .. ARGV[1] .. ':recv'
if redis.call('HGET', KEYS[1], field) ~= ARGV[2] then return -2 end
redis.call('HSET', KEYS[1], field, ARGV[3], 'last', ARGV[5])
redis.call('DEL', KEYS[2])
return 1
"""

# Giving an upload's reservation back exactly once, whoever (cancel, finish, the sweep) gets there first.
_UNRESERVE = """
-- KEYS: quota ; ARGV: upload_hash
local field = 'u:' .. ARGV[1]
local bytes = redis.call('HGET', KEYS[1], field)
if not bytes then return 0 end
redis.call('HDEL', KEYS[1], field)
local left = redis.call('HINCRBY', KEYS[1], 'total', -tonumber(bytes))
if left <= 0 and redis.call('HLEN', KEYS[1]) <= 1 then redis.call('DEL', KEYS[1]) end
return tonumber(bytes)
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class FileRecord:
    size: int
    received: int
    sha256: str
    md5: str
    pdq: str = ""  # perceptual hash of an image, when the browser could compute one
    pdq_quality: int = -1


@dataclass(frozen=True)
class UploadRecord:
    created_ms: int
    age_band: str
    conv_id: str
    topic: str
    files: tuple[FileRecord, ...]
    done_code: str
    last_ms: int = 0  # the last chunk (or the start): an upload silent for long is abandoned


class UploadStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._start = redis.register_script(_START)
        self._advance = redis.register_script(_ADVANCE)
        self._release = redis.register_script(_RELEASE)
        self._unreserve = redis.register_script(_UNRESERVE)

    # --- grants -------------------------------------------------------------------------------------

    async def put_grant(
        self,
        token_hash: str,
        *,
        conv_id: str,
        topic: str,
        expires_ms: int,
        max_files: int,
        max_file: int,
        max_total: int,
        ttl: int,
    ) -> None:
        key = keys.upload_grant(token_hash)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "conv": conv_id,
                    "topic": topic,
                    "expires": expires_ms,
                    "used": "0",
                    "max_files": max_files,
                    "max_file": max_file,
                    "max_total": max_total,
                },
            )
            pipe.expire(key, ttl)
            await pipe.execute()

    async def grant_conversation(self, token_hash: str) -> str | None:
        value = await self.redis.hget(keys.upload_grant(token_hash), "conv")
        return _text(value) if value is not None else None

    async def start(
        self,
        token_hash: str,
        upload_hash: str,
        *,
        now_ms: int,
        files: list[FileRecord],
        age_band: str,
        resume_s: int,
        conv_id: str,
        quota_bytes: int,
    ) -> list[str]:
        fields: list[str | int] = ["created", now_ms, "age_band", age_band, "files", len(files)]
        for i, f in enumerate(files):
            fields += [
                f"f:{i}:size",
                f.size,
                f"f:{i}:recv",
                0,
                f"f:{i}:sha256",
                f.sha256,
                f"f:{i}:md5",
                f.md5,
                f"f:{i}:pdq",
                f.pdq,
                f"f:{i}:pdqq",
                f.pdq_quality,
            ]
        result = await self._start(
            keys=[
                keys.upload_grant(token_hash),
                keys.upload(upload_hash),
                keys.UPLOAD_QUOTA,
                keys.conversation(conv_id),
            ],
            args=[
                now_ms,
                len(files),
                max(f.size for f in files),
                sum(f.size for f in files),
                resume_s,
                conv_id,
                quota_bytes,
                # Outlives every upload it counts: none lasts longer than the resume window.
                resume_s + 3600,
                upload_hash,
                *fields,
            ],
        )
        return [_text(x) for x in result]

    # --- unfinished uploads --------------------------------------------------------------------------

    async def upload(self, upload_hash: str) -> UploadRecord | None:
        raw = await self.redis.hgetall(keys.upload(upload_hash))
        if not raw:
            return None
        h = {_text(k): _text(v) for k, v in raw.items()}
        files = tuple(
            FileRecord(
                int(h[f"f:{i}:size"]),
                int(h[f"f:{i}:recv"]),
                h[f"f:{i}:sha256"],
                h[f"f:{i}:md5"],
                h.get(f"f:{i}:pdq", ""),
                int(h.get(f"f:{i}:pdqq", -1)),
            )
            for i in range(int(h["files"]))
        )
        return UploadRecord(
            int(h["created"]),
            h["age_band"],
            h.get("conv", ""),
            h.get("topic", ""),
            files,
            h.get("done", ""),
            int(h.get("last", h["created"])),
        )

    async def lock(self, upload_hash: str, index: int, owner: str, ttl_ms: int) -> bool:
        return bool(await self.redis.set(keys.upload_lock(upload_hash, index), owner, nx=True, px=ttl_ms))

    async def unlock(self, upload_hash: str, index: int, owner: str) -> None:
        await self._release(keys=[keys.upload_lock(upload_hash, index)], args=[owner])

    async def advance(
        self, upload_hash: str, index: int, start: int, end: int, owner: str, now_ms: int
    ) -> bool:
        result = await self._advance(
            keys=[keys.upload(upload_hash), keys.upload_lock(upload_hash, index)],
            args=[index, start, end, owner, now_ms],
        )
        return int(result) == 1

    async def drop_upload(self, upload_hash: str) -> None:
        """Forget an unfinished upload and give its reserved bytes back (its files are already gone)."""
        await self.redis.delete(keys.upload(upload_hash))
        await self.unreserve(upload_hash)

    async def unreserve(self, upload_hash: str) -> int:
        return int(await self._unreserve(keys=[keys.UPLOAD_QUOTA], args=[upload_hash]))

    async def reserved(self) -> tuple[int, list[str]]:
        """Bytes reserved by unfinished uploads, and the uploads holding them."""
        raw = await self.redis.hgetall(keys.UPLOAD_QUOTA)
        fields = {_text(k): _text(v) for k, v in raw.items()}
        return int(fields.get("total", 0)), [k[2:] for k in fields if k.startswith("u:")]

    # --- cases ----------------------------------------------------------------------------------------

    async def create_case(
        self,
        case_id: str,
        code_hash: str,
        upload_hash: str,
        done_code: str,
        record: dict[str, Any],
        *,
        created_ms: int,
        ttl: int,
        remember_code_s: int,
    ) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.case(case_id), mapping={k: _encode(v) for k, v in record.items()})
            pipe.expire(keys.case(case_id), ttl)
            pipe.set(keys.case_code(code_hash), case_id, ex=ttl)
            pipe.zadd(keys.CASES, {case_id: created_ms})
            # Kept briefly so a finish retried after a lost response gets its code again; the code
            # leads to the case, so the record loses its conversation id here (no case → chat link).
            pipe.hset(keys.upload(upload_hash), "done", done_code)
            pipe.hdel(keys.upload(upload_hash), "conv")
            pipe.expire(keys.upload(upload_hash), remember_code_s)
            await pipe.execute()
        await self.unreserve(upload_hash)

    async def case_id_for(self, code_hash: str) -> str | None:
        value = await self.redis.get(keys.case_code(code_hash))
        return _text(value) if value else None

    async def case(self, case_id: str) -> dict[str, Any] | None:
        raw = await self.redis.hgetall(keys.case(case_id))
        if not raw:
            return None
        record: dict[str, Any] = {_text(k): _text(v) for k, v in raw.items()}
        record["files"] = json.loads(record.get("files", "[]"))
        return record

    async def forget_conversation(self, case_id: str) -> None:
        """Drop the `conv` field records made before cases stopped naming their conversation."""
        await self.redis.hdel(keys.case(case_id), "conv")

    async def update_case(self, case_id: str, changes: dict[str, Any]) -> None:
        await self.redis.hset(keys.case(case_id), mapping={k: _encode(v) for k, v in changes.items()})

    async def add_action(self, case_id: str, action: dict[str, Any], ttl: int) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(keys.case_actions(case_id), json.dumps(action))
            pipe.expire(keys.case_actions(case_id), ttl)
            await pipe.execute()

    async def actions(self, case_id: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in await self.redis.lrange(keys.case_actions(case_id), 0, -1)]

    async def case_ids(self) -> list[str]:
        return [_text(x) for x in await self.redis.zrevrange(keys.CASES, 0, -1)]

    async def delete_case(self, case_id: str, code_hash: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.case(case_id), keys.case_actions(case_id), keys.case_code(code_hash))
            pipe.zrem(keys.CASES, case_id)
            await pipe.execute()


def _encode(value: Any) -> str | int:
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, int):
        return value
    return str(value)
