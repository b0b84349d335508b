"""The child's side of the upload: one-time grants, a resumable ciphertext upload, and its case code.

Domain only: no aiohttp. Every check a stranger's input needs happens here, before the store; a
failure at any step leaves nothing half-stored (partial files are discarded, records never half-made).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from datetime import timedelta
from typing import Any, BinaryIO

from chatbot.upload import codes, crypto, errors
from chatbot.upload.context import UploadContext, UploadPart
from chatbot.upload.partials import discard, discard_abandoned, is_abandoned, partial_id
from chatbot.upload.records import from_ms, to_ms, token_hash
from chatbot.upload.store import FileRecord
from chatbot.upload.values import AGE_BANDS, CaseStatus, FileProgress, Grant, UploadProgress

log = logging.getLogger(__name__)

MAX_CHUNK_BYTES = 1024 * 1024  # one request's body; the browser sends 16 frames of 64 KiB
LOCK_MS = 60_000
REMEMBER_CODE_S = 600
GRANT_TOMBSTONE_S = 3600  # a spent or expired grant is remembered this long, to say which it was
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")


def _check_files(files: object, max_files: int) -> list[FileRecord]:
    if not isinstance(files, list) or not files:
        raise errors.BadRequest("files must be a non-empty list")
    if len(files) > max_files:
        # Checked again against the grant's own limit; this bound keeps a hostile list from costing work.
        raise errors.TooManyFiles(f"at most {max_files} files", limit=max_files)
    out = []
    for item in files:
        if not isinstance(item, dict):
            raise errors.BadRequest("each file is an object with size, sha256 and md5")
        size, sha, md5 = item.get("size"), item.get("sha256"), item.get("md5")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise errors.BadRequest("size must be a positive whole number of bytes")
        if not isinstance(sha, str) or not _SHA256.match(sha):
            raise errors.BadRequest("sha256 must be 64 lowercase hex digits")
        if not isinstance(md5, str) or not _MD5.match(md5):
            raise errors.BadRequest("md5 must be 32 lowercase hex digits")
        pdq, quality = item.get("pdq", ""), item.get("pdq_quality", -1)
        if pdq == "" and quality == -1:
            out.append(FileRecord(size, 0, sha, md5))
            continue
        if not isinstance(pdq, str) or not _SHA256.match(pdq):
            raise errors.BadRequest("pdq must be 64 lowercase hex digits")
        if not isinstance(quality, int) or isinstance(quality, bool) or not 0 <= quality <= 100:
            raise errors.BadRequest("pdq_quality must be a whole number from 0 to 100")
        out.append(FileRecord(size, 0, sha, md5, pdq, quality))
    return out


def check_ciphertext(stream: BinaryIO, size: int, key_ids: set[bytes]) -> None:
    """Without any key: is this SCUP v1, wrapped to one of our keys, with a possible length?"""
    try:
        header = crypto.read_header(stream)
    except crypto.UploadCryptoError as exc:
        raise errors.BadCiphertext(f"not an encrypted upload: {exc}") from None
    if not header.key_ids() & key_ids:
        raise errors.BadCiphertext("the file is not encrypted to the organisation's keys")
    body = size - header.length
    frame = header.chunk_size + crypto.TAG
    chunks = max(1, -(-body // frame))
    plain = body - chunks * crypto.TAG
    if plain < 0 or max(1, -(-plain // header.chunk_size)) != chunks:
        raise errors.BadCiphertext("the file's length is impossible: it was cut short")


class UploadService(UploadPart):
    """The child's side: grant → start → chunks (resumable) → finish → case code."""

    def __init__(self, context: UploadContext) -> None:
        super().__init__(context)
        self._key_ids = {key.key_id for key in crypto.parse_public_keys(context.settings.upload_public_keys)}

    @property
    def enabled(self) -> bool:
        return bool(self._key_ids)

    async def issue_grant(self, conv_id: str, *, topic: str = "") -> Grant:
        """A one-time grant for this conversation, offered in the chat by the bot or a counsellor."""
        if not self.enabled:
            raise errors.UploadsDisabled("uploads are not configured (UPLOAD_PUBLIC_KEYS is empty)")
        s = self._settings
        if await self._room() <= 0:
            raise errors.UploadsFull("unfinished uploads fill the quota; try again later")
        token = secrets.token_urlsafe(32)
        expires = self._clock.now() + timedelta(seconds=s.upload_grant_ttl)
        await self._store.put_grant(
            token_hash(token),
            conv_id=conv_id,
            topic=topic,
            expires_ms=to_ms(expires),
            max_files=s.upload_max_files,
            max_file=s.upload_max_file_bytes,
            max_total=s.upload_max_total_bytes,
            ttl=s.upload_grant_ttl + GRANT_TOMBSTONE_S,
        )
        log.info("upload grant issued conv=%s", conv_id)
        return Grant(token, expires, s.upload_max_files, s.upload_max_file_bytes, s.upload_max_total_bytes)

    async def start(
        self, grant: object, *, age_band: object, consent: object, files: object
    ) -> UploadProgress:
        """Spend the grant on one upload of these files (sizes of their ciphertext, and their hashes)."""
        if not self.enabled:
            raise errors.UploadsDisabled("uploads are not configured")
        if not isinstance(grant, str) or not _TOKEN.match(grant):
            raise errors.GrantInvalid("this upload link is not valid")
        if consent is not True:
            raise errors.NotConsented("the child has not confirmed they want us to act")
        if age_band not in AGE_BANDS:
            raise errors.BadRequest(f"age_band must be one of {', '.join(AGE_BANDS)}")
        assert isinstance(age_band, str)
        records = _check_files(files, self._settings.upload_max_files)
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        conv_id = await self._store.grant_conversation(token_hash(grant)) or ""
        for attempt in range(2):
            result = await self._store.start(
                token_hash(grant),
                token_hash(token),
                now_ms=to_ms(now),
                files=records,
                age_band=age_band,
                resume_s=self._settings.upload_resume_window,
                conv_id=conv_id,
                quota_bytes=self._settings.upload_pending_quota,
            )
            if result[0] != "uploads_busy" or attempt:
                break
            # Full: abandoned uploads may be holding the room the sweep has not yet given back.
            await discard_abandoned(self._store, self._storage, now, self._settings)
        outcome = result[0]
        if outcome != "ok":
            raise _START_ERRORS[outcome](
                _START_DETAIL[outcome], **({"limit": int(result[1])} if len(result) > 1 else {})
            )
        return UploadProgress(
            token,
            tuple(FileProgress(i, r.size, 0) for i, r in enumerate(records)),
            now + timedelta(seconds=self._settings.upload_resume_window),
        )

    async def _upload(self, token: object) -> tuple[str, Any]:
        if not isinstance(token, str) or not _TOKEN.match(token):
            raise errors.UploadNotFound("no such upload")
        h = token_hash(token)
        record = await self._store.upload(h)
        if record is None:
            raise errors.UploadNotFound("no such upload (it may have expired)")
        if is_abandoned(record, self._clock.now(), self._settings):
            await discard(self._store, self._storage, h, len(record.files))
            raise errors.UploadNotFound("this upload was abandoned (no data for too long) and deleted")
        return h, record

    async def _room(self) -> int:
        """Bytes unfinished uploads may still reserve, after giving back what abandoned ones hold."""
        reserved, _ = await self._store.reserved()
        if reserved >= self._settings.upload_pending_quota:
            await discard_abandoned(self._store, self._storage, self._clock.now(), self._settings)
            reserved, _ = await self._store.reserved()
        return self._settings.upload_pending_quota - reserved

    async def progress(self, token: object) -> UploadProgress:
        """Where each file stands: a client that lost its connection asks this and continues."""
        _, record = await self._upload(token)
        assert isinstance(token, str)
        return UploadProgress(
            token,
            tuple(FileProgress(i, f.size, f.received) for i, f in enumerate(record.files)),
            from_ms(record.created_ms) + timedelta(seconds=self._settings.upload_resume_window),
        )

    async def write(self, token: object, index: object, offset: object, data: bytes) -> int:
        """Append `data` to file `index` at `offset`, which must be exactly what was received so far."""
        h, record = await self._upload(token)
        if record.done_code:
            raise errors.BadChunk("this upload is already finished")
        if not isinstance(index, int) or not 0 <= index < len(record.files):
            raise errors.BadChunk("no such file in this upload")
        if not isinstance(offset, int) or offset < 0:
            raise errors.BadChunk("offset must be a whole number ≥ 0")
        if not data or len(data) > MAX_CHUNK_BYTES:
            raise errors.BadChunk(f"a chunk has 1 to {MAX_CHUNK_BYTES} bytes")
        declared = record.files[index]
        if offset + len(data) > declared.size:
            raise errors.FileTooBig("more bytes than the file's declared size", limit=declared.size)
        owner = secrets.token_hex(8)
        if not await self._store.lock(h, index, owner, LOCK_MS):
            raise errors.UploadBusy("this file is being written by another request; ask for the offset")
        try:
            current = await self._store.upload(h)
            received = current.files[index].received if current else -1
            if offset != received:
                raise errors.OffsetMismatch("continue from the server's offset", offset=received)
            partial = partial_id(h, index)
            await asyncio.to_thread(self._storage.write_at, partial, offset, data)
            now_ms = to_ms(self._clock.now())
            if not await self._store.advance(h, index, offset, offset + len(data), owner, now_ms):
                raise errors.UploadBusy("the write took too long; ask for the offset and continue")
        finally:
            await self._store.unlock(h, index, owner)
        return offset + len(data)

    async def cancel(self, token: object) -> None:
        h, record = await self._upload(token)
        if record.done_code:
            return
        await discard(self._store, self._storage, h, len(record.files))

    async def finish(self, token: object) -> str:
        """All files complete → check each is ciphertext for our keys → a case, and its code."""
        h, record = await self._upload(token)
        if record.done_code:
            return str(record.done_code)
        missing = [i for i, f in enumerate(record.files) if f.received != f.size]
        if missing:
            raise errors.UploadIncomplete("some files are not complete", files=missing)
        for index, f in enumerate(record.files):
            try:
                await asyncio.to_thread(self._check_partial, partial_id(h, index), f.size)
            except errors.BadCiphertext:
                await discard(self._store, self._storage, h, len(record.files))
                raise
        case_id = secrets.token_hex(12)
        code = codes.new_case_code()
        now = self._clock.now()
        files = []
        for index, f in enumerate(record.files):
            file_id = f"file-{index:03d}"
            await asyncio.to_thread(self._storage.commit, partial_id(h, index), case_id, file_id)
            files.append(
                {
                    "id": file_id,
                    "size": f.size,
                    "sha256": f.sha256,
                    "md5": f.md5,
                    "pdq": f.pdq,
                    "pdq_quality": f.pdq_quality,
                }
            )
        # Files first, then the record: a crash between leaves an orphan directory the sweep deletes,
        # never a case pointing at files that are not there.
        await self._store.create_case(
            case_id,
            codes.code_hash(code),
            h,
            code,
            {
                "status": CaseStatus.RECEIVED.value,
                "age_band": record.age_band,
                "topic": record.topic,
                "created": to_ms(now),
                "updated": to_ms(now),
                "files": files,
                "code_hash": codes.code_hash(code),
            },
            created_ms=to_ms(now),
            ttl=self._settings.upload_hash_retention,
            remember_code_s=REMEMBER_CODE_S,
        )
        await self._audit.append("child", "case.received", case_id=case_id)
        # Never the conversation id beside the case id: logs must not lead from a case to a chat.
        log.info("upload case created case=%s files=%d", case_id, len(files))
        return code

    def _check_partial(self, partial: str, size: int) -> None:
        if self._storage.partial_size(partial) != size:
            raise errors.BadCiphertext("the stored file does not have its declared size")
        with self._storage.read_partial(partial) as stream:
            check_ciphertext(stream, size, self._key_ids)


_START_ERRORS: dict[str, type[errors.UploadError]] = {
    "grant_invalid": errors.GrantInvalid,
    "conversation_ended": errors.ConversationEnded,
    "uploads_busy": errors.UploadsFull,
    "grant_used": errors.GrantUsed,
    "grant_expired": errors.GrantExpired,
    "too_many_files": errors.TooManyFiles,
    "file_too_big": errors.FileTooBig,
    "upload_too_big": errors.UploadTooBig,
}
_START_DETAIL = {
    "grant_invalid": "this upload link is not valid",
    "conversation_ended": "the chat this upload link belongs to has ended",
    "uploads_busy": "too many unfinished uploads right now; try again later",
    "grant_used": "this upload link was already used",
    "grant_expired": "this upload link has expired",
    "too_many_files": "too many files for one upload",
    "file_too_big": "a file is larger than allowed",
    "upload_too_big": "the files together are larger than allowed",
}
