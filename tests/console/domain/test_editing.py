"""The editors' workspace in the domain: the gate beside the bubble, two-person review, the supervisor's
sign-off for safety-critical answers, publishing, stale drafts, rollback and the audit (real Redis)."""

from __future__ import annotations

import dataclasses

import pytest
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.content.guidelines.findings import Level
from chatbot.domain.content_versions import ContentVersions, Snapshot
from chatbot.settings import Settings
from chatbot.store.audit import AuditLog
from chatbot.store.content_versions import ContentVersionStore
from console.domain.accounts import Role
from console.domain.editing import (
    APPROVED,
    SUBMITTED,
    AnswerEdit,
    EditingError,
    Workspace,
    render_answer,
)
from console.store import keys as console_keys
from console.store.drafts import DraftStore

# Every test here runs on one Redis and on a Redis Cluster of three primaries (tests/cluster.py).
pytestmark = pytest.mark.cluster

PROMISE = "Vi raderar bilden åt dig."
FIXED = "Vi försöker få bort bilden tillsammans med dig."


@pytest.fixture
async def workspace(redis: Redis, clock: FixedClock, settings: Settings) -> tuple[Workspace, AuditLog]:
    versions = ContentVersions(ContentVersionStore(redis, settings.content_version_retention), clock)
    await versions.seed(Snapshot.from_repository(settings.content_dir, settings.locales_dir))
    audit = AuditLog(redis, clock, settings.audit_retention)
    return Workspace(DraftStore(redis), versions, audit, clock), audit


def _with_bubble(edit: AnswerEdit, index: int, text: str) -> AnswerEdit:
    bubbles = list(edit.bubbles)
    bubbles[index] = text
    return dataclasses.replace(edit, bubbles=tuple(bubbles))


async def test_a_violation_is_shown_beside_its_bubble_and_blocks_submitting_until_fixed(
    workspace: tuple[Workspace, AuditLog],
) -> None:
    ws, _ = workspace
    draft = await ws.create("edith", ["anonymity"])
    bad = _with_bubble(draft.edits["anonymity"], 1, PROMISE)
    draft = await ws.save(draft.id, "edith", "anonymity", bad)
    result = await ws.check(draft)
    assert not result.ok
    [answer] = result.answers
    assert [f.rule for f in answer.bubbles[1].findings if f.level is Level.VIOLATION] == ["promise"]
    assert not any(f.level is Level.VIOLATION for f in answer.bubbles[0].findings)
    with pytest.raises(EditingError) as refused:
        await ws.submit(draft.id, "edith")
    assert refused.value.code == "check_failed" and "promise" in refused.value.message
    draft = await ws.save(draft.id, "edith", "anonymity", _with_bubble(bad, 1, FIXED))
    assert (await ws.check(draft)).ok
    assert (await ws.submit(draft.id, "edith")).status == SUBMITTED


async def test_the_author_cannot_approve_and_a_second_editor_publishes_one_version(
    workspace: tuple[Workspace, AuditLog],
) -> None:
    ws, audit = workspace
    draft = await ws.create("edith", ["anonymity"])
    await ws.save(draft.id, "edith", "anonymity", _with_bubble(draft.edits["anonymity"], 1, FIXED))
    await ws.submit(draft.id, "edith")
    with pytest.raises(EditingError) as own:
        await ws.approve(draft.id, "edith", Role.EDITOR)
    assert own.value.code == "own_draft"
    approved = await ws.approve(draft.id, "erik", Role.EDITOR)
    assert approved.status == APPROVED and not approved.safety
    version = await ws.publish("erik")
    assert version.number == 2 and version.author == "edith" and version.reviewers == ("erik",)
    assert version.changed == ("anonymity",)
    _, snapshot = await ws.published()
    assert FIXED in snapshot.answers["anonymity"]
    actions = [e.action for e in await audit.entries()]
    for action in (
        "content.draft.created",
        "content.draft.saved anonymity",
        "content.draft.submitted",
        "content.draft.approved.content",
        "content.publish",
    ):
        assert action in actions


async def test_a_safety_critical_change_needs_a_supervisor_too(workspace: tuple[Workspace, AuditLog]) -> None:
    ws, _ = workspace
    draft = await ws.create("edith", ["crisis"])
    edit = _with_bubble(draft.edits["crisis"], 1, "Det är bra att du skriver till oss.")
    draft = await ws.save(draft.id, "edith", "crisis", edit)
    assert draft.safety
    await ws.submit(draft.id, "edith")
    after_editor = await ws.approve(draft.id, "erik", Role.EDITOR)
    assert after_editor.status == SUBMITTED and after_editor.content_approved
    with pytest.raises(EditingError) as needs:
        await ws.approve(draft.id, "eva", Role.EDITOR)
    assert needs.value.code == "supervisor"
    with pytest.raises(EditingError):
        await ws.publish("erik")
    done = await ws.approve(draft.id, "sara", Role.SUPERVISOR)
    assert done.status == APPROVED and done.reviewers == ("erik", "sara")
    assert (await ws.publish("sara")).reviewers == ("erik", "sara")


