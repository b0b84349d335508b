"""The one place the upload services are built (chatbot/upload/wiring.py), as every process builds them."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.settings import Settings
from chatbot.upload.values import CaseStatus
from chatbot.upload.wiring import build_uploads
from tests.chatbot.upload.helpers import START, encrypted, file_entry, open_conversation, upload_settings


async def test_the_services_share_one_store_one_directory_and_one_audit_log(
    redis: Redis, settings: Settings, tmp_path: Path
) -> None:
    await open_conversation(redis, "conv1")
    chosen = upload_settings(settings, tmp_path / "uploads")
    clock = FixedClock(START)
    built = build_uploads(chosen, redis, clock)
    assert built.uploads.enabled  # UPLOAD_PUBLIC_KEYS came through
    plain, blob = encrypted(5000)
    grant = await built.uploads.issue_grant("conv1")
    assert grant.max_files == chosen.upload_max_files
    started = await built.uploads.start(
        grant.token, age_band="13_15", consent=True, files=[file_entry(blob, plain)]
    )
    await built.uploads.write(started.token, 0, 0, blob)
    code = await built.uploads.finish(started.token)

    (case,) = await built.cases.list_cases()  # the cases read what the child's side wrote
    assert (await built.cases.child_status(code)).status is CaseStatus.RECEIVED
    assert (tmp_path / "uploads" / "cases" / case.case_id).is_dir()  # in UPLOAD_DIR
    await built.cases.record_action("analyst-1", case.case_id, "reviewed")
    assert [e.action for e in await built.audit.entries(case_id=case.case_id)] == [
        "case.received",
        "action.reviewed",
    ]

    clock.advance(chosen.upload_max_age)  # the sweeper deletes from the same directory
    assert (await built.sweeper.sweep()).ciphertext_deleted == 1
    assert not (tmp_path / "uploads" / "cases" / case.case_id).exists()
    assert [e.action for e in await built.audit.entries(case_id=case.case_id)][-1] == "ciphertext.deleted"
