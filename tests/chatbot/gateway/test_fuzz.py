"""Fuzzing the edge strangers reach: random JSON to every child event must yield typed errors, never a crash."""

from __future__ import annotations

import random
from typing import Any

from redis.asyncio import Redis

from chatbot.store import keys

KNOWN_CODES = {
    "malformed_payload",
    "empty_message",
    "message_too_long",
    "rate_limited",
    "no_session",
    "conversation_ended",
    "conversation_full",
    "unknown_locale",
    "unsupported_locale",
    "uploads_unavailable",
    "upload_limit",
    "invalid_text",
}
EVENTS = [
    "session_request",
    "user_uttered",
    "resume",
    "end_session",
    "set_locale",
    "typing",
    "upload_request",
    "no_such",
    "connect",
    "message",
]
NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "\ud7ff",
    "🙂" * 600,
    "<script>alert(1)</script>",
    "/",
    "//",
    "/" + "a" * 3000,
    "' OR 1=1 --",
    "${jndi:ldap://x}",
    "\u202e",
    "x" * 2001,
    '/ask_human{"a":1}',
    "%s%s%n",
    "\r\n\r\n",
    "/upload_start",
    "/case_status",
    "status ABCD-EFGH-JKMN-PQRS-TV23",
    "min kod är 7777-7777-7777-7777-7777",
    # Issue 12: unpaired surrogates (JSON can carry them, UTF-8 cannot) and what reached the locale.
    "\ud800",
    "a\udfffb",
    "\ud83d",
    "🙂\udc00",
    "../../etc/passwd",
    "sv\r\nSet-Cookie: x=1",
    "sv\x00",
    "s" * 50_000,
]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, -(2**63), 2**70, 7])
    if kind == 3:
        return rng.choice([0.5, -1e308, 1e-308, float(rng.randrange(100))])
    if kind in (4, 5):
        return rng.choice([*NASTY_STRINGS, "hej", "min bild sprids", "A" * 43])
    if kind == 6:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["message", "session_id", "client_id", "last_seq", "locale", "on", "customData", "x"]
    if rng.random() < 0.1:
        keys.append("\ud800")  # a key that cannot be encoded
    return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


async def test_random_payloads_get_typed_errors_and_leave_everything_healthy(
    gateway: Any, child_factory: Any, redis: Redis
) -> None:
    rng = random.Random(20261122)
    child = child_factory(gateway.url)
    await child.connect()
    for round_ in range(250):
        event = rng.choice(EVENTS)
        if round_ % 50 == 0:
            await child.start()
        payload = random_value(rng)
        await child.sio.emit(event, payload)
    events = await child.drain(0.5)
    codes = {data["code"] for name, data in events if name == "error"}
    assert codes, "the fuzzer should have provoked errors"
    assert codes <= KNOWN_CODES, codes - KNOWN_CODES
    assert "internal" not in codes
    assert "invalid_text" in codes
    # Nothing the fuzzer sent as a locale was stored: every conversation has a language we have.
    for key in await redis.keys(keys.conversation("*")):
        assert await redis.hget(key, "locale") in (b"sv", b"en", b"ar")

    # Still healthy: the same connection and a new one both hold a normal conversation.
    await child.start()
    await child.say("hej", client_id="after-fuzz")
    assert (await child.expect("message_ack"))["client_id"] == "after-fuzz"
    fresh = child_factory(gateway.url)
    await fresh.connect()
    await fresh.start()
    await fresh.say("hej", client_id="fresh")
    await fresh.expect("bot_uttered")
    assert await redis.ping()


async def test_oversized_frame_closes_only_that_connection(gateway: Any, child_factory: Any) -> None:
    big = child_factory(gateway.url)
    await big.connect()
    await big.start()
    await big.sio.emit("user_uttered", {"message": "x" * 200_000})
    await big.drain(0.5)
    # Engine.IO refuses frames over 64 KiB by closing that transport; the server does not read them.
    assert not big.sio.connected
    other = child_factory(gateway.url)
    await other.connect()
    await other.start()
    await other.say("hej", client_id="ok")
    assert (await other.expect("message_ack"))["client_id"] == "ok"
