"""Floods of conversations (issue 12): per-client limits by a keyed hash, pressure, crisis always answered."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.content.library import ContentLibrary
from chatbot.domain.floods import CLIENT_HASH_TTL
from chatbot.store import keys
from tests.conftest import with_settings

# Every test here runs on one Redis and on a Redis Cluster of three primaries (tests/cluster.py).
pytestmark = pytest.mark.cluster

OPEN_TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm, a weekday


async def _child(child_factory: Any, gateway: Any, forwarded_for: str | None = None) -> Any:
    child = child_factory(gateway.url)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    await child.sio.connect(gateway.url, headers=headers, transports=["websocket"], wait_timeout=5)
    return child


async def _open(child: Any) -> dict[str, Any]:
    """session_request for a new conversation: the session_state, or the error that refused it."""
    await child.sio.emit("session_request", {"extensions": 1})
    while True:
        event, data = await child.expect_any(("session_state", "error"))
        return {"event": event, **data}


async def _conversations(redis: Redis) -> int:
    return len([k async for k in redis.scan_iter(keys.conversation("*"))])


async def test_one_client_is_limited_and_a_refused_child_still_gets_the_crisis_answer(
    gateway_factory: Any, settings: Any, child_factory: Any, redis: Redis
) -> None:
    clock = FixedClock(OPEN_TUESDAY)
    gw = await gateway_factory(
        with_settings(settings, new_conversations_burst=5, new_conversations_per_hour=60), clock
    )
    child = await _child(child_factory, gw)
    for _ in range(5):
        assert (await _open(child))["event"] == "session_state"
    kept = child.session_id
    refused = await _open(child)
    assert refused["event"] == "error" and refused["code"] == "conversation_limit"
    assert 0 < refused["retry_after_ms"] <= 60_000  # one token a minute
    notices = [d for e, d in child.recorded if e == "bot_uttered" and d.get("ephemeral")]
    assert notices and "seq" not in notices[0]
    assert any("112" in n["text"] for n in notices)  # the busy notice says where help is at once
    child.recorded.clear()
    assert await _conversations(redis) == 5

    # Guideline 7: words about danger get the crisis answer at once, also without a conversation.
    await child.say("jag vill ta livet av mig", client_id="c1")
    await child.drain(0.5)
    crisis = [d for e, d in child.recorded if e == "bot_uttered"]
    errors = [d for e, d in child.recorded if e == "error"]
    library = ContentLibrary.load(settings.content_dir, settings.locales_dir, settings.default_locale)
    expected = [r.text for r in library.get("crisis").replies("sv")]
    assert [n["text"] for n in crisis] == expected and all(n["ephemeral"] for n in crisis)
    assert errors[-1]["code"] == "conversation_limit" and errors[-1]["client_id"] == "c1"
    busy = [r.text for r in library.get("new_chat_busy").replies("sv")]
    await child.say("hej", client_id="c2")
    assert [d["text"] for e, d in await child.drain(0.5) if e == "bot_uttered"] == busy
    assert await _conversations(redis) == 5  # nothing stored

    # Resuming a conversation is never limited; a minute later the client may open one more.
    assert (await child.start(session_id=kept))["resumed"] is True
    clock.advance(61)
    assert (await _open(child))["event"] == "session_state"
    assert await _conversations(redis) == 6


async def test_clients_are_told_apart_behind_a_trusted_proxy_and_no_address_is_stored(
    gateway_factory: Any, settings: Any, child_factory: Any, redis: Redis
) -> None:
    gw = await gateway_factory(
        with_settings(settings, new_conversations_burst=2, gateway_trusted_proxies=("127.0.0.0/8",)),
        FixedClock(OPEN_TUESDAY),
    )
    school = await _child(child_factory, gw, "198.51.100.7")
    other = await _child(child_factory, gw, "203.0.113.9")
    forged = await _child(child_factory, gw, "192.0.2.1, 198.51.100.7")  # the proxy saw 198.51.100.7
    assert [(await _open(school))["event"] for _ in range(3)] == ["session_state"] * 2 + ["error"]
    assert (await _open(other))["event"] == "session_state"
    assert (await _open(forged))["event"] == "error"  # a forged hop to the left is never believed
    for key in [k async for k in redis.scan_iter("*")]:
        assert b"198.51.100" not in key and b"203.0.113" not in key
        if await redis.type(key) == b"string":
            value = await redis.get(key)
            assert b"198.51.100" not in value and b"203.0.113" not in value
    client_keys = [k async for k in redis.scan_iter(keys.client_of("*"))]
    assert len(client_keys) == 3
    for key in client_keys:
        assert 0 < await redis.ttl(key) <= min(CLIENT_HASH_TTL, settings.conversation_retention)
    for key in [k async for k in redis.scan_iter(keys.flood_bucket("*", "*"))]:
        assert 0 < await redis.ttl(key) <= 3600


async def test_under_pressure_only_clients_with_few_recent_conversations_get_in(
    gateway_factory: Any, settings: Any, child_factory: Any, redis: Redis
) -> None:
    clock = FixedClock(OPEN_TUESDAY)
    gw = await gateway_factory(
        with_settings(
            settings,
            busy_new_conversations_per_minute=3,
            pressure_allowance=1,
            gateway_trusted_proxies=("127.0.0.0/8",),
        ),
        clock,
    )
    a, b, c, fresh = [await _child(child_factory, gw, f"198.51.100.{i}") for i in range(1, 5)]
    for child in (a, b, c):
        assert (await _open(child))["event"] == "session_state"
    busy = await _open(a)  # the minute saw 3 new ones: under pressure, and a has one already
    assert busy["event"] == "error" and busy["code"] == "conversation_limit"
    assert (await _open(fresh))["event"] == "session_state"  # the next real child still gets in
    clock.advance(60)  # a new minute, no longer under pressure
    assert (await _open(a))["event"] == "session_state"


async def test_queue_joins_are_limited_per_client(
    gateway_factory: Any, settings: Any, child_factory: Any, redis: Redis
) -> None:
    gw = await gateway_factory(with_settings(settings, queue_joins_burst=2), FixedClock(OPEN_TUESDAY))
    texts = []
    for i in range(3):
        child = await _child(child_factory, gw)
        await child.start()
        await child.drain(0.2)
        await child.say("/handoff_queued", client_id=f"q{i}")
        await child.expect("message_ack")
        texts.append(" ".join(d["text"] for e, d in await child.drain(0.4) if e == "bot_uttered"))
    assert await redis.zcard(keys.QUEUE) == 2
    assert "kön" in texts[2] and "Försök igen" in texts[2]


async def test_case_code_lookups_are_rate_limited_per_client(
    gateway_factory: Any, settings: Any, redis: Redis
) -> None:
    """95-bit codes make guessing hopeless; the lookups are limited anyway (issue 12)."""
    import aiohttp

    from chatbot.domain.floods import CODE_LOOKUPS_BURST

    clock = FixedClock(OPEN_TUESDAY)
    gw = await gateway_factory(settings, clock)
    url = f"{gw.url}/upload/v1/case-status"
    code = {"code": "ABCD-EFGH-JKMN-PQRS-TV23"}
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(CODE_LOOKUPS_BURST + 1):
            async with http.post(url, json=code) as resp:
                statuses.append(resp.status)
                body = await resp.json()
        assert 429 not in statuses[:-1] and statuses[-1] == 429
        assert body["error"] == "rate_limited" and body["retry_after_ms"] > 0
        clock.advance(body["retry_after_ms"] / 1000 + 1)
        async with http.post(url, json=code) as resp:
            assert resp.status != 429
