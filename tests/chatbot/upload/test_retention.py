"""Retention (chatbot/upload/retention.py) with an injected clock: ciphertext, cases, orphans, partials, audit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from redis.asyncio import Redis

from chatbot.settings import Settings
from chatbot.store import keys
from chatbot.upload import errors
from chatbot.upload.records import token_hash
from chatbot.upload.values import CaseStatus
from tests.chatbot.upload.helpers import (
    Services,
    all_bytes_under,
    encrypted,
    file_entry,
    make_case,
    quota_services,
    upload_all,
)


async def test_retention_with_an_injected_clock(svc: Services, tmp_path: Path) -> None:
    code_closed, closed_id = await make_case(svc)
    code_open, open_id = await make_case(svc)
    await svc.cases.record_action("analyst-1", closed_id, "closed")
    day = 86400
    svc.clock.advance(7 * day - 1)
    assert (await svc.sweeper.sweep()).ciphertext_deleted == 0
    svc.clock.advance(1)
    report = await svc.sweeper.sweep()
    assert report.ciphertext_deleted == 1
    assert not (tmp_path / "uploads" / "cases" / closed_id).exists()
    assert (tmp_path / "uploads" / "cases" / open_id).exists()
    assert (await svc.cases.get(closed_id)).ciphertext_deleted == svc.clock.now()
    with pytest.raises(errors.UnknownCase):
        await svc.cases.open_ciphertext("analyst-1", closed_id, "file-000")
    assert (await svc.cases.child_status(code_closed)).status is CaseStatus.CLOSED  # hashes and status stay

    svc.clock.advance(83 * day)  # 90 days after upload: the open case's ciphertext goes too
    assert (await svc.sweeper.sweep()).ciphertext_deleted == 1
    assert not (tmp_path / "uploads" / "cases" / open_id).exists()

    svc.clock.advance(640 * day)  # 730 days: hashes, status and the code go
    report = await svc.sweeper.sweep()
    assert report.cases_deleted == 2
    with pytest.raises(errors.UnknownCase):
        await svc.cases.child_status(code_open)
    assert await svc.cases.list_cases() == []

    svc.clock.advance(1825 * day + 1)  # the audit log's own period, counted from the newest old entry
    await svc.audit.append("analyst-1", "login")
    report = await svc.sweeper.sweep()
    assert report.audit_trimmed == 7  # 2 received, 1 closed, 2 ciphertext deleted, 2 cases deleted
    assert [e.action for e in await svc.audit.entries()] == ["login"]
    assert await svc.audit.verify() == 1


async def test_sweep_removes_abandoned_partials_and_orphans(svc: Services, tmp_path: Path) -> None:
    plain, blob = encrypted(100_000)
    grant = await svc.uploads.issue_grant("conv1")
    started = await svc.uploads.start(
        grant.token, age_band="13_15", consent=True, files=[file_entry(blob, plain)]
    )
    await svc.uploads.write(started.token, 0, 0, blob[:1000])
    fresh, stale = tmp_path / "uploads" / "cases" / ("f" * 24), tmp_path / "uploads" / "cases" / ("e" * 24)
    fresh.mkdir(parents=True)
    stale.mkdir()
    (stale / "file-000.scup").write_bytes(b"SCUP")
    # The files' age is measured on the sweep's clock: `stale` changed an hour before now.
    an_hour_before = svc.clock.now().timestamp() - 3601
    os.utime(stale, (an_hour_before, an_hour_before))
    svc.clock.advance(30 * 60 - 1)  # UPLOAD_ABANDON_AFTER: no chunk for 30 minutes
    report = await svc.sweeper.sweep()
    assert (report.abandoned_deleted, report.orphans_deleted) == (0, 1)
    svc.clock.advance(1)
    assert (await svc.sweeper.sweep()).abandoned_deleted == 1
    assert all_bytes_under(tmp_path / "uploads") == b""
    assert fresh.exists() and not stale.exists()  # a finish may be filling the fresh one right now
    assert not [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]
    with pytest.raises(errors.UploadNotFound):
        await svc.uploads.progress(started.token)


async def test_the_sweep_discards_abandoned_uploads_without_anyone_asking(
    redis: Redis, settings: Settings, tmp_path: Path
) -> None:
    svc = await quota_services(redis, settings, tmp_path, 10_000_000)
    plain, blob = encrypted(150_000)
    started = await svc.uploads.start(
        (await svc.uploads.issue_grant("conv1")).token, age_band="13_15", consent=True,
        files=[file_entry(blob, plain)],
    )  # fmt: skip
    await svc.uploads.write(started.token, 0, 0, blob[:50_000])
    svc.clock.advance(30 * 60 - 1)
    assert await svc.sweeper.sweep_abandoned() == 0
    svc.clock.advance(1)
    assert await svc.sweeper.sweep_abandoned() == 1
    assert not [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]
    assert await redis.hget(keys.UPLOAD_QUOTA, "total") in (None, b"0")
    assert await redis.exists(keys.upload(token_hash(started.token))) == 0


async def test_old_case_records_lose_their_conversation_id(svc: Services, redis: Redis) -> None:
    grant = await svc.uploads.issue_grant("conv1")
    plain, blob = encrypted(1000)
    started = await svc.uploads.start(
        grant.token, age_band="13_15", consent=True, files=[file_entry(blob, plain)]
    )
    await upload_all(svc, started.token, [blob])
    code = await svc.uploads.finish(started.token)
    (case,) = await svc.cases.list_cases()
    assert await redis.hget(keys.case(case.case_id), "conv") is None
    await redis.hset(keys.case(case.case_id), "conv", "conv1")  # as records made before this change
    await svc.sweeper.sweep()
    assert await redis.hget(keys.case(case.case_id), "conv") is None
    assert (await svc.cases.child_status(code)).status is CaseStatus.RECEIVED
