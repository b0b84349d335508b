"""Overruling the guideline gate in a draft (real Redis): a warning accepted with a reason is stored, audited and
exported into the bank as clean; a blocking violation cannot be accepted; a reported miss is exported as a
violation; and the bank reads the exported file, so the classifier stops warning about the accepted sentence."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.content.guidelines.findings import Level
from chatbot.content.wording_bank import BANK_DIR, OVERRULES, Classifier, load_bank
from chatbot.domain.content_versions import ContentVersions, Snapshot
from chatbot.settings import Settings
from chatbot.store.audit import AuditLog
from chatbot.store.content_versions import ContentVersionStore
from console.domain.accounts import Role
from console.domain.editing import Workspace
from console.domain.overrules import ACCEPTED, MISSED, OverruleRefused, Overrules, rule_findings, write_bank
from console.store import keys as console_keys
from console.store.drafts import DraftStore
from console.store.overrules import OverruleStore
from tests.conftest import ROOT

WARNED = "Tänk på vad du skickar."  # the classifier warns (blame); an editor finds it general advice
BLOCKING = "Du borde ha vetat."  # a pattern's violation (blame)
MISSED_PROMISE = "Vi hjälper dig alltid."  # the gate lets it pass; a reviewer reports a promise


@pytest.fixture
async def setup(redis: Redis, clock: FixedClock, settings: Settings) -> tuple[Workspace, Overrules, AuditLog]:
    versions = ContentVersions(ContentVersionStore(redis, settings.content_version_retention), clock)
    await versions.seed(Snapshot.from_repository(settings.content_dir, settings.locales_dir))
    audit = AuditLog(redis, clock, settings.audit_retention)
    workspace = Workspace(DraftStore(redis), versions, audit, clock)
    return workspace, Overrules(OverruleStore(redis), workspace, audit, clock), audit


async def _draft_with(workspace: Workspace, *bubbles: str) -> str:
    draft = await workspace.create("edith", ["anonymity"])
    edit = draft.edits["anonymity"]
    await workspace.save(
        draft.id, "edith", "anonymity", dataclasses.replace(edit, bubbles=(*edit.bubbles[:1], *bubbles))
    )
    return draft.id


def test_the_sentences_are_what_the_tests_say() -> None:
    assert [f.level for f in rule_findings(WARNED, "blame")] == [Level.WARNING]
    assert [f.level for f in rule_findings(BLOCKING, "blame")] == [Level.VIOLATION]
    assert rule_findings(MISSED_PROMISE, "promise") == []


async def test_an_accepted_warning_is_stored_audited_and_exported_as_clean(
    setup: tuple[Workspace, Overrules, AuditLog], redis: Redis, tmp_path: Path
) -> None:
    workspace, overrules, audit = setup
    draft_id = await _draft_with(workspace, WARNED)
    done = await overrules.accept(
        draft_id, "erik", Role.EDITOR, "anonymity", WARNED, "blame", "allmänt råd, inte om det som hänt"
    )
    assert done.kind == ACCEPTED and done.by == "erik" and done.label == "clean"
    assert [o.id for o in await overrules.of_draft(draft_id)] == [done.id]
    assert await overrules.of_draft("someother") == []
    ttl = await redis.ttl(console_keys.OVERRULES)
    assert 0 < ttl <= console_keys.OVERRULE_RETENTION
    actions = [e.action for e in await audit.entries() if e.file_id == draft_id]
    assert f"content.overrule.accepted blame {done.id}" in actions
    out = tmp_path / OVERRULES
    assert write_bank(await overrules.all(), out) == 1
    assert write_bank(await overrules.all(), out) == 0  # merged by id: exporting twice adds nothing
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    [entry] = data["sv"]["blame"]["clean"]
    assert entry["sentence"] == WARNED and entry["reason"] == "allmänt råd, inte om det som hänt"
    assert entry["by"] == "erik (editor)" and entry["id"] == done.id


async def test_a_blocking_violation_cannot_be_accepted_and_publishing_stays_refused(
    setup: tuple[Workspace, Overrules, AuditLog],
) -> None:
    workspace, overrules, audit = setup
    draft_id = await _draft_with(workspace, BLOCKING)
    with pytest.raises(OverruleRefused) as refused:
        await overrules.accept(draft_id, "sara", Role.SUPERVISOR, "anonymity", BLOCKING, "blame", "det är ok")
    assert refused.value.code == "blocking"
    assert await overrules.all() == []
    assert "content.overrule.refused blame" in [e.action for e in await audit.entries()]
    assert not (await workspace.check(await workspace.get(draft_id))).ok


async def test_refusals_without_a_warning_reason_role_or_sentence(
    setup: tuple[Workspace, Overrules, AuditLog],
) -> None:
    workspace, overrules, _ = setup
    draft_id = await _draft_with(workspace, WARNED, MISSED_PROMISE)
    cases = [
        ("no_warning", Role.EDITOR, MISSED_PROMISE, "promise", "skäl"),
        ("reason", Role.EDITOR, WARNED, "blame", "  "),
        ("role", Role.COUNSELLOR, WARNED, "blame", "skäl"),
        ("not_in_draft", Role.EDITOR, "Något annat.", "blame", "skäl"),
        ("unknown_rule", Role.EDITOR, WARNED, "readability", "skäl"),
    ]
    for code, role, sentence, rule, reason in cases:
        with pytest.raises(OverruleRefused) as refused:
            await overrules.accept(draft_id, "erik", role, "anonymity", sentence, rule, reason)
        assert refused.value.code == code
    confirmed = await overrules.report(draft_id, "erik", Role.EDITOR, "anonymity", WARNED, "blame", "skuld")
    assert confirmed.kind == MISSED  # a warning a reviewer confirms as a violation is kept as one
    draft_blocking = await _draft_with(workspace, BLOCKING)
    with pytest.raises(OverruleRefused) as already:
        await overrules.report(draft_blocking, "erik", Role.EDITOR, "anonymity", BLOCKING, "blame", "x")
    assert already.value.code == "flagged"


async def test_a_reported_miss_is_exported_as_a_violation_and_the_bank_reads_both(
    setup: tuple[Workspace, Overrules, AuditLog], tmp_path: Path
) -> None:
    workspace, overrules, audit = setup
    draft_id = await _draft_with(workspace, WARNED, MISSED_PROMISE)
    miss = await overrules.report(
        draft_id, "erik", Role.EDITOR, "anonymity", MISSED_PROMISE, "promise", "lovar hjälp som alltid finns"
    )
    await overrules.accept(draft_id, "erik", Role.EDITOR, "anonymity", WARNED, "blame", "allmänt råd")
    assert f"content.overrule.missed promise {miss.id}" in [e.action for e in await audit.entries()]
    for name in ("answers.yml", "blame.yml", "personal_data.yml", "promise.yml"):
        shutil.copy(BANK_DIR / name, tmp_path / name)
    assert write_bank(await overrules.all(), tmp_path / OVERRULES) == 2
    data = yaml.safe_load((tmp_path / OVERRULES).read_text(encoding="utf-8"))
    assert [e["sentence"] for e in data["sv"]["promise"]["violations"]] == [MISSED_PROMISE]
    bank = load_bank(tmp_path, training=())
    assert MISSED_PROMISE in bank.examples("promise", "sv").violations
    assert WARNED in bank.examples("blame", "sv").clean
    assert MISSED_PROMISE not in load_bank(BANK_DIR, training=()).examples("promise", "sv").violations
    # The classifier trained on the grown bank no longer warns about the sentence a person accepted.
    assert "blame" not in {s.rule for s in Classifier(bank, ("sv",)).suspect(WARNED, "sv")}


async def test_the_cli_merges_the_stored_overrules_into_the_bank_file(
    setup: tuple[Workspace, Overrules, AuditLog], settings: Settings, tmp_path: Path
) -> None:
    workspace, overrules, _ = setup
    draft_id = await _draft_with(workspace, WARNED, MISSED_PROMISE)
    await overrules.accept(draft_id, "erik", Role.EDITOR, "anonymity", WARNED, "blame", "allmänt råd")
    await overrules.report(draft_id, "sara", Role.SUPERVISOR, "anonymity", MISSED_PROMISE, "promise", "löfte")
    out = tmp_path / OVERRULES
    code, printed = await _cli(settings, "console", "content-overrules", "--out", str(out))
    assert code == 0, printed
    assert "2 new overrule(s)" in printed
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["sv"]["blame"]["clean"][0]["by"] == "erik (editor)"
    assert data["sv"]["promise"]["violations"][0]["by"] == "sara (supervisor)"
    code, printed = await _cli(settings, "console", "content-overrules", "--out", str(out))
    assert code == 0 and "0 new overrule(s)" in printed, printed


async def _cli(settings: Settings, *argv: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *argv,
        cwd=ROOT,
        env={**os.environ, "REDIS_URL": settings.redis_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    printed, _ = await process.communicate()
    return process.returncode or 0, printed.decode()
