"""Scheduled and time-boxed publishing over HTTP (real console, real Redis, the injected clock): the form
takes Stockholm time and stores UTC; the server refuses an unapproved draft; the console's tick publishes
and later reverts; the draft page and the history show it; cancelling."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from chatbot.domain.content_versions import ContentVersions
from chatbot.store.content_versions import ContentVersionStore
from console.appkeys import LIVE
from tests.console.test_content_pages import FIXED, JSON, _form, _signed_in


async def _approved(edith: Any, erik: Any) -> str:
    where = await edith.redirected("/content/drafts", {"answer": "anonymity"})
    draft_id = where.rsplit("/", 1)[1]
    _, page = await edith.get(where)
    fields = _form(page)
    fields["bubble1"] = FIXED
    await edith.post(f"/content/drafts/{draft_id}/save", {**fields, "answer": "anonymity"})
    await edith.post(f"/content/drafts/{draft_id}/submit")
    return draft_id


async def _ticked_until(live: Any, versions: ContentVersions, number: int) -> None:
    """Tick until version `number` is current. The console's own ticker runs beside the test: when it has
    claimed the due step, the test's tick finds the claim held and leaves the step to it."""
    for _ in range(200):
        await live.tick()
        if await versions.current_number() == number:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"version {number} was never published by the tick")


async def test_schedule_in_stockholm_time_the_tick_publishes_and_reverts_and_pages_show_it(
    console: Any, make_account: Any, staff_factory: Any, redis: Redis, clock: Any, settings: Any
) -> None:
    edith = await _signed_in(make_account, staff_factory, "edith", "editor")
    erik = await _signed_in(make_account, staff_factory, "erik", "editor")
    draft_id = await _approved(edith, erik)
    # Not approved yet: refused on the server.
    status, body = await edith.post(
        f"/content/drafts/{draft_id}/schedule", {"at": "2030-12-24T08:00"}, headers=JSON
    )
    assert status == 409 and "not_approved" in body
    await erik.post(f"/content/drafts/{draft_id}/approve")
    _, page = await erik.get(f"/content/drafts/{draft_id}")
    assert 'action="/content/drafts/' + draft_id + '/schedule"' in page

    now = clock.now()
    # Stockholm wall time in the form: an hour from now, reverting a day later (UTC+1 in winter, +2 summer).
    from chatbot.domain.hours import STOCKHOLM

    start = (now.astimezone(STOCKHOLM).replace(second=0, microsecond=0)).replace(tzinfo=None)
    at, until = start + timedelta(minutes=5), start + timedelta(minutes=10)
    status, body = await erik.post(
        f"/content/drafts/{draft_id}/schedule",
        {"at": at.strftime("%Y-%m-%dT%H:%M"), "until": until.strftime("%Y-%m-%dT%H:%M")},
        headers=JSON,
    )
    assert status == 200, body
    stored_at = datetime.fromisoformat(body.split('"at": "')[1].split('"')[0])
    assert stored_at == at.replace(tzinfo=STOCKHOLM).astimezone(UTC)
    assert stored_at.utcoffset() is not None and stored_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    _, page = await erik.get(f"/content/drafts/{draft_id}")
    assert 'id="schedule-state">waiting to publish' in page and at.strftime("%Y-%m-%d %H:%M") in page
    # A schedule waits: publishing it by hand is refused.
    status, body = await erik.post(f"/content/drafts/{draft_id}/publish", headers=JSON)
    assert status == 409 and "scheduled" in body

    versions = ContentVersions(ContentVersionStore(redis, settings.content_version_retention), clock)
    live = console.app[LIVE]
    await live.tick()
    assert await versions.current_number() == 1
    clock.advance((stored_at - clock.now()).total_seconds())
    await _ticked_until(live, versions, 2)
    _, history = await erik.get("/content/history")
    assert f'id="schedule-{draft_id}"' in history and "published, reverts at the end" in history

    clock.advance((until.replace(tzinfo=STOCKHOLM) - clock.now()).total_seconds())
    await _ticked_until(live, versions, 3)
    version, snapshot = await versions.current()  # type: ignore[misc]
    assert version.number == 3 and version.kind == "revert" and FIXED not in snapshot.answers["anonymity"]
    _, page = await erik.get(f"/content/drafts/{draft_id}")
    assert 'id="schedule-state">done' in page and "Reverted as version 3." in page


async def test_a_waiting_schedule_is_cancelled(
    console: Any, make_account: Any, staff_factory: Any, clock: Any
) -> None:
    edith = await _signed_in(make_account, staff_factory, "edith", "editor")
    erik = await _signed_in(make_account, staff_factory, "erik", "editor")
    draft_id = await _approved(edith, erik)
    await erik.post(f"/content/drafts/{draft_id}/approve")
    status, body = await erik.post(
        f"/content/drafts/{draft_id}/schedule",
        {"at": "2099-01-02T00:00", "until": "2099-01-01T00:00"},
        headers=JSON,
    )
    assert status == 422 and "bad_time" in body
    await erik.post(f"/content/drafts/{draft_id}/schedule", {"at": "2099-01-01T00:00"})
    status, body = await erik.post(f"/content/drafts/{draft_id}/cancel_schedule", headers=JSON)
    assert status == 200 and '"cancelled"' in body
    counsellor = await _signed_in(make_account, staff_factory, "cora", "counsellor")
    assert (await counsellor.post(f"/content/drafts/{draft_id}/schedule", {"at": "2099-01-01T00:00"}))[
        0
    ] == 403
