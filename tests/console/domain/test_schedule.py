"""Scheduled and time-boxed publishing in the domain (real Redis, the injected clock: time moves, nothing
sleeps): an approved draft publishes at its time exactly once even with two console processes, a time box
reverts its answers as a new version without undoing other answers' changes, an answer changed meanwhile is
skipped and named, refusals (not approved, failing the check), cancelling, and the audit."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import sys
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.domain.content_versions import ContentVersions, Snapshot
from chatbot.settings import Settings
from chatbot.store.audit import AuditLog
from chatbot.store.content_versions import ContentVersionStore
from console.domain.accounts import Role
from console.domain.editing import (
    CANCELLED,
    CLAIM_LEASE,
    DONE,
    FAILED,
    LIVE,
    PUBLISHING,
    WAITING,
    AnswerEdit,
    Draft,
    EditingError,
    Workspace,
)
from console.store.drafts import DraftStore
from tests.conftest import ROOT

NOTICE = "Vi har stängt över jul. Vi öppnar igen den 27 december."
OTHER = "Vi försöker få bort bilden tillsammans med dig."


def _make(redis: Redis, clock: FixedClock, settings: Settings) -> tuple[Workspace, AuditLog]:
    versions = ContentVersions(ContentVersionStore(redis, settings.content_version_retention), clock)
    audit = AuditLog(redis, clock, settings.audit_retention)
    return Workspace(DraftStore(redis), versions, audit, clock), audit


@pytest.fixture
async def workspace(redis: Redis, clock: FixedClock, settings: Settings) -> tuple[Workspace, AuditLog]:
    ws, audit = _make(redis, clock, settings)
    await ws.versions.seed(Snapshot.from_repository(settings.content_dir, settings.locales_dir))
    return ws, audit


def _with_bubble(edit: AnswerEdit, index: int, text: str) -> AnswerEdit:
    bubbles = list(edit.bubbles)
    bubbles[index] = text
    return dataclasses.replace(edit, bubbles=tuple(bubbles))


async def _approved(ws: Workspace, answer_id: str, index: int, text: str) -> Draft:
    draft = await ws.create("edith", [answer_id])
    await ws.save(draft.id, "edith", answer_id, _with_bubble(draft.edits[answer_id], index, text))
    await ws.submit(draft.id, "edith")
    return await ws.approve(draft.id, "erik", Role.EDITOR)


async def _text(ws: Workspace, answer_id: str) -> str:
    _, snapshot = await ws.published()
    return snapshot.answers[answer_id]


async def test_a_time_boxed_notice_publishes_at_its_time_and_reverts_at_its_end(
    workspace: tuple[Workspace, AuditLog], clock: FixedClock
) -> None:
    ws, audit = workspace
    before = await _text(ws, "anonymity")
    draft = await _approved(ws, "anonymity", 2, NOTICE)
    start, end = clock.now() + timedelta(hours=1), clock.now() + timedelta(days=2)
    draft = await ws.schedule(draft.id, "erik", Role.EDITOR, start, end)
    assert draft.schedule is not None and draft.schedule.state == WAITING
    # "Publish all approved" leaves a scheduled draft to its schedule.
    with pytest.raises(EditingError) as nothing:
        await ws.publish("erik")
    assert nothing.value.code == "nothing"

    assert await ws.run_due() == []
    clock.advance(3599)
    assert await ws.run_due() == []
    assert (await ws.published())[0].number == 1
    clock.advance(1)
    [published] = await ws.run_due()
    version, _ = await ws.published()
    assert version.number == 2 and NOTICE in await _text(ws, "anonymity")
    assert published.published == 2 and published.schedule is not None and published.schedule.state == LIVE
    assert await ws.run_due() == []  # exactly once

    clock.advance(2 * 86400)
    [reverted] = await ws.run_due()
    version, _ = await ws.published()
    assert version.number == 3 and version.kind == "revert" and version.changed == ("anonymity",)
    assert await _text(ws, "anonymity") == before
    assert reverted.schedule is not None and reverted.schedule.state == DONE
    assert reverted.schedule.reverted == 3 and reverted.schedule.skipped == ()
    assert await ws.run_due() == []
    actions = [e.action for e in await audit.entries()]
    assert "content.publish" in actions and "content.schedule.reverted" in actions
    assert any(a.startswith("content.schedule ") and " until " in a for a in actions)


async def test_the_revert_keeps_other_answers_changed_meanwhile_and_skips_its_own_answer_changed_meanwhile(
    workspace: tuple[Workspace, AuditLog], clock: FixedClock
) -> None:
    ws, audit = workspace
    before_greet = await _text(ws, "greet")
    boxed = await _approved(ws, "anonymity", 2, NOTICE)
    boxed = await ws.schedule(boxed.id, "erik", Role.EDITOR, clock.now(), clock.now() + timedelta(days=1))
    await ws.run_due()
    assert NOTICE in await _text(ws, "anonymity")
    # Meanwhile: someone changes the same answer, and another one.
    await _approved(ws, "anonymity", 1, OTHER)
    await ws.publish("erik")
    await _approved(ws, "greet", 0, "Hej! Vad bra att du skriver till oss.")
    await ws.publish("erik")
    meanwhile = await _text(ws, "anonymity")
    changed_greet = await _text(ws, "greet")
    assert changed_greet != before_greet
    number = (await ws.published())[0].number

    clock.advance(86400)
    [done] = await ws.run_due()
    assert done.schedule is not None and done.schedule.skipped == ("anonymity",)
    assert done.schedule.reverted is None and done.schedule.state == DONE
    assert (await ws.published())[0].number == number  # nothing to revert: no new version
    assert await _text(ws, "anonymity") == meanwhile and await _text(ws, "greet") == changed_greet
    assert "content.schedule.revert_skipped anonymity" in [e.action for e in await audit.entries()]


async def test_a_revert_leaves_other_answers_published_meanwhile(
    workspace: tuple[Workspace, AuditLog], clock: FixedClock
) -> None:
    ws, _ = workspace
    before = await _text(ws, "anonymity")
    boxed = await _approved(ws, "anonymity", 2, NOTICE)
    await ws.schedule(boxed.id, "erik", Role.EDITOR, clock.now(), clock.now() + timedelta(days=1))
    await ws.run_due()
    await _approved(ws, "greet", 0, "Hej! Vad bra att du skriver till oss.")
    await ws.publish("erik")
    changed_greet = await _text(ws, "greet")
    clock.advance(86400)
    await ws.run_due()
    assert await _text(ws, "anonymity") == before
    assert await _text(ws, "greet") == changed_greet


async def test_two_consoles_apply_a_due_schedule_exactly_once(
    workspace: tuple[Workspace, AuditLog], redis: Redis, clock: FixedClock, settings: Settings
) -> None:
    ws, _ = workspace
    other, _ = _make(redis, clock, settings)
    boxed = await _approved(ws, "anonymity", 2, NOTICE)
    await ws.schedule(
        boxed.id, "erik", Role.EDITOR, clock.now() + timedelta(seconds=10), clock.now() + timedelta(days=1)
    )
    clock.advance(10)
    results = await asyncio.gather(ws.run_due(), other.run_due(), ws.run_due(), other.run_due())
    assert sum(len(r) for r in results) == 1
    assert [v.number for v in await ws.versions.history()] == [2, 1]
    clock.advance(86400)
    results = await asyncio.gather(ws.run_due(), other.run_due(), ws.run_due(), other.run_due())
    assert sum(len(r) for r in results) == 1
    assert [v.kind for v in await ws.versions.history()] == ["revert", "publish", "seed"]


async def test_the_server_refuses_a_schedule_for_an_unapproved_or_failing_draft_and_it_can_be_cancelled(
    workspace: tuple[Workspace, AuditLog], clock: FixedClock, redis: Redis
) -> None:
    ws, audit = workspace
    draft = await ws.create("edith", ["anonymity"])
    with pytest.raises(EditingError) as unapproved:
        await ws.schedule(draft.id, "edith", Role.EDITOR, clock.now())
    assert unapproved.value.code == "not_approved"
    # Approved, then the stored draft is made to fail the check (as a script might): refused on the server.
    approved = await _approved(ws, "anonymity", 2, NOTICE)
    store = DraftStore(redis)
    bad = dataclasses.replace(
        approved,
        edits={"anonymity": _with_bubble(approved.edits["anonymity"], 1, "Vi raderar bilden åt dig.")},
    )
    assert await store.save(bad.id, bad.to_json(), approved.revision, 0)
    with pytest.raises(EditingError) as failing:
        await ws.schedule(bad.id, "erik", Role.EDITOR, clock.now())
    assert failing.value.code == "check_failed"
    assert "content.schedule.refused" in [e.action for e in await audit.entries()]

    ok = await _approved(ws, "greet", 0, "Hej! Vad bra att du skriver till oss.")
    with pytest.raises(EditingError) as backwards:
        await ws.schedule(
            ok.id, "erik", Role.EDITOR, clock.now() + timedelta(hours=2), clock.now() + timedelta(hours=1)
        )
    assert backwards.value.code == "bad_time"
    await ws.schedule(ok.id, "erik", Role.EDITOR, clock.now() + timedelta(hours=1))
    cancelled = await ws.cancel_schedule(ok.id, "erik", Role.EDITOR)
    assert cancelled.schedule is not None and cancelled.schedule.state == CANCELLED
    clock.advance(7200)
    assert await ws.run_due() == []
    assert (await ws.published())[0].number == 1
    assert "content.schedule.cancelled" in [e.action for e in await audit.entries()]


async def test_a_scheduled_draft_publishes_over_other_answers_changed_since_and_fails_visibly_on_its_own(
    workspace: tuple[Workspace, AuditLog], clock: FixedClock
) -> None:
    ws, _ = workspace
    later = await _approved(ws, "anonymity", 2, NOTICE)
    await ws.schedule(later.id, "erik", Role.EDITOR, clock.now() + timedelta(hours=1))
    await _approved(ws, "greet", 0, "Hej! Vad bra att du skriver till oss.")
    await ws.publish("erik")
    greet = await _text(ws, "greet")
    clock.advance(3600)
    [published] = await ws.run_due()
    assert published.published == 3 and NOTICE in await _text(ws, "anonymity")
    assert await _text(ws, "greet") == greet  # the other answer's change is kept

    late = await _approved(ws, "anonymity", 1, OTHER)
    await ws.schedule(late.id, "erik", Role.EDITOR, clock.now() + timedelta(hours=1))
    rival = await _approved(ws, "anonymity", 0, "Du är anonym här. Vi ser inte vem du är.")
    await ws.publish("erik", [rival.id])
    clock.advance(3600)
    [failed] = await ws.run_due()
    assert failed.schedule is not None and failed.schedule.state == FAILED
    assert "version 4" in failed.schedule.note
    assert await ws.run_due() == []


async def test_a_console_that_dies_after_claiming_leaves_the_step_to_another_after_the_lease(
    workspace: tuple[Workspace, AuditLog], redis: Redis, clock: FixedClock, settings: Settings
) -> None:
    """The process that claimed the publish dies before publishing (its claim stays in Redis): nobody
    touches it while the lease holds; then another console publishes it, exactly once."""
    ws, audit = workspace
    other, _ = _make(redis, clock, settings)
    draft = await _approved(ws, "anonymity", 2, NOTICE)
    await ws.schedule(draft.id, "erik", Role.EDITOR, clock.now() + timedelta(seconds=10))
    clock.advance(10)
    assert await ws.claim(await ws.get(draft.id)) == PUBLISHING  # ... and this process is killed here
    assert await other.run_due() == []
    clock.advance(CLAIM_LEASE.total_seconds() - 1)
    assert await other.run_due() == []
    assert [v.number for v in await ws.versions.history()] == [1]
    clock.advance(2)
    results = await asyncio.gather(other.run_due(), other.run_due())
    assert sum(len(r) for r in results) == 1
    assert [v.kind for v in await ws.versions.history()] == ["publish", "seed"]
    assert NOTICE in await _text(ws, "anonymity")
    done = await ws.get(draft.id)
    assert done.status == "published" and done.schedule is not None and done.schedule.state == DONE
    clock.advance(3600)
    assert await other.run_due() == [] and len(await ws.versions.history()) == 2
    actions = [e.action for e in await audit.entries() if e.file_id == draft.id]
    assert "content.schedule.resumed publishing" in actions


async def test_a_console_that_dies_after_publishing_is_not_published_twice(
    workspace: tuple[Workspace, AuditLog], redis: Redis, clock: FixedClock, settings: Settings
) -> None:
    """The process dies between publishing the version and recording it in the draft: the console that
    takes over finds the version in the history and finishes the record without a second publish; the
    time box then reverts once."""
    ws, _ = workspace
    other, _ = _make(redis, clock, settings)
    draft = await _approved(ws, "anonymity", 2, NOTICE)
    await ws.schedule(
        draft.id, "erik", Role.EDITOR, clock.now() + timedelta(seconds=10), clock.now() + timedelta(days=1)
    )
    clock.advance(10)
    claimed = await ws.get(draft.id)
    await ws.claim(claimed)
    version, current = await ws.published()
    snapshot = await ws.snapshot_of(claimed)
    # What _publish_drafts does for the schedule, up to the version; the process dies before the draft.
    await ws.versions.publish(
        current.with_answers({"anonymity": snapshot.answers["anonymity"]}),
        base=version.number,
        author="schedule (erik)",
        note=f"drafts {draft.id}; published by schedule (erik)",
    )
    clock.advance(CLAIM_LEASE.total_seconds() + 1)
    assert len(await other.run_due()) == 1
    assert [v.kind for v in await ws.versions.history()] == ["publish", "seed"]
    live = await ws.get(draft.id)
    assert live.published == 2 and live.schedule is not None and live.schedule.state == LIVE
    clock.advance(86400)
    # The revert: claimed, and the process dies again before reverting.
    await ws.claim(await ws.get(draft.id))
    assert await other.run_due() == []
    clock.advance(CLAIM_LEASE.total_seconds() + 1)
    assert len(await other.run_due()) == 1
    assert [v.kind for v in await ws.versions.history()] == ["revert", "publish", "seed"]
    assert NOTICE not in await _text(ws, "anonymity")
    assert await other.run_due() == []


# A console process that claims the due step and is killed with SIGKILL before anything else: a real
# process, so its connection and everything in its memory die with it; only what it wrote to Redis stays.
_CLAIM_AND_DIE = """
import asyncio, os, signal, sys
from datetime import datetime
from chatbot.clock import FixedClock
from chatbot.domain.content_versions import ContentVersions
from chatbot.store import client
from chatbot.store.content_versions import ContentVersionStore
from chatbot.store.audit import AuditLog
from console.domain.editing import Workspace
from console.store.drafts import DraftStore

