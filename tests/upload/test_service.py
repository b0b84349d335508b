"""Upload and case services on the private Redis and a real directory, with an injected clock."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from chatbot.settings import Settings
from chatbot.store import keys
from chatbot.upload import audit, codes, crypto, errors
from chatbot.upload.audit import AuditBroken, AuditEntry
from chatbot.upload.service import CaseStatus
from tests.upload.helpers import (
    KEYS,
    Services,
    all_bytes_under,
    file_entry,
    open_conversation,
    services,
    upload_settings,
)

MARKER = b"PLAINTEXT-IMAGE-BYTES-"


@pytest.fixture
async def svc(redis: Redis, settings: Settings, tmp_path: Path) -> Services:
    await open_conversation(redis, "conv1")
    return services(redis, upload_settings(settings, tmp_path / "uploads"))


def encrypted(size: int = 150_000, name: str = "bild.jpg") -> tuple[bytes, bytes]:
    plain = (MARKER * (size // len(MARKER) + 1))[:size]
    return plain, crypto.encrypt(plain, [k.public for k in KEYS], name=name, type="image/jpeg")


async def upload_all(svc: Services, token: str, blobs: list[bytes], piece: int = 100_000) -> None:
    for index, blob in enumerate(blobs):
        for start in range(0, len(blob), piece):
            await svc.uploads.write(token, index, start, blob[start : start + piece])


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


async def make_case(svc: Services) -> tuple[str, str]:
    plain, blob = encrypted(5000)
    grant = await svc.uploads.issue_grant("conv1")
    started = await svc.uploads.start(
        grant.token, age_band="16_17", consent=True, files=[file_entry(blob, plain)]
    )
    await upload_all(svc, started.token, [blob])
    code = await svc.uploads.finish(started.token)
    (case,) = [c for c in await svc.cases.list_cases() if c.code_hash == codes.code_hash(code)]
    return code, case.case_id


async def test_actions_move_the_status_the_child_sees(svc: Services) -> None:
    code, case_id = await make_case(svc)
    svc.clock.advance(3600)
    case = await svc.cases.record_action("analyst-1", case_id, "reported_police")
    assert case.status is CaseStatus.REPORTED
    case = await svc.cases.record_action("analyst-1", case_id, "reviewed")
    assert case.status is CaseStatus.REPORTED  # statuses never go back
    view = await svc.cases.child_status(code)
    assert view.status is CaseStatus.REPORTED and view.updated == svc.clock.now()
    await svc.cases.record_action("analyst-2", case_id, "removed")
    await svc.cases.record_action("analyst-2", case_id, "closed")
    assert (await svc.cases.child_status(code)).status is CaseStatus.CLOSED
    assert [a["action"] for a in await svc.cases.actions(case_id)] == [
        "reported_police",
        "reviewed",
        "removed",
        "closed",
    ]
    with pytest.raises(errors.BadAction):
        await svc.cases.record_action("analyst-1", case_id, "deleted_everything")
    actions = [e.action for e in await svc.audit.entries(case_id=case_id)]
    assert actions[1:] == ["action.reported_police", "action.reviewed", "action.removed", "action.closed"]


async def test_unknown_and_mistyped_codes(svc: Services) -> None:
    from chatbot.upload.codes import new_case_code

    with pytest.raises(errors.UnknownCase):
        await svc.cases.child_status(new_case_code())
    code, _ = await make_case(svc)
    typo = ("1" if code[0] != "1" else "2") + code[1:]
    with pytest.raises(errors.MistypedCaseCode):
        await svc.cases.child_status(typo)
    with pytest.raises(errors.MalformedCaseCode):
        await svc.cases.child_status("hello")


async def test_hash_export_csv_and_json(svc: Services) -> None:
    _, case_id = await make_case(svc)
    plain, blob = encrypted(3000)
    grant = await svc.uploads.issue_grant("conv1")
    entry = {**file_entry(blob, plain), "pdq": "ab" * 32, "pdq_quality": 87}
    started = await svc.uploads.start(grant.token, age_band="13_15", consent=True, files=[entry])
    await upload_all(svc, started.token, [blob])
    await svc.uploads.finish(started.token)
    rows = json.loads(await svc.cases.export_hashes("json"))
    (mine,) = [r for r in rows if r["case_id"] == case_id]
    assert len(mine["sha256"]) == 64 and mine["received"].endswith("Z") and mine["pdq"] == ""
    (image,) = [r for r in rows if r["case_id"] != case_id]
    assert (image["pdq"], image["pdq_quality"]) == ("ab" * 32, 87)
    parsed = list(csv.DictReader(io.StringIO(await svc.cases.export_hashes("csv"))))
    assert parsed == [{k: str(v) for k, v in row.items()} for row in rows]
    with pytest.raises(errors.BadRequest):
        await svc.cases.export_hashes("xml")


async def test_audit_chain_detects_a_removed_entry(svc: Services, redis: Redis) -> None:
    for i in range(4):
        await svc.audit.append(f"analyst-{i}", "file.viewed", case_id="c", file_id="f")
    assert await svc.audit.verify() == 4
    second = (await svc.audit.entries())[1]
    await redis.xdel(keys.AUDIT, second.id)
    with pytest.raises(AuditBroken):
        await svc.audit.verify()


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


async def test_disabled_without_public_keys(redis: Redis, settings: Settings, tmp_path: Path) -> None:
    from dataclasses import replace

    svc = services(redis, replace(upload_settings(settings, tmp_path), upload_public_keys=()))
    with pytest.raises(errors.UploadsDisabled):
        await svc.uploads.issue_grant("conv1")


# --- the per-case index of the audit log -------------------------------------------------------------


def scanned(entries: list[AuditEntry], case_id: str) -> list[AuditEntry]:
    """What a case's trail was before the index: the whole log, filtered."""
    return [e for e in entries if e.case_id == case_id]


