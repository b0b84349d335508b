"""The gateway's view of opening hours a supervisor edited: refreshed on a schedule, never trusted blindly."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from chatbot.domain.edited_hours import HoursSource
from chatbot.domain.hours import OpeningHours
from chatbot.store import keys
from chatbot.store.hours import HoursStore

# Every test here runs on one Redis and on a Redis Cluster of three primaries (tests/cluster.py).
pytestmark = pytest.mark.cluster

TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
SETTINGS_HOURS = OpeningHours.parse("mon-fri 09:00-16:00")


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_settings_apply_until_a_supervisor_edits(redis: Redis) -> None:
    ticker = Ticker()
    source = HoursSource(HoursStore(redis), SETTINGS_HOURS, refresh=15, monotonic=ticker)
    assert (await source.current()).is_open(TUESDAY_10)

    await redis.hset(keys.HOURS, mapping={"weekly": "sat 10:00-12:00", "exceptions": ""})
    ticker.now += 5
    assert (await source.current()).is_open(TUESDAY_10)  # not re-read yet
    ticker.now += 10
    assert not (await source.current()).is_open(TUESDAY_10)
    assert not source.latest.is_open(TUESDAY_10)

    await redis.delete(keys.HOURS)
    ticker.now += 15
    assert (await source.current()).is_open(TUESDAY_10)


async def test_a_clock_that_goes_back_reads_again_rather_than_waits(redis: Redis) -> None:
    # The gateway times the refresh on its injected clock (a test's, or the wall clock set right).
    ticker = Ticker()
    source = HoursSource(HoursStore(redis), SETTINGS_HOURS, refresh=15, monotonic=ticker)
    assert (await source.current()).is_open(TUESDAY_10)
    await redis.hset(keys.HOURS, mapping={"weekly": "sat 10:00-12:00", "exceptions": ""})
    ticker.now -= 3600
    assert not (await source.current()).is_open(TUESDAY_10)


async def test_invalid_edited_hours_fall_back_to_the_settings(redis: Redis) -> None:
    await redis.hset(keys.HOURS, mapping={"weekly": "someday 9-5", "exceptions": ""})
    source = HoursSource(HoursStore(redis), SETTINGS_HOURS, refresh=0)
    assert await source.current() is SETTINGS_HOURS


async def test_the_console_writes_where_the_gateway_reads(redis: Redis) -> None:
    await HoursStore(redis).set("sun 10:00-11:00", "")
    source = HoursSource(HoursStore(redis), SETTINGS_HOURS, refresh=0)
    assert not (await source.current()).is_open(TUESDAY_10)