async def test_an_answer_with_an_emergency_number_is_safety_critical(
    workspace: tuple[Workspace, AuditLog],
) -> None:
    ws, _ = workspace
    draft = await ws.create("edith", ["anonymity"])
    draft = await ws.save(
        draft.id, "edith", "anonymity", _with_bubble(draft.edits["anonymity"], 2, "Ring 112 om du är i fara.")
    )
    assert draft.safety


async def test_a_stale_draft_is_refused_with_a_clear_message(workspace: tuple[Workspace, AuditLog]) -> None:
    ws, _ = workspace
    first = await ws.create("edith", ["anonymity"])
    second = await ws.create("erik", ["anonymity"])
    await ws.save(first.id, "edith", "anonymity", _with_bubble(first.edits["anonymity"], 1, FIXED))
    await ws.submit(first.id, "edith")
    await ws.approve(first.id, "erik", Role.EDITOR)
    await ws.publish("erik")
    await ws.save(second.id, "erik", "anonymity", _with_bubble(second.edits["anonymity"], 0, "Du är anonym."))
    with pytest.raises(EditingError) as stale:
        await ws.submit(second.id, "erik")
    assert stale.value.code == "stale"
    assert "version 2 was published after this change was started from version 1" in stale.value.message


async def test_publishing_reruns_the_gate_whatever_the_draft_says(
    workspace: tuple[Workspace, AuditLog], redis: Redis
) -> None:
    ws, _ = workspace
    draft = await ws.create("edith", ["anonymity"])
    # A draft forged straight into Redis as approved, with a violation in it: the server still refuses.
    forged = dataclasses.replace(
        draft,
        status=APPROVED,
        edits={"anonymity": _with_bubble(draft.edits["anonymity"], 1, PROMISE)},
    )
    await redis.set(console_keys.draft(draft.id), forged.to_json())
    with pytest.raises(EditingError) as refused:
        await ws.publish("erik")
    assert refused.value.code == "check_failed"
    assert (await ws.published())[0].number == 1


async def test_buttons_cannot_dangle(workspace: tuple[Workspace, AuditLog]) -> None:
    ws, _ = workspace
    draft = await ws.create("edith", ["anonymity"])
    edit = draft.edits["anonymity"]
    broken = dataclasses.replace(
        edit, buttons=(dataclasses.replace(edit.buttons[0], target="no_such_answer"), *edit.buttons[1:])
    )
    with pytest.raises(EditingError) as dangling:
        await ws.save(draft.id, "edith", "anonymity", broken)
    assert dangling.value.code == "dangling"


async def test_a_supervisor_rolls_back_at_once_and_an_editor_cannot(
    workspace: tuple[Workspace, AuditLog],
) -> None:
    ws, audit = workspace
    draft = await ws.create("edith", ["anonymity"])
    await ws.save(draft.id, "edith", "anonymity", _with_bubble(draft.edits["anonymity"], 1, FIXED))
    await ws.submit(draft.id, "edith")
    await ws.approve(draft.id, "erik", Role.EDITOR)
    await ws.publish("erik")
    with pytest.raises(EditingError):
        await ws.rollback("erik", Role.EDITOR, 1)
    version = await ws.rollback("sara", Role.SUPERVISOR, 1)
    assert version.number == 3 and version.kind == "rollback"
    _, snapshot = await ws.published()
    assert FIXED not in snapshot.answers["anonymity"]
    assert "content.rollback.to.1" in [e.action for e in await audit.entries()]


async def test_render_keeps_the_answer_as_it_was(settings: Settings) -> None:
    snapshot = Snapshot.from_repository(settings.content_dir, settings.locales_dir)
    library = snapshot.library()
    from console.domain.editing import answer_edit

    for answer_id, text in snapshot.answers.items():
        again = Snapshot({answer_id: render_answer(text, answer_edit(library.get(answer_id)))}).library()
        before, after = library.get(answer_id), again.get(answer_id)
        assert (before.bubbles, before.buttons, before.intent, before.kind, before.placeholders) == (
            after.bubbles,
            after.buttons,
            after.intent,
            after.kind,
            after.placeholders,
        )
        assert render_answer(text, answer_edit(before)).startswith(text.split("\n", 1)[0])
