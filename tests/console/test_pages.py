"""Supervisor pages over HTTP against the real app: overview, opening hours, statistics export."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from chatbot.store import keys as chat_keys
from chatbot.store.hours import HOURS_RETENTION
from console.store import keys
from tests.console.conftest import Console, StaffClient


async def signed_in(make_account: Any, staff_factory: Any, name: str, role: str) -> StaffClient:
    creds = await make_account(name, role)
    client: StaffClient = staff_factory()
    assert await client.login(creds) == 303
    return client


async def test_supervisor_sees_who_is_on_shift_and_edits_opening_hours(
    console: Console, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    anna = await signed_in(make_account, staff_factory, "anna", "counsellor")
    await anna.post("/me/status", {"status": "available", "capacity": "3", "display": "Anna"})
    sam = await signed_in(make_account, staff_factory, "sam", "supervisor")
    status, page = await sam.get("/overview")
    assert status == 200 and "<td>anna</td><td>available</td><td>0/3</td>" in page
    assert "The line is <strong>open</strong>" in page

    # The grid shows the settings' hours (mon-fri 09:00-16:00); the next 14 days as children are told.
    assert 'name="d0-s0-from" value="09:00"' in page and 'name="d5-closed" value="1" checked' in page
    assert '<th scope="row">today, Tuesday 24 November</th><td>open 09:00–16:00</td>' in page

    # Tuesdays closed, Thursday's second time ends before it starts, an exception without a date.
    form = week(**{"d1-closed": "1", "d3-s1-from": "17:00", "d3-s1-to": "15:00", "x0-s0-from": "10:00"})
    form |= {"x0-s0-to": "13:00", "x1-date": "2026-12-23", "x1-closed": "1"}
    status, page = await sam.post("/overview/hours", form)
    assert status == 422 and await redis.exists(chat_keys.HOURS) == 0
    # The page again: exactly what was typed, each wrong field marked and said what is wrong beside it.
    assert 'name="d1-closed" value="1" checked' in page
    assert (
        'id="hours-d3-s1-to" name="d3-s1-to" value="15:00" aria-invalid="true" '
        'aria-describedby="hours-d3-s1-to-error"'
    ) in page
    said = html.unescape(page.split('id="hours-d3-s1-to-error">', 1)[1].split("</span>", 1)[0])
    assert said == "The time must end after it starts (17:00–15:00)."
    assert 'id="hours-x0-date" name="x0-date" value="" aria-invalid="true"' in page
    assert 'id="hours-x0-date-error">Give the date.</span>' in page
    assert 'name="x0-s0-from" value="10:00"' in page and 'name="x1-date" value="2026-12-23"' in page
    assert '<a href="#hours-d3-s1-to">' in page  # the summary at the top links to the field

    # Fixed: saved as the text the gateway reads, audited, and the sweep uses the new hours at once.
    form |= {"d3-s1-to": "19:00", "x0-date": "2026-11-25", "x2-date": "2025-12-01", "x2-closed": "1"}
    assert await sam.redirected("/overview/hours", form) == "/overview?msg=saved_past#opening-hours"
    assert await redis.hgetall(chat_keys.HOURS) == {  # type: ignore[misc]
        b"weekly": b"mon 09:00-16:00; wed 09:00-16:00; thu 09:00-16:00, 17:00-19:00; fri 09:00-16:00",
        b"exceptions": b"2026-11-25 10:00-13:00; 2026-12-23 closed",
    }
    assert 0 < await redis.ttl(chat_keys.HOURS) <= HOURS_RETENTION
    assert [(e.actor, e.action) for e in await console.audit.entries()] == [("sam", "hours.changed")]
    status, page = await sam.get("/overview?msg=saved_past")
    assert "The line is <strong>closed</strong>" in page
    assert "Dated exceptions for days that have passed were left out" in page
    assert 'name="d1-closed" value="1" checked' in page and 'name="d3-s1-to" value="19:00"' in page
    assert "<td>closed</td>" in page  # today, Tuesday
    assert '<td>open 10:00–13:00 <span class="muted">(dated exception)</span></td>' in page
    assert (await anna.post("/overview/hours", form))[0] == 403
    assert len(await console.audit.entries()) == 1


def week(**changes: str) -> dict[str, str]:
    """The hours form as a browser posts it for mon-fri 09:00-16:00, with `changes`."""
    fields = {f"d{i}-s0-from": "09:00" for i in range(5)} | {f"d{i}-s0-to": "16:00" for i in range(5)}
    return fields | {"d5-closed": "1", "d6-closed": "1", "x0-date": ""} | changes


async def test_saved_hours_that_cannot_be_read_are_named_in_the_readers_language(
    make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    await redis.hset(chat_keys.HOURS, mapping={"weekly": "mon 16:00-09:00", "exceptions": ""})
    sam = await signed_in(make_account, staff_factory, "sam", "supervisor")
    _, page = await sam.get("/overview")
    assert "The saved opening hours cannot be read (a time that ends before it starts)" in page
    assert 'name="d0-s0-from" value="09:00"' in page  # the settings' hours, which apply
    siv = await signed_in(make_account, staff_factory, "siv", "supervisor")
    await siv.redirected("/me/language", {"language": "sv"})
    _, page = await siv.get("/overview")
    assert "De sparade öppettiderna går inte att läsa" in page


async def test_statistics_csv_has_a_row_per_day_and_no_conversation(
    console: Console, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    analyst = await signed_in(make_account, staff_factory, "alva", "analyst")
    day = datetime(2026, 11, 24, tzinfo=UTC).date().isoformat()
    await redis.hset(
        keys.stats_day(day), mapping={"contacts": 6, "queued": 4, "handed_off": 3, "topic:grooming": 2}
    )
    async with analyst.http.get("/stats.csv?period=week") as response:
        assert response.status == 200
        assert response.headers["Content-Disposition"] == 'attachment; filename="statistics.csv"'
        rows = (await response.text()).strip().splitlines()
    header = rows[0].split(",")
    assert len(rows) == 8  # header and seven days
    last = dict(zip(header, rows[-1].split(","), strict=True))
    assert last["day"] == day and last["contacts"] == "6" and last["queued"] == "4"
    assert last["topic:grooming"] == "2"
    status, page = await analyst.get("/stats?period=day")
    assert status == 200 and "<td>50%</td>" in page  # share handed off: hand-offs per contact
    assert '<td id="contacts-per-day">6.0</td>' in page
    status, page = await analyst.get("/stats?period=week")
    assert '<td id="contacts-per-day">0.9</td>' in page  # six contacts in seven days
    assert (await analyst.get("/queue"))[0] == 403
