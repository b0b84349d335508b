"""The sign-in throttle against a real Redis: limits, the delay curve, and the blocks list under a flood."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from console.domain import throttle
from console.domain.throttle import Kind, Locked, SignInThrottle, State
from console.store import keys
from console.store.throttle import ThrottleStore

# Every test here runs on one Redis and on a Redis Cluster of three primaries (tests/cluster.py).
pytestmark = pytest.mark.cluster

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_the_delay_starts_at_the_ceiling_doubles_and_is_capped() -> None:
    assert throttle.delay_for(throttle.NAME_CEILING - 1) == 0
    assert throttle.delay_for(throttle.NAME_CEILING) == 1
    assert throttle.delay_for(throttle.NAME_CEILING + throttle.DELAY_STEP) == 2
    assert throttle.delay_for(10**6) == throttle.MAX_DELAY_S
    # Only a distributed attack reaches the ceiling: one client stops at its pair limit.
    assert throttle.NAME_CEILING >= 10 * throttle.PAIR_LIMIT


async def test_a_flood_of_blocked_clients_never_hides_a_slowed_name(redis: Redis) -> None:
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    clock = FixedClock(START)
    guard = SignInThrottle(ThrottleStore(redis), clock, b"k", pause=pause)
    flood = throttle.LISTED + 100
    for i in range(flood):
        client = guard.client_hash(f"10.1.{i // 256}.{i % 256}")
        for _ in range(throttle.PAIR_LIMIT):
            await guard.admit(client, "anna")
    blocks = await guard.blocks()
    assert blocks[0].kind is Kind.NAME and blocks[0].account == "anna" and blocks[0].state is State.SLOWED
    assert len([b for b in blocks if b.kind is Kind.PAIR]) == throttle.LISTED
    assert await redis.zcard(keys.BLOCKED_CLIENTS) == flood
    # The flood's clients are locked for anna; anna's own client only waits.
    pauses.clear()
    with pytest.raises(Locked):
        await guard.admit(guard.client_hash("10.1.0.0"), "anna")
    await guard.admit(guard.client_hash("198.51.100.7"), "anna")
    assert pauses == [throttle.MAX_DELAY_S]
    # Windows end by the injected clock, and their blocks leave the list.
    clock.advance(keys.LOGIN_WINDOW)
    assert await guard.blocks() == []
    await guard.admit(guard.client_hash("10.1.0.0"), "anna")
    assert pauses == [throttle.MAX_DELAY_S]


async def test_lift_takes_only_well_formed_ids(redis: Redis) -> None:
    guard = SignInThrottle(ThrottleStore(redis), FixedClock(START), b"k")
    client = guard.client_hash("203.0.113.9")
    for _ in range(throttle.PAIR_LIMIT):
        await guard.admit(client, "anna")
    for bogus in ("", "pair:anna", "client:*", f"pair:anna:{client}:x", "name:" + "a" * 40, 12):
        assert await guard.lift(bogus) is False  # type: ignore[arg-type]
    (block,) = await guard.blocks()
    assert await guard.lift(block.member) is True
    assert await guard.blocks() == []
    await guard.admit(client, "anna")
