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

    bad = {"weekly": "mon-fri 16:00-09:00", "exceptions": "2026-12-23 10:00-13:00"}
    status, page = await sam.post("/overview/hours", bad)
    assert await redis.exists(chat_keys.HOURS) == 0
    # The page again: what was typed stays in the fields, and what is wrong is named.
    said = html.unescape(page.split('id="hours-error">', 1)[1].split("</p>", 1)[0])
    assert status == 422 and said == (
        "Those opening hours could not be read: 'mon-fri 16:00-09:00': 16:00-09:00 ends before it starts"
    )
    assert 'name="weekly" value="mon-fri 16:00-09:00"' in page
    assert 'name="exceptions" value="2026-12-23 10:00-13:00"' in page

    # Closed on Tuesdays from now on: the console's sweep uses the new hours at once.
    hours = {"weekly": "mon 09:00-16:00; wed-fri 09:00-16:00", "exceptions": "2026-12-23 10:00-13:00"}
    assert (await sam.post("/overview/hours", hours))[0] == 303
    assert 0 < await redis.ttl(chat_keys.HOURS) <= HOURS_RETENTION
    status, page = await sam.get("/overview")
    assert "The line is <strong>closed</strong>" in page and "wed-fri 09:00-16:00" in page
    assert (await anna.post("/overview/hours", hours))[0] == 403


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
