"""Fuzzing the upload endpoints strangers reach: random bodies, tokens, offsets and codes get typed 4xx
errors, never a 500, and a real upload works afterwards."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.gateway.upload_views import UPLOADS
from chatbot.upload import crypto
from chatbot.upload.errors import UploadError
from tests.chatbot.gateway.test_fuzz import random_value
from tests.chatbot.upload.helpers import KEYS, all_bytes_under, file_entry, open_conversation
from tests.chatbot.upload.test_http import bearer, call, gw, http  # noqa: F401 (fixtures)

MARKER = b"FUZZ-CLEAR-BYTES-"


def _codes() -> set[str]:
    found: set[str] = set()
    todo: list[type[UploadError]] = [UploadError]
    while todo:
        cls = todo.pop()
        found.add(cls.code)
        todo.extend(cls.__subclasses__())
    return found


def random_body(rng: random.Random, grant: str) -> dict[str, Any]:
    """Keyword arguments for aiohttp: JSON that is almost right, JSON that is wrong, or not JSON at all."""
    kind = rng.randrange(5)
    if kind == 0:
        return {"data": rng.randbytes(rng.randrange(0, 3000))}
    if kind == 1:
        return {"data": rng.choice([b"{", b"[]", b"null", b'{"grant": 1}', b"\xff\xfe", b"1e999999"])}
    almost: dict[str, Any] = {
        "grant": rng.choice([grant, "A" * 43, "", None, 7, grant + "x"]),
        "age_band": rng.choice(["under_13", "13_15", "16_17", "12", None, 13, ""]),
        "consent": rng.choice([True, False, "yes", 1, None]),
        "files": rng.choice(
            [
                [],
                [random_value(rng)],
                [{"size": rng.choice([-1, 0, 1, 2**63, 10**12, "5"]), "sha256": "x", "md5": None}],
                random_value(rng),
            ]
        ),
    }
    if kind == 2:
        almost.pop(rng.choice(list(almost)))
    if kind == 3:
        return {"json": random_value(rng)}
    return {"json": almost}


async def test_random_requests_get_typed_errors_and_leave_everything_healthy(
    gw: Any,  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
    tmp_path: Path,
    redis: Redis,
    clock: FixedClock,
) -> None:
    await open_conversation(redis, "conv-fuzz")
    await open_conversation(redis, "conv-after-fuzz")
    rng = random.Random(20261122)
    # The gateway's own limit on case-code lookups (docs/security.md) is typed too.
    known = _codes() | {"rate_limited"}
    seen: set[str] = set()
    base = gw.url + "/upload/v1"
    for _ in range(300):
        grant = (await gw.app[UPLOADS].issue_grant("conv-fuzz")).token if rng.random() < 0.3 else "A" * 43
        token = rng.choice([grant, "", "x" * 500, "Bearer", "\u202e", "A" * 43])
        headers = rng.choice([bearer(token), {}, {"Authorization": token}, {"Content-Type": "text/plain"}])
        method, path = rng.choice(
            [
                ("POST", "/start"),
                ("GET", "/files"),
                ("PUT", f"/files/{rng.choice(['0', '-1', '99', 'x', '1e9', '٣'])}"),
                ("POST", "/finish"),
                ("DELETE", ""),
                ("POST", "/case-status"),
            ]
        )
        params = rng.choice([{}, {"offset": rng.choice(["0", "-5", "abc", str(2**70), "1.5"])}])
        status, body = await call(
            http, method, base + path, headers=headers, params=params, **random_body(rng, grant)
        )
        assert status < 500, (method, path, status, body)
        if status >= 400:
            assert isinstance(body, dict) and body.get("error") in known, (method, path, status, body)
            seen.add(body["error"])
    assert {"bad_request", "grant_invalid"} <= seen, seen

    uploads = tmp_path / "uploads"

    # Still healthy: a real upload from start to case code.
    plain = MARKER * 2000
    blob = crypto.encrypt(plain, [k.public for k in KEYS], name="a.png", type="image/png")
    grant = (await gw.app[UPLOADS].issue_grant("conv-after-fuzz")).token
    payload = {"grant": grant, "age_band": "13_15", "consent": True, "files": [file_entry(blob, plain)]}
    status, body = await call(http, "POST", base + "/start", json=payload)
    assert status == 201, body
    upload = body["upload"]
    status, _ = await call(http, "PUT", base + "/files/0?offset=0", data=blob, headers=bearer(upload))
    assert status == 200
    status, body = await call(http, "POST", base + "/finish", headers=bearer(upload))
    assert status == 200 and body["case_code"], body
    assert MARKER not in all_bytes_under(uploads)
    clock.advance(3600)  # the fuzz used this client's case-code lookups; an hour refills them
    status, body = await call(
        http, "POST", base + "/case-status", data=json.dumps({"code": body["case_code"]})
    )
    assert (status, body["status"]) == (200, "received")
