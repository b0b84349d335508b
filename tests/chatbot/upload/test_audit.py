"""The audit log (chatbot/store/audit.py) as the upload services write it: its hash chain, its per-case index, and trimming it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from chatbot.settings import Settings
from chatbot.store import audit, keys
from chatbot.store.audit import AuditBroken, AuditEntry
from tests.chatbot.upload.helpers import (
    Services,
)

# Every test here runs on one Redis and on a Redis Cluster of three primaries (tests/cluster.py).
pytestmark = pytest.mark.cluster


async def test_audit_chain_detects_a_removed_entry(svc: Services, redis: Redis) -> None:
    for i in range(4):
        await svc.audit.append(f"analyst-{i}", "file.viewed", case_id="c", file_id="f")
    assert await svc.audit.verify() == 4
    second = (await svc.audit.entries())[1]
    await redis.xdel(keys.AUDIT, second.id)
    with pytest.raises(AuditBroken):
        await svc.audit.verify()


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
