"""Editors create and remove answers in drafts (real Redis, real content): a new answer reached by a button
of another answer in the same draft, a new canned reply, and removals refused while the dialogue, an intent
or another answer's button leads to the answer; everything through the same gate, review and publish."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.domain.content_versions import ContentVersions, Snapshot
from chatbot.settings import Settings
from chatbot.store.audit import AuditLog
from chatbot.store.content_versions import ContentVersionStore
from console.domain.accounts import Role
from console.domain.editing import AnswerEdit, ButtonEdit, EditingError, Workspace
from console.store.drafts import DraftStore

NEW = "Det händer också i spel och i chattar. Den vuxne har ansvaret, inte du."


@pytest.fixture
async def ws(redis: Redis, clock: FixedClock, settings: Settings) -> Workspace:
    versions = ContentVersions(ContentVersionStore(redis, settings.content_version_retention), clock)
    workspace = Workspace(
        DraftStore(redis), versions, AuditLog(redis, clock, settings.audit_retention), clock
    )
    await versions.seed(Snapshot.from_repository(settings.content_dir, settings.locales_dir))
    return workspace


async def _publish(ws: Workspace, draft_id: str) -> int:
    await ws.submit(draft_id, "edith")
    await ws.approve(draft_id, "erik", Role.EDITOR)
    return (await ws.publish("erik", [draft_id])).number


async def test_a_new_answer_reached_by_a_button_publishes_through_the_gate_and_review(ws: Workspace) -> None:
    draft = await ws.new_answer("edith", "grooming_games", "answer", None, NEW)
    assert draft.new["grooming_games"].kind == "answer"
    # Alone it is unreachable and offers no person: the gate says so, and it cannot be submitted.
    result = await ws.check(draft)
    assert not result.ok
    rules = {f.rule for a in result.answers for f in a.other} | {f.rule for f in result.library_findings}
    assert {"person", "links"} <= rules
    with pytest.raises(EditingError) as failing:
        await ws.submit(draft.id, "edith")
    assert failing.value.code == "check_failed"
    await _link_games(ws, draft.id)
    checked = await ws.check(await ws.get(draft.id))
    assert checked.ok, checked.violations
    number = await _publish(ws, draft.id)
    _version, snapshot = await ws.published()
    library = snapshot.library(version=number)
    assert library.get("grooming_games").bubbles == (NEW,)
    assert "grooming_games" in [b.name for b in library.get("grooming").buttons]
    assert snapshot.answers["grooming_games"].startswith("id: grooming_games\n")


async def test_a_new_canned_reply_and_its_removal(ws: Workspace) -> None:
    draft = await ws.new_answer(
        "edith", "canned_breathe", "canned", None, "Ta den tid du behöver. Jag är kvar."
    )
    number = await _publish(ws, draft.id)
    _version, snapshot = await ws.published()
    assert snapshot.library(version=number).get("canned_breathe").kind == "canned"
    removal = await ws.delete_answer("edith", "canned_breathe")
    assert removal.deleted == ["canned_breathe"]
    await _publish(ws, removal.id)
    _version, snapshot = await ws.published()
    assert "canned_breathe" not in snapshot.answers


async def test_removal_is_refused_while_something_leads_to_the_answer(ws: Workspace) -> None:
    cases = {
        "welcome": ("referenced_dialogue", "welcome"),
        "transcript_consent_yes": ("referenced_dialogue", "transcript_consent_yes"),
        "counsellor_joined": ("referenced_dialogue", "counsellor_joined"),
        "sextortion": ("referenced_intent", "sextortion"),
        "grooming_signs": ("referenced_buttons", "grooming"),
    }
    for answer_id, (code, detail) in cases.items():
        with pytest.raises(EditingError) as refused:
            await ws.delete_answer("edith", answer_id)
        assert (refused.value.code, refused.value.message) == (code, detail), answer_id
    assert await ws.drafts() == []
    # Once the only button leading to it is changed in the same draft, the removal is accepted.
    draft = await ws.create("edith", ["grooming"])
    grooming = draft.edits["grooming"]
    kept = tuple(b for b in grooming.buttons if b.target != "grooming_signs")
    await ws.save(draft.id, "edith", "grooming", dataclasses.replace(grooming, buttons=kept))
    draft = await ws.delete_answer("edith", "grooming_signs", draft.id)
    assert draft.deleted == ["grooming_signs"]
    await _publish(ws, draft.id)
    _version, snapshot = await ws.published()
    assert "grooming_signs" not in snapshot.answers


async def test_a_new_answer_is_refused_a_taken_name_a_bad_name_or_a_taken_intent(ws: Workspace) -> None:
    for answer_id, kind, intent, code in (
        ("grooming", "answer", None, "exists"),
        ("Grooming Games", "answer", None, "bad_id"),
        ("crisis_closed", "answer", None, "exists"),
        ("leave_queue", "answer", None, "exists"),
        ("new_thing", "notice", None, "bad_kind"),
        ("new_thing", "canned", "grooming", "bad_intent"),
        ("new_thing", "answer", "grooming", "intent_taken"),
    ):
        with pytest.raises(EditingError) as refused:
            await ws.new_answer("edith", answer_id, kind, intent, NEW)
        assert refused.value.code == code, answer_id


async def _link_games(ws: Workspace, draft_id: str) -> None:
    """The new grooming_games gets its text and a way to a person; grooming gets a button to it."""
    await ws.save(
        draft_id,
        "edith",
        "grooming_games",
        AnswerEdit((NEW,), (ButtonEdit("Prata med en människa", "intent", "ask_human"),)),
    )
    draft = await ws.add_answer(draft_id, "edith", "grooming")
    grooming = draft.edits["grooming"]
    buttons = (*grooming.buttons, ButtonEdit("I spel och chattar", "goto", "grooming_games"))
    await ws.save(draft_id, "edith", "grooming", dataclasses.replace(grooming, buttons=buttons))


async def _games_draft(ws: Workspace) -> str:
    draft = await ws.new_answer("edith", "grooming_games", "answer", None, NEW)
    await _link_games(ws, draft.id)
    await ws.submit(draft.id, "edith")
    await ws.approve(draft.id, "erik", Role.EDITOR)
    return draft.id


async def test_a_time_boxed_new_answer_goes_again_unless_something_still_leads_to_it(
    ws: Workspace, clock: FixedClock
) -> None:
    draft_id = await _games_draft(ws)
    await ws.schedule(draft_id, "erik", Role.EDITOR, clock.now(), clock.now() + timedelta(hours=1))
    assert len(await ws.run_due()) == 1
    assert "grooming_games" in (await ws.published())[1].answers
    clock.advance(3600)
    assert len(await ws.run_due()) == 1
    _version, snapshot = await ws.published()
    assert "grooming_games" not in snapshot.answers and "grooming_games" not in snapshot.answers["grooming"]

    # Again, but grooming is changed by someone else meanwhile (its button to the new answer kept): the
    # revert skips grooming, so the new answer it leads to stays too.
    draft_id = await _games_draft(ws)
    await ws.schedule(draft_id, "erik", Role.EDITOR, clock.now(), clock.now() + timedelta(hours=1))
    await ws.run_due()
    other = await ws.create("edith", ["grooming"])
    grooming = other.edits["grooming"]
    bubbles = (*grooming.bubbles[:-1], "Du behöver inte svara. Du får blockera personen.")
    await ws.save(other.id, "edith", "grooming", dataclasses.replace(grooming, bubbles=bubbles))
    await ws.submit(other.id, "edith")
    await ws.approve(other.id, "erik", Role.EDITOR)
    await ws.publish("erik", [other.id])
    clock.advance(3600)
    await ws.run_due()
    draft = await ws.get(draft_id)
    assert draft.schedule is not None and set(draft.schedule.skipped) == {"grooming", "grooming_games"}
    _version, snapshot = await ws.published()
    assert "grooming_games" in snapshot.answers and "grooming_games" in snapshot.answers["grooming"]
