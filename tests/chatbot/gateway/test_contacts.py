"""Every new conversation the gateway opens counts as a contact of its Stockholm day: a number, nothing more."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.store import keys
from tests.conftest import with_settings


async def test_each_new_conversation_is_one_contact_of_its_stockholm_day(
    gateway_factory: Any, settings: Any, child_factory: Any, redis: Redis
) -> None:
    # 23:30 UTC is 00:30 in Stockholm: the contact belongs to the Stockholm morning, not to UTC's evening.
    clock = FixedClock(datetime(2026, 11, 23, 23, 30, tzinfo=UTC))
    gateway = await gateway_factory(with_settings(settings, stats_retention=400 * 86400), clock)
    day = keys.stats_day("2026-11-24")

    first = child_factory(gateway.url)
    await first.connect()
    await first.start()
    assert await redis.hgetall(day) == {b"contacts": b"1"}
    assert await redis.exists(keys.stats_day("2026-11-23")) == 0
    assert 400 * 86400 - 5 < await redis.ttl(day) <= 400 * 86400

    # Coming back to the same session is not a new contact.
    await first.close()
    again = child_factory(gateway.url)
    await again.connect()
    state = await again.start(session_id=first.session_id)
    assert state["resumed"] is True
    assert await redis.hget(day, "contacts") == b"1"

    second = child_factory(gateway.url)
    await second.connect()
    await second.start()
    assert await redis.hgetall(day) == {b"contacts": b"2"}  # only the count: no id, no text
