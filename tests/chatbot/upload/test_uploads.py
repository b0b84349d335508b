"""The child's side (chatbot/upload/uploads.py): grants, a resumable ciphertext upload, its case code, the quota."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from chatbot.settings import Settings
from chatbot.store import keys
from chatbot.upload import crypto, errors
from chatbot.upload.values import CaseStatus
from tests.chatbot.upload.helpers import (
    KEYS,
    MARKER,
    Services,
    all_bytes_under,
    encrypted,
    file_entry,
    quota_services,
    services,
    upload_all,
    upload_settings,
)


async def test_whole_flow_stores_only_ciphertext_and_gives_a_working_code(
    svc: Services, tmp_path: Path
) -> None:
    image, image_ct = encrypted(150_000)
    video, video_ct = encrypted(200_000, "film.mp4")
    grant = await svc.uploads.issue_grant("conv1", topic="sextortion")
    started = await svc.uploads.start(
        grant.token,
        age_band="13_15",
        consent=True,
        files=[file_entry(image_ct, image), file_entry(video_ct, video)],
    )
    await upload_all(svc, started.token, [image_ct, video_ct])
    code = await svc.uploads.finish(started.token)
    assert await svc.uploads.finish(started.token) == code  # a retried finish gets the same code

    on_disk = all_bytes_under(tmp_path / "uploads")
    assert MARKER not in on_disk and image[:1000] not in on_disk
    assert image_ct in on_disk and video_ct in on_disk

    view = await svc.cases.child_status(code.lower())
    assert view.status is CaseStatus.RECEIVED
    (case,) = await svc.cases.list_cases()
    assert case.age_band == "13_15" and case.topic == "sextortion"
    assert [f.sha256 for f in case.files] == [
        file_entry(image_ct, image)["sha256"],
        file_entry(video_ct, video)["sha256"],
    ]

    stream = await svc.cases.open_ciphertext("analyst-1", case.case_id, case.files[1].file_id)
    with stream:
        meta, plain = crypto.decrypt(stream.read(), KEYS[:1])
    assert plain == video and meta.name == "film.mp4"
    entries = await svc.audit.entries(case_id=case.case_id)
    assert [(e.actor, e.action, e.file_id) for e in entries] == [
        ("child", "case.received", ""),
        ("analyst-1", "file.viewed", "file-001"),
    ]
    assert await svc.audit.verify() == 2


async def test_grant_is_single_use_and_expires(svc: Services) -> None:
    plain, blob = encrypted(2000)
    grant = await svc.uploads.issue_grant("conv1")
    await svc.uploads.start(grant.token, age_band="under_13", consent=True, files=[file_entry(blob, plain)])
    with pytest.raises(errors.GrantUsed):
        await svc.uploads.start(
            grant.token, age_band="under_13", consent=True, files=[file_entry(blob, plain)]
        )
    late = await svc.uploads.issue_grant("conv1")
    svc.clock.advance(30 * 60)
    with pytest.raises(errors.GrantExpired):
        await svc.uploads.start(
            late.token, age_band="under_13", consent=True, files=[file_entry(blob, plain)]
        )
    with pytest.raises(errors.GrantInvalid):
        await svc.uploads.start("x" * 43, age_band="under_13", consent=True, files=[file_entry(blob, plain)])
    with pytest.raises(errors.GrantInvalid):
        await svc.uploads.start({"no": 1}, age_band="under_13", consent=True, files=[])


@pytest.mark.parametrize(
    ("sizes", "error"),
    [
        ([1000] * 4, errors.TooManyFiles),
        ([400_001], errors.FileTooBig),
        ([300_000, 300_001], errors.UploadTooBig),
    ],
)
async def test_limits_refuse_without_spending_the_grant(
    svc: Services, sizes: list[int], error: type[errors.UploadError]
) -> None:
    grant = await svc.uploads.issue_grant("conv1")
    files = [{"size": s, "sha256": "0" * 64, "md5": "0" * 32} for s in sizes]
    with pytest.raises(error):
        await svc.uploads.start(grant.token, age_band="16_17", consent=True, files=files)
    # The refusal did not spend the grant: the child can try again with fewer or smaller files.
    small = [{"size": 10, "sha256": "0" * 64, "md5": "0" * 32}]
    started = await svc.uploads.start(grant.token, age_band="16_17", consent=True, files=small)
    assert started.files[0].received == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"age_band": "12", "consent": True},
        {"age_band": "13_15", "consent": False},
        {"age_band": "13_15", "consent": "yes"},
        {"age_band": "13_15", "consent": True, "files": [{"size": -1, "sha256": "0" * 64, "md5": "0" * 32}]},
        {"age_band": "13_15", "consent": True, "files": [{"size": 5, "sha256": "XYZ", "md5": "0" * 32}]},
        {"age_band": "13_15", "consent": True, "files": "all"},
        {
            "age_band": "13_15",
            "consent": True,
            "files": [{"size": 5, "sha256": "0" * 64, "md5": "0" * 32, "pdq": "x"}],
        },
        {
            "age_band": "13_15",
            "consent": True,
            "files": [{"size": 5, "sha256": "0" * 64, "md5": "0" * 32, "pdq": "0" * 64, "pdq_quality": 101}],
        },
    ],
)
async def test_bad_start_payloads(svc: Services, payload: dict[str, object]) -> None:
    grant = await svc.uploads.issue_grant("conv1")
    args = {"files": [{"size": 5, "sha256": "0" * 64, "md5": "0" * 32}], **payload}
    with pytest.raises((errors.BadRequest, errors.NotConsented)):
        await svc.uploads.start(grant.token, **args)


async def test_resume_after_a_drop_and_offset_checks(svc: Services) -> None:
    plain, blob = encrypted(300_000)
    grant = await svc.uploads.issue_grant("conv1")
    started = await svc.uploads.start(
        grant.token, age_band="13_15", consent=True, files=[file_entry(blob, plain)]
    )
    assert await svc.uploads.write(started.token, 0, 0, blob[:65_536]) == 65_536
    # The client lost its connection and its idea of where it was: it asks, then continues.
    progress = await svc.uploads.progress(started.token)
    assert progress.files[0].received == 65_536
    with pytest.raises(errors.OffsetMismatch) as caught:
        await svc.uploads.write(started.token, 0, 0, blob[:100])
    assert caught.value.info["offset"] == 65_536
    with pytest.raises(errors.FileTooBig):
        await svc.uploads.write(started.token, 0, 65_536, blob[65_536:] + b"extra")
    with pytest.raises(errors.BadChunk):
        await svc.uploads.write(started.token, 1, 0, b"x")
    with pytest.raises(errors.BadChunk):
        await svc.uploads.write(started.token, 0, 65_536, b"")
    with pytest.raises(errors.UploadIncomplete):
        await svc.uploads.finish(started.token)
    await svc.uploads.write(started.token, 0, 65_536, blob[65_536:])
    code = await svc.uploads.finish(started.token)
    assert (await svc.cases.child_status(code)).status is CaseStatus.RECEIVED


async def test_racing_writers_cannot_both_append(svc: Services) -> None:
    plain, blob = encrypted(200_000)
    grant = await svc.uploads.issue_grant("conv1")
    started = await svc.uploads.start(
        grant.token, age_band="13_15", consent=True, files=[file_entry(blob, plain)]
    )
    results = await asyncio.gather(
        *(svc.uploads.write(started.token, 0, 0, blob[:50_000]) for _ in range(5)), return_exceptions=True
    )
    assert results.count(50_000) == 1
    assert all(isinstance(r, (errors.UploadBusy, errors.OffsetMismatch)) for r in results if r != 50_000)
    assert (await svc.uploads.progress(started.token)).files[0].received == 50_000


@pytest.mark.parametrize("damage", ["plaintext", "other_key", "truncated"])
async def test_a_file_that_is_not_our_ciphertext_leaves_nothing(
    svc: Services, tmp_path: Path, damage: str
) -> None:
    plain, good = encrypted(100_000)
    if damage == "plaintext":
        bad = plain
    elif damage == "other_key":
        bad = crypto.encrypt(plain, [crypto.PrivateKey.generate(crypto.Kem.X25519).public])
    else:
        # Five bytes into the last frame: no SCUP file has that length. (A cut that leaves a plausible
        # length can only show at decryption, where the authenticated size catches it.)
        header_len = crypto.read_header(io.BytesIO(good)).length
        bad = good[: header_len + 65_536 + 16 + 5]
    grant = await svc.uploads.issue_grant("conv1")
    started = await svc.uploads.start(
        grant.token, age_band="13_15", consent=True, files=[file_entry(good, plain), file_entry(bad, plain)]
    )
    await upload_all(svc, started.token, [good, bad])
    with pytest.raises(errors.BadCiphertext):
        await svc.uploads.finish(started.token)
    assert all_bytes_under(tmp_path / "uploads") == b""
    assert await svc.cases.list_cases() == []
    with pytest.raises(errors.UploadNotFound):
        await svc.uploads.progress(started.token)


async def test_cancel_discards_everything(svc: Services, tmp_path: Path) -> None:
    plain, blob = encrypted(100_000)
    grant = await svc.uploads.issue_grant("conv1")
    started = await svc.uploads.start(
        grant.token, age_band="13_15", consent=True, files=[file_entry(blob, plain)]
    )
    await svc.uploads.write(started.token, 0, 0, blob[:1000])
    await svc.uploads.cancel(started.token)
    assert all_bytes_under(tmp_path / "uploads") == b""
    with pytest.raises(errors.UploadNotFound):
        await svc.uploads.write(started.token, 0, 1000, blob[1000:2000])


async def test_disabled_without_public_keys(redis: Redis, settings: Settings, tmp_path: Path) -> None:
    svc = services(redis, replace(upload_settings(settings, tmp_path), upload_public_keys=()))
    with pytest.raises(errors.UploadsDisabled):
        await svc.uploads.issue_grant("conv1")


async def test_the_quota_bounds_what_unfinished_uploads_reserve(
    redis: Redis, settings: Settings, tmp_path: Path
) -> None:
    svc = await quota_services(redis, settings, tmp_path, 350_000)
    plain, blob = encrypted(150_000)
    first = await svc.uploads.start(
        (await svc.uploads.issue_grant("conv1")).token, age_band="13_15", consent=True,
        files=[file_entry(blob, plain), file_entry(blob, plain)],
    )  # fmt: skip
    grant = await svc.uploads.issue_grant("conv2")
    with pytest.raises(errors.UploadsFull):  # 2 × 150 kB reserved; another 150 kB does not fit
        await svc.uploads.start(grant.token, age_band="13_15", consent=True, files=[file_entry(blob, plain)])
    assert await redis.hget(keys.UPLOAD_QUOTA, "total") == str(2 * len(blob)).encode()
    assert 0 < await redis.ttl(keys.UPLOAD_QUOTA) <= 24 * 3600 + 3600

    await svc.uploads.cancel(first.token)  # gives its room back; the refused grant was not spent
    second = await svc.uploads.start(
        grant.token, age_band="13_15", consent=True, files=[file_entry(blob, plain), file_entry(blob, plain)]
    )
    svc_full = await quota_services(redis, settings, tmp_path, 2 * len(blob))
    with pytest.raises(errors.UploadsFull):  # no room left at all: not even a grant
        await svc_full.uploads.issue_grant("conv3")
    await upload_all(svc, second.token, [blob, blob])
    await svc.uploads.finish(second.token)  # a finished upload is a case: its room is free again
    assert await redis.hget(keys.UPLOAD_QUOTA, "total") in (None, b"0")


@pytest.mark.parametrize("how", ["ended", "expired"])
async def test_a_grant_dies_with_its_conversation(svc: Services, redis: Redis, how: str) -> None:
    from chatbot.store.conversations import ConversationStore

    grant = await svc.uploads.issue_grant("conv1")
    if how == "ended":
        await ConversationStore(redis, announce_to=keys.NOTIFY_STAFF).end(
            "conv1", [], reason="end_chat", session_hash=None, now_ms=0, retention=3600
        )
    else:
        await redis.delete(keys.conversation("conv1"))  # what its TTL does at the end of retention
    plain, blob = encrypted(1000)
    with pytest.raises(errors.ConversationEnded):
        await svc.uploads.start(grant.token, age_band="13_15", consent=True, files=[file_entry(blob, plain)])
    assert await redis.hget(keys.UPLOAD_QUOTA, "total") is None
