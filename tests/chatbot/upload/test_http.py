"""The child's upload endpoints over real HTTP on loopback, against the real gateway and Redis."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from chatbot.gateway.upload_views import CASES, UPLOADS
from chatbot.settings import Settings
from chatbot.upload import crypto
from tests.chatbot.upload.helpers import KEYS, all_bytes_under, file_entry, open_conversation, upload_settings

MARKER = b"CLEAR-VIDEO-FRAME-"


@pytest.fixture
async def gw(gateway_factory: Any, settings: Settings, tmp_path: Path) -> Any:
    return await gateway_factory(upload_settings(settings, tmp_path / "uploads"))


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession() as session:
        yield session


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with http.request(method, url, **kwargs) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


async def test_upload_resume_finish_and_status(
    redis: Redis, gw: Any, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    plain = (MARKER * 20_000)[:300_000]
    blob = crypto.encrypt(plain, [k.public for k in KEYS], name="v.mp4", type="video/mp4")
    await open_conversation(redis, "conv-http")
    grant = await gw.app[UPLOADS].issue_grant("conv-http")
    status, body = await call(
        http,
        "POST",
        gw.url + "/upload/v1/start",
        json={
            "grant": grant.token,
            "age_band": "under_13",
            "consent": True,
            "files": [file_entry(blob, plain)],
        },
    )
    assert status == 201, body
    token = body["upload"]
    assert body["files"] == [{"index": 0, "size": len(blob), "received": 0}]

    status, body = await call(
        http, "PUT", gw.url + "/upload/v1/files/0?offset=0", data=blob[:100_000], headers=bearer(token)
    )
    assert (status, body["received"]) == (200, 100_000)
    # A dropped connection: the client asks where it stands, then continues from there.
    status, body = await call(http, "GET", gw.url + "/upload/v1/files", headers=bearer(token))
    assert body["files"][0]["received"] == 100_000
    status, body = await call(
        http, "PUT", gw.url + "/upload/v1/files/0?offset=0", data=blob[:10], headers=bearer(token)
    )
    assert (status, body["error"], body["offset"]) == (409, "offset_mismatch", 100_000)
    status, body = await call(http, "POST", gw.url + "/upload/v1/finish", headers=bearer(token))
    assert (status, body["error"]) == (409, "upload_incomplete")
    status, body = await call(
        http, "PUT", gw.url + "/upload/v1/files/0?offset=100000", data=blob[100_000:], headers=bearer(token)
    )
    assert status == 200
    status, body = await call(http, "POST", gw.url + "/upload/v1/finish", headers=bearer(token))
    assert status == 200
    code = body["case_code"]
    assert MARKER not in all_bytes_under(tmp_path / "uploads")

    status, body = await call(http, "POST", gw.url + "/upload/v1/case-status", json={"code": code})
    assert (status, body["status"]) == (200, "received")
    (case,) = await gw.app[CASES].list_cases()
    await gw.app[CASES].record_action("analyst-1", case.case_id, "reported_platform")
    status, body = await call(http, "POST", gw.url + "/upload/v1/case-status", json={"code": code.lower()})
    assert body["status"] == "reported"


async def test_grant_reuse_expiry_and_limits_over_http(
    redis: Redis, gw: Any, http: aiohttp.ClientSession
) -> None:
    await open_conversation(redis, "conv-http")
    grant = await gw.app[UPLOADS].issue_grant("conv-http")
    one = {"size": 100, "sha256": hashlib.sha256(b"").hexdigest(), "md5": hashlib.md5(b"").hexdigest()}
    payload = {"grant": grant.token, "age_band": "16_17", "consent": True}
    url = gw.url + "/upload/v1/start"
    assert (await call(http, "POST", url, json={**payload, "files": [one] * 4}))[1][
        "error"
    ] == "too_many_files"
    status, body = await call(http, "POST", url, json={**payload, "files": [{**one, "size": 10**9}]})
    assert (status, body["error"]) == (413, "file_too_big")
    assert (await call(http, "POST", url, json={**payload, "consent": False, "files": [one]}))[1][
        "error"
    ] == "consent_required"
    assert (await call(http, "POST", url, json={**payload, "files": [one]}))[0] == 201
    status, body = await call(http, "POST", url, json={**payload, "files": [one]})
    assert (status, body["error"]) == (409, "grant_used")
    status, body = await call(http, "POST", url, json={**payload, "grant": "A" * 43, "files": [one]})
    assert (status, body["error"]) == (403, "grant_invalid")
    status, body = await call(http, "POST", url, data=b"not json")
    assert (status, body["error"]) == (400, "bad_request")

    async def endless() -> Any:  # no Content-Length: the body arrives chunked
        for _ in range(100):
            yield b"[" * 1024

    status, body = await call(http, "POST", url, data=endless())
    assert (status, body["error"]) == (400, "bad_request")


async def test_expired_grant_over_http(
    redis: Redis, gateway_factory: Any, settings: Settings, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    from chatbot.clock import FixedClock
    from tests.chatbot.upload.helpers import START

    clock = FixedClock(START)
    gw = await gateway_factory(upload_settings(settings, tmp_path / "u"), clock)
    await open_conversation(redis, "conv-http")
    grant = await gw.app[UPLOADS].issue_grant("conv-http")
    clock.advance(31 * 60)
    one = {"size": 100, "sha256": "0" * 64, "md5": "0" * 32}
    status, body = await call(
        http,
        "POST",
        gw.url + "/upload/v1/start",
        json={"grant": grant.token, "age_band": "16_17", "consent": True, "files": [one]},
    )
    assert (status, body["error"]) == (410, "grant_expired")


async def test_bad_chunks_and_unknown_things(
    redis: Redis, gw: Any, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    await open_conversation(redis, "conv-http")
    grant = await gw.app[UPLOADS].issue_grant("conv-http")
    status, body = await call(
        http,
        "POST",
        gw.url + "/upload/v1/start",
        json={
            "grant": grant.token,
            "age_band": "13_15",
            "consent": True,
            "files": [{"size": 2_000, "sha256": "0" * 64, "md5": "0" * 32}],
        },
    )
    token = body["upload"]
    put = gw.url + "/upload/v1/files/0?offset=0"
    assert (await call(http, "PUT", put, data=b"x" * 2_001, headers=bearer(token)))[1][
        "error"
    ] == "file_too_big"
    assert (await call(http, "PUT", put, data=b"x" * (1024 * 1024 + 1), headers=bearer(token)))[1][
        "error"
    ] == "bad_chunk"
    assert (
        await call(http, "PUT", gw.url + "/upload/v1/files/0?offset=abc", data=b"x", headers=bearer(token))
    )[1]["error"] == "bad_chunk"
    assert (
        await call(http, "PUT", gw.url + "/upload/v1/files/7?offset=0", data=b"x", headers=bearer(token))
    )[1]["error"] == "bad_chunk"
    status, body = await call(http, "PUT", put, data=b"x")
    assert (status, body["error"]) == (404, "upload_not_found")
    status, body = await call(http, "GET", gw.url + "/upload/v1/files", headers=bearer("B" * 43))
    assert (status, body["error"]) == (404, "upload_not_found")
    # Plaintext instead of ciphertext: refused at finish, and nothing stays.
    assert (await call(http, "PUT", put, data=b"\xff\xd8" + b"x" * 1998, headers=bearer(token)))[0] == 200
    status, body = await call(http, "POST", gw.url + "/upload/v1/finish", headers=bearer(token))
    assert (status, body["error"]) == (422, "bad_ciphertext")
    assert all_bytes_under(tmp_path / "uploads") == b""

    for code, error in [
        ("hello", "malformed_case_code"),
        ("0000-0000-0000-0000-0001", "mistyped_case_code"),
        ("0000-0000-0000-0000-0000", "unknown_case"),
    ]:
        status, body = await call(http, "POST", gw.url + "/upload/v1/case-status", json={"code": code})
        assert body["error"] == error, code


async def test_gateway_runs_the_retention_sweep(
    gateway_factory: Any, settings: Settings, tmp_path: Path
) -> None:
    import asyncio

    partial = tmp_path / "uploads" / "partial" / ("a" * 64 + "-0.part")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"bytes of an upload nobody will finish")
    await gateway_factory(upload_settings(settings, tmp_path / "uploads"))
    for _ in range(100):
        if not partial.exists():
            break
        await asyncio.sleep(0.05)
    assert not partial.exists()


async def test_thirty_chats_racing_to_park_uploads_stay_within_the_quota(
    redis: Redis, gateway_factory: Any, settings: Settings, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """The attack from issue 12: many chats each park a 25 MiB upload at once and never send it."""
    import asyncio
    import time
    from dataclasses import replace

    from chatbot.clock import FixedClock
    from chatbot.store import keys
    from tests.chatbot.upload.helpers import START

    mib = 1024 * 1024
    clock = FixedClock(START)
    small = upload_settings(settings, tmp_path / "u", upload_pending_quota=100 * mib)
    gw = await gateway_factory(
        replace(small, upload_max_file_bytes=25 * mib, upload_max_total_bytes=25 * mib), clock
    )
    grants = []
    for n in range(30):
        await open_conversation(redis, f"conv-{n}")
        grants.append((await gw.app[UPLOADS].issue_grant(f"conv-{n}")).token)
    one = {"size": 25 * mib, "sha256": "0" * 64, "md5": "0" * 32}
    began = time.perf_counter()
    answers = await asyncio.gather(
        *(
            call(http, "POST", gw.url + "/upload/v1/start", json={
                "grant": g, "age_band": "16_17", "consent": True, "files": [one]
            })
            for g in grants
        )
    )  # fmt: skip
    took = time.perf_counter() - began
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 4 + [507] * 26, statuses  # 4 × 25 MiB fill 100 MiB; the rest are told so
    assert {body["error"] for status, body in answers if status == 507} == {"uploads_full"}
    assert int(await redis.hget(keys.UPLOAD_QUOTA, "total")) == 100 * mib
    assert took < 10

    clock.advance(30 * 60)  # nobody sends a byte: abandoned, and the room comes back on demand
    fresh = (await gw.app[UPLOADS].issue_grant("conv-0")).token
    status, body = await call(
        http, "POST", gw.url + "/upload/v1/start",
        json={"grant": fresh, "age_band": "16_17", "consent": True, "files": [one]},
    )  # fmt: skip
    assert status == 201, body
    assert int(await redis.hget(keys.UPLOAD_QUOTA, "total")) == 25 * mib
