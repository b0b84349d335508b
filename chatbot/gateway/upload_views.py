"""Thin HTTP views of the child's encrypted upload: start, resume, send chunks, finish, case status.

They parse and map errors; every rule lives in chatbot/upload/service.py. The upload token travels in
the Authorization header, never in a URL, so no access log or referrer can carry it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from chatbot.gateway.appkeys import AUDIT, CASES, CLIENTS, FLOODS, SETTINGS, SWEEPER, UPLOADS
from chatbot.gateway.assembly import Uploads
from chatbot.gateway.views import STATIC
from chatbot.store.floods import Admission
from chatbot.upload import errors
from chatbot.upload.service import MAX_CHUNK_BYTES

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 3600
ABANDONED_EVERY_S = 300  # abandoned uploads go within UPLOAD_ABANDON_AFTER + 5 minutes
MAX_JSON_BYTES = 16 * 1024

STATUS: dict[str, int] = {
    "uploads_disabled": 503,
    "bad_request": 400,
    "consent_required": 400,
    "grant_invalid": 403,
    "grant_expired": 410,
    "grant_used": 409,
    "conversation_ended": 410,
    "uploads_full": 507,
    "too_many_files": 413,
    "file_too_big": 413,
    "upload_too_big": 413,
    "upload_not_found": 404,
    "bad_chunk": 400,
    "offset_mismatch": 409,
    "upload_busy": 409,
    "upload_incomplete": 409,
    "bad_ciphertext": 422,
    "malformed_case_code": 400,
    "mistyped_case_code": 400,
    "unknown_case": 404,
}


def install(app: web.Application, parts: Uploads) -> None:
    """Put the upload services on the gateway app and run the retention sweep while it runs."""
    app[AUDIT] = parts.audit
    app[UPLOADS] = parts.uploads
    app[CASES] = parts.cases
    app[SWEEPER] = parts.sweeper
    if app[UPLOADS].enabled:
        app.cleanup_ctx.append(_sweeping)


async def _sweeping(app: web.Application) -> AsyncIterator[None]:
    async def loop() -> None:
        rounds = SWEEP_EVERY_S // ABANDONED_EVERY_S
        tick = 0
        while True:
            try:
                if tick % rounds == 0:
                    report = await app[SWEEPER].sweep()
                    log.info("upload retention sweep %s", report)
                else:
                    await app[SWEEPER].sweep_abandoned()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("upload retention sweep failed; retrying next round", exc_info=True)
            tick += 1
            await asyncio.sleep(ABANDONED_EVERY_S)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _error(exc: errors.UploadError) -> web.Response:
    body: dict[str, Any] = {"error": exc.code, "detail": exc.detail, **exc.info}
    return web.json_response(body, status=STATUS.get(exc.code, 400))


async def _json(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise errors.BadRequest("request too large")
    try:
        body = await request.json()
    except ValueError:
        raise errors.BadRequest("the body must be JSON") from None
    except web.HTTPRequestEntityTooLarge:
        raise errors.BadRequest("request too large") from None
    if not isinstance(body, dict):
        raise errors.BadRequest("the body must be a JSON object")
    return body


def _token(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise errors.UploadNotFound("send the upload token as 'Authorization: Bearer <token>'")
    return token.strip()


def _progress(progress: Any) -> dict[str, Any]:
    return {
        "files": [{"index": f.index, "size": f.size, "received": f.received} for f in progress.files],
        "resume_until": progress.resume_until.isoformat(),
        "max_chunk_bytes": MAX_CHUNK_BYTES,
    }


ASSETS = {
    "/upload/crypto.js": STATIC / "upload" / "crypto.js",
    "/upload/upload.js": STATIC / "upload" / "upload.js",
    "/upload/pdq.js": STATIC / "upload" / "pdq.js",
    "/upload/viewer.js": STATIC / "upload" / "viewer.js",
}


async def asset(request: web.Request) -> web.Response:
    """The browser's half of the format, same-origin for the widget's CSP (`script-src 'self'`)."""
    path = ASSETS[request.path]
    return web.Response(body=path.read_bytes(), content_type="text/javascript", charset="utf-8")


async def config(request: web.Request) -> web.Response:
    """The public keys the browser encrypts to, and the limits it should check before starting."""

    settings = request.app[SETTINGS]
    if not settings.upload_public_keys:
        return _error(errors.UploadsDisabled("uploads are not configured"))
    return web.json_response(
        {
            "keys": list(settings.upload_public_keys),
            "max_files": settings.upload_max_files,
            "max_file_bytes": settings.upload_max_file_bytes,
            "max_total_bytes": settings.upload_max_total_bytes,
        }
    )


async def start(request: web.Request) -> web.Response:
    try:
        body = await _json(request)
        progress = await request.app[UPLOADS].start(
            body.get("grant"),
            age_band=body.get("age_band"),
            consent=body.get("consent"),
            files=body.get("files"),
        )
    except errors.UploadError as exc:
        return _error(exc)
    return web.json_response({"upload": progress.token, **_progress(progress)}, status=201)


async def progress(request: web.Request) -> web.Response:
    try:
        found = await request.app[UPLOADS].progress(_token(request))
    except errors.UploadError as exc:
        return _error(exc)
    return web.json_response(_progress(found))


async def chunk(request: web.Request) -> web.Response:
    try:
        token = _token(request)
        try:
            index = int(request.match_info["index"])
            offset = int(request.query.get("offset", ""))
        except ValueError:
            raise errors.BadChunk("index and ?offset= must be whole numbers") from None
        if request.content_length is not None and request.content_length > MAX_CHUNK_BYTES:
            raise errors.BadChunk(f"a chunk has at most {MAX_CHUNK_BYTES} bytes")
        # Read the stream ourselves: the app's small client_max_size is for JSON, not ciphertext.
        data = await request.content.read(MAX_CHUNK_BYTES + 1)
        while len(data) <= MAX_CHUNK_BYTES:
            more = await request.content.read(MAX_CHUNK_BYTES + 1 - len(data))
            if not more:
                break
            data += more
        if len(data) > MAX_CHUNK_BYTES:
            raise errors.BadChunk(f"a chunk has at most {MAX_CHUNK_BYTES} bytes")
        received = await request.app[UPLOADS].write(token, index, offset, data)
    except errors.UploadError as exc:
        return _error(exc)
    return web.json_response({"index": index, "received": received})


async def finish(request: web.Request) -> web.Response:
    try:
        code = await request.app[UPLOADS].finish(_token(request))
    except errors.UploadError as exc:
        return _error(exc)
    return web.json_response({"case_code": code})


async def cancel(request: web.Request) -> web.Response:
    try:
        await request.app[UPLOADS].cancel(_token(request))
    except errors.UploadError as exc:
        return _error(exc)
    return web.Response(status=204)


async def case_status(request: web.Request) -> web.Response:
    client = request.app[CLIENTS].identify_peer(request.remote, request.headers.getall("X-Forwarded-For", []))
    admitted = await request.app[FLOODS].admit_code_lookup(client)
    if admitted.status is not Admission.OK:
        # 95-bit codes make guessing hopeless; a limit anyway, so nobody can try at machine speed.
        return web.json_response(
            {
                "error": "rate_limited",
                "detail": "too many lookups; wait",
                "retry_after_ms": admitted.retry_after_ms,
            },
            status=429,
        )
    try:
        body = await _json(request)
        view = await request.app[CASES].child_status(body.get("code"))
    except errors.UploadError as exc:
        return _error(exc)
    return web.json_response({"status": view.status.value, "updated": view.updated.date().isoformat()})