async def index_ids(redis: Redis, case_id: str) -> list[str]:
    return [i.decode() for i in await redis.lrange(keys.audit_case(case_id), 0, -1)]  # type: ignore[misc]


async def append_unindexed(redis: Redis, svc: Services, actor: str, action: str, case_id: str) -> None:
    """An entry as the code before the index wrote it: chained, no `ix` field, no index."""
    head = await redis.get(keys.AUDIT_HEAD)
    prev = head.decode() if head else audit.GENESIS
    at_ms = int(svc.clock.now().timestamp() * 1000)
    digest = audit._digest(prev, at_ms, actor, action, case_id, "")
    fields = {"at": at_ms, "actor": actor, "action": action, "case": case_id, "file": ""}
    await redis.xadd(keys.AUDIT, {**fields, "prev": prev, "hash": digest})
    await redis.set(keys.AUDIT_HEAD, digest)


async def test_a_cases_trail_comes_from_its_index_and_equals_a_full_scan(svc: Services, redis: Redis) -> None:
    cases = ["case-a", "case-b", "case-c"]
    for round_ in range(4):
        for case_id in cases[: round_ + 1]:  # interleaved, a different number of entries per case
            await svc.audit.append(f"analyst-{round_}", "file.viewed", case_id=case_id, file_id="file-000")
            svc.clock.advance(1)
        await svc.audit.append("analyst-1", "login")  # entries without a case have no index
    whole = await svc.audit.entries()
    assert len(whole) == (1 + 2 + 3 + 3) + 4  # case entries per round, and the logins
    for case_id in cases:
        trail = await svc.audit.entries(case_id=case_id)
        assert trail == scanned(whole, case_id) and trail
        assert await index_ids(redis, case_id) == [e.id for e in trail]
    assert await svc.audit.verify() == len(whole)

    # Read through the index, not the log: a case whose index is gone shows nothing of the log.
    await redis.delete(keys.audit_case("case-a"))
    assert await svc.audit.entries(case_id="case-a") == []
    assert await svc.audit.entries(case_id="case-b") == scanned(whole, "case-b")


async def test_the_index_expires_with_the_audit_retention(
    svc: Services, redis: Redis, settings: Settings
) -> None:
    retention_ms = settings.audit_retention * 1000
    await svc.audit.append("child", "case.received", case_id="case-a")
    await redis.pexpire(keys.audit_case("case-a"), 1000)
    await svc.audit.append("analyst-1", "action.reviewed", case_id="case-a")  # each entry renews it
    assert retention_ms - 60_000 < await redis.pttl(keys.audit_case("case-a")) <= retention_ms
    assert await redis.exists(keys.audit_case("")) == 0