async def main() -> None:
    clock = FixedClock(datetime.fromisoformat(sys.argv[2]))  # the test's clock, as every process it starts
    redis = client.connect(sys.argv[1])
    drafts = DraftStore(redis)
    ws = Workspace(drafts, ContentVersions(ContentVersionStore(redis, 86400), clock), AuditLog(redis, clock, 86400), clock)
    [draft_id] = await drafts.due(int(clock.now().timestamp() * 1000))
    print(await ws.claim(await ws.get(draft_id)), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


async def test_a_console_process_killed_after_its_claim_is_taken_over_once_the_lease_passes(
    redis: Redis, settings: Settings, clock: FixedClock
) -> None:
    ws, audit = _make(redis, clock, settings)
    await ws.versions.seed(Snapshot.from_repository(settings.content_dir, settings.locales_dir))
    draft = await _approved(ws, "anonymity", 2, NOTICE)
    await ws.schedule(draft.id, "erik", Role.EDITOR, clock.now() - timedelta(seconds=1))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CLAIM_AND_DIE,
        settings.redis_url,
        clock.now().isoformat(),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert process.returncode == -signal.SIGKILL and out.decode().strip() == PUBLISHING
    claimed = await ws.get(draft.id)
    assert claimed.schedule is not None and claimed.schedule.state == PUBLISHING
    # The next console: nothing while the dead process's lease holds, then the publish, exactly once.
    successor, _ = _make(redis, clock, settings)
    assert await successor.run_due() == []
    clock.set(clock.now() + CLAIM_LEASE + timedelta(seconds=1))
    results = await asyncio.gather(successor.run_due(), ws.run_due(), successor.run_due())
    assert sum(len(r) for r in results) == 1
    assert [v.kind for v in await ws.versions.history()] == ["publish", "seed"]
    assert NOTICE in await _text(ws, "anonymity")
    assert "content.schedule.resumed publishing" in [e.action for e in await audit.entries()]