async def test_concurrent_appends_chain_and_index_every_entry(svc: Services, redis: Redis) -> None:
    other = audit.AuditLog(redis, svc.clock, 3600)  # a second process, racing on the head
    writers = [
        log.append(f"analyst-{i}", "file.viewed", case_id=f"case-{i % 3}", file_id="file-000")
        for i in range(30)
        for log in (svc.audit, other)
    ]
    await asyncio.gather(*writers)
    whole = await svc.audit.entries()
    assert await svc.audit.verify() == 60
    for i in range(3):
        assert await svc.audit.entries(case_id=f"case-{i}") == scanned(whole, f"case-{i}")
        assert len(await index_ids(redis, f"case-{i}")) == 20


async def test_entries_from_before_the_index_still_show(
    svc: Services, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "LEGACY_BATCH", 2)  # the old part spans several reads
    for i in range(5):
        await append_unindexed(redis, svc, "child" if i < 2 else "analyst-1", "old", f"case-{i % 2}")
        svc.clock.advance(1)
    assert await svc.audit.verify() == 5  # the old entries chain as before
    for i in range(4):
        await svc.audit.append("analyst-2", "new", case_id=f"case-{i % 3}")
    whole = await svc.audit.entries()
    for case_id in ("case-0", "case-1", "case-2"):
        assert await svc.audit.entries(case_id=case_id) == scanned(whole, case_id)
    assert [e.action for e in await svc.audit.entries(case_id="case-0")] == [
        "old",
        "old",
        "old",
        "new",
        "new",
    ]
    assert [e.action for e in await svc.audit.entries(case_id="case-2")] == ["new"]
    assert await svc.audit.verify() == 9

    # Retention trims the old part away (the trim scans by time); the indexed part alone is left.
    svc.clock.advance(86400)
    assert await svc.audit.trim(svc.clock.now() - timedelta(seconds=86400)) == 5
    assert [e.action for e in await svc.audit.entries(case_id="case-0")] == ["new", "new"]
    assert await svc.audit.verify() == 4


async def test_retention_leaves_no_index_entry_pointing_at_nothing(
    svc: Services, redis: Redis, settings: Settings
) -> None:
    day = 86400
    await svc.audit.append("child", "case.received", case_id="case-a")
    await svc.audit.append("child", "case.received", case_id="case-b")
    svc.clock.advance(10 * day)
    await svc.audit.append("analyst-1", "action.reviewed", case_id="case-a")
    svc.clock.advance(settings.audit_retention - 5 * day)  # the first two are past retention, not the third
    report = await svc.sweeper.sweep()
    assert report.audit_trimmed == 2
    whole = await svc.audit.entries()
    assert [e.action for e in await svc.audit.entries(case_id="case-a")] == ["action.reviewed"]
    assert await index_ids(redis, "case-a") == [e.id for e in scanned(whole, "case-a")]
    assert await redis.exists(keys.audit_case("case-b")) == 0  # its only id went, so the list went too
    assert await svc.audit.verify() == 1

    # An id whose entry is gone anyway (deleted behind the log's back) is skipped by the reader,
    # and the chain check still reports the removal.
    await svc.audit.append("analyst-1", "action.closed", case_id="case-a")
    (first, _) = await svc.audit.entries(case_id="case-a")
    await redis.xdel(keys.AUDIT, first.id)
    assert [e.action for e in await svc.audit.entries(case_id="case-a")] == ["action.closed"]
    with pytest.raises(AuditBroken):
        await svc.audit.verify()


async def test_trim_reads_from_the_oldest_in_batches_and_stops_at_the_cutoff(
    svc: Services, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "TRIM_BATCH", 3)  # seven expired entries: two full batches and a part
    for i in range(7):
        if i % 3 == 2:
            await svc.audit.append("analyst-1", "login")  # no case, no index
        else:
            await svc.audit.append("child", "case.received", case_id=f"case-{i % 3}")
        svc.clock.advance(1)
    cutoff = svc.clock.now()
    for i in range(6):  # at the cutoff, not older: kept
        await svc.audit.append("analyst-1", "file.viewed", case_id=f"case-{i % 3}", file_id="file-000")
    whole = await svc.audit.entries()
    old, new = whole[:7], whole[7:]

    assert await svc.audit.trim(cutoff) == 7
    assert await svc.audit.entries() == new
    for case_id in ("case-0", "case-1", "case-2"):
        assert await index_ids(redis, case_id) == [e.id for e in scanned(new, case_id)]
    assert await redis.get(keys.AUDIT_ANCHOR) == old[-1].hash.encode()
    assert await svc.audit.verify() == 6
    assert await svc.audit.trim(cutoff) == 0

    # Everything past retention, exactly two full batches: the trim ends on the empty read after them.
    svc.clock.advance(1)
    assert await svc.audit.trim(svc.clock.now()) == 6
    assert await svc.audit.entries() == []
    for case_id in ("case-0", "case-1", "case-2"):
        assert await redis.exists(keys.audit_case(case_id)) == 0
    assert await svc.audit.verify() == 0


async def test_two_sweeps_trimming_at_once_remove_each_entry_once(
    svc: Services, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "TRIM_BATCH", 2)
    for i in range(9):
        await svc.audit.append("child", "case.received", case_id=f"case-{i % 2}")
        svc.clock.advance(1)
    cutoff = svc.clock.now()
    await svc.audit.append("analyst-1", "action.reviewed", case_id="case-0")
    other = audit.AuditLog(redis, svc.clock, 3600)  # a second gateway process's sweeper
    counts = await asyncio.gather(svc.audit.trim(cutoff), other.trim(cutoff))
    assert sum(counts) == 9  # a batch the other sweep took first is read again, not counted twice
    assert [e.action for e in await svc.audit.entries()] == ["action.reviewed"]
    assert len(await index_ids(redis, "case-0")) == 1 and await redis.exists(keys.audit_case("case-1")) == 0
    assert await svc.audit.verify() == 1


# --- the quota for unfinished uploads, abandoned uploads, grants that die with their chat -----------------


async def quota_services(redis: Redis, settings: Settings, tmp_path: Path, quota: int) -> Services:
    for conv in ("conv1", "conv2", "conv3"):
        await open_conversation(redis, conv)
    return services(redis, upload_settings(settings, tmp_path / "uploads", upload_pending_quota=quota))


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


async def test_an_abandoned_upload_is_discarded_and_frees_its_room(
    redis: Redis, settings: Settings, tmp_path: Path
) -> None:
    plain, blob = encrypted(150_000)
    svc = await quota_services(redis, settings, tmp_path, len(blob))  # room for exactly one
    started = await svc.uploads.start(
        (await svc.uploads.issue_grant("conv1")).token, age_band="13_15", consent=True,
        files=[file_entry(blob, plain)],
    )  # fmt: skip
    await svc.uploads.write(started.token, 0, 0, blob[:50_000])
    svc.clock.advance(29 * 60)
    await svc.uploads.write(started.token, 0, 50_000, blob[50_000:60_000])  # a chunk keeps it alive
    svc.clock.advance(29 * 60)
    assert (await svc.uploads.progress(started.token)).files[0].received == 60_000
    # Full: a grant elsewhere is refused while the upload is alive ...
    with pytest.raises(errors.UploadsFull):
        await svc.uploads.issue_grant("conv2")
    svc.clock.advance(60)  # 30 minutes without a chunk: abandoned
    # ... and given, once the abandoned upload's room is reclaimed on demand (no sweep needed).
    grant = await svc.uploads.issue_grant("conv2")
    assert not [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]
    with pytest.raises(errors.UploadNotFound):
        await svc.uploads.write(started.token, 0, 60_000, blob[60_000:70_000])
    await svc.uploads.start(grant.token, age_band="13_15", consent=True, files=[file_entry(blob, plain)])


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
    assert await redis.exists(keys.upload(audit_hash(started.token))) == 0


def audit_hash(token: str) -> str:
    from chatbot.upload.service import token_hash

    return token_hash(token)


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
