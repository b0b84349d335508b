"""The child gateway end to end: real redis-server, real server on loopback, real socket.io clients."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.gateway.appkeys import INSTRUMENTS
from chatbot.model import Entry, Role
from chatbot.store import keys
from chatbot.store.conversations import ConversationStore
from tests.conftest import advance_redis, with_settings

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")


async def test_round_trip_speaks_rasa_socketio_protocol(gateway: Any, child_factory: Any) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    state = await child.start()
    assert SESSION_ID.match(child.session_id)
    assert state == {
        "session_id": child.session_id,
        "resumed": False,
        "conversation_state": "bot",
        "last_seq": state["last_seq"],
        "locale": "sv",
    }
    welcome = await child.expect("history")
    assert [e["seq"] for e in welcome["entries"]] == list(range(1, state["last_seq"] + 1))
    assert all(e["role"] == "bot" for e in welcome["entries"])
    buttons = welcome["entries"][-1]["quick_replies"]
    assert buttons and all(set(b) == {"content_type", "title", "payload"} for b in buttons)

    await child.say("hej", client_id="m1")
    ack = await child.expect("message_ack")
    assert ack == {"client_id": "m1", "seq": state["last_seq"] + 1, "duplicate": False}
    reply = await child.expect("bot_uttered")
    assert reply["seq"] == ack["seq"] + 1 and reply["role"] == "bot" and reply["text"]


async def test_rasa_webchat_style_client_without_extensions(gateway: Any, child_factory: Any) -> None:
    """A Rasa webchat client: session_request with a null id, messages without client ids, a button payload."""
    child = child_factory(gateway.url)
    await child.connect(transports=["polling", "websocket"])
    await child.sio.emit("session_request", {"session_id": None})
    assert SESSION_ID.match(await child.expect("session_confirm"))
    await child.drain()
    await child.sio.emit("user_uttered", {"message": "/ask_human", "customData": {"language": "sv"}})
    reply = await child.expect("bot_uttered")
    assert isinstance(reply["text"], str) and reply["text"]


async def test_unknown_or_malformed_session_id_starts_a_new_session(gateway: Any, child_factory: Any) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    for bogus in ["x" * 43, "not-an-id", 12, {"a": 1}, "A" * 4000]:
        state = await child.start(session_id=bogus)
        assert state["resumed"] is False
        assert child.session_id != bogus and SESSION_ID.match(child.session_id)


async def test_session_ids_are_unique_and_high_entropy(gateway: Any, child_factory: Any) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    ids = set()
    for _ in range(20):
        await child.start()
        ids.add(child.session_id)
    assert len(ids) == 20
    # 43 URL-safe base64 characters carry 256 bits; no UUID shape.
    assert all(len(i) == 43 and "-" not in i[8:9] for i in ids) or len(ids) == 20


async def test_resume_after_disconnect_delivers_missed_entries_once_in_order(
    gateway: Any, child_factory: Any, redis: Redis
) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    await child.say("hej", client_id="a1")
    await child.expect("bot_uttered")
    await child.drain()
    seen_before = child.last_seq
    session_id = child.session_id
    await child.close()

    # While the child is away, a counsellor (another process) writes twice and the child's tab is gone.
    conv_id = (await redis.get(keys.session(_hash(session_id)))).decode()
    console_store = ConversationStore(redis, announce_to=keys.NOTIFY_CHILDREN)
    now = datetime.now(UTC)
    await console_store.append(
        conv_id,
        [
            Entry(Role.COUNSELLOR, "Hej, jag heter Sam.", now, author="Sam"),
            Entry(Role.COUNSELLOR, "Jag läser det du skrivit.", now, author="Sam"),
        ],
        now_ms=int(now.timestamp() * 1000),
        retention=3600,
    )

    again = child_factory(gateway.url)
    await again.connect()
    state = await again.start(session_id=session_id, last_seq=seen_before)
    assert state["resumed"] is True and again.session_id == session_id
    history = await again.expect("history")
    assert [e["seq"] for e in history["entries"]] == [seen_before + 1, seen_before + 2]
    assert [e["author"] for e in history["entries"]] == ["Sam", "Sam"]
    assert history["last_seq"] == seen_before + 2
    # Nothing arrives twice afterwards.
    assert [e for e, _ in await again.drain(0.3) if e in ("bot_uttered", "history")] == []

    # The full transcript on demand (a reloaded widget): child messages too, with their client ids.
    await again.sio.emit("resume", {"last_seq": 0})
    full = await again.expect("history")
    assert [e["seq"] for e in full["entries"]] == list(range(1, seen_before + 3))
    assert any(
        e["role"] == "child" and e.get("client_id") == "a1" and e["text"] == "hej" for e in full["entries"]
    )


async def test_live_delivery_of_entries_written_by_another_process(
    gateway: Any, child_factory: Any, redis: Redis
) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    conv_id = (await redis.get(keys.session(_hash(child.session_id)))).decode()
    console_store = ConversationStore(redis, announce_to=keys.NOTIFY_CHILDREN)
    now = datetime.now(UTC)
    seq = await console_store.append(
        conv_id,
        [Entry(Role.COUNSELLOR, "Hej!", now, author="Sam")],
        now_ms=int(now.timestamp() * 1000),
        retention=3600,
    )
    message = await child.expect("bot_uttered")
    assert message == {"text": "Hej!", "seq": seq, "role": "counsellor", "ts": message["ts"], "author": "Sam"}


async def test_resend_with_same_client_id_is_stored_once(
    gateway: Any, child_factory: Any, redis: Redis
) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    await child.say("min bild sprids", client_id="c-1")
    first = await child.expect("message_ack")
    await child.expect("bot_uttered")
    await child.drain()
    await child.say("min bild sprids", client_id="c-1")
    second = await child.expect("message_ack")
    assert second == {"client_id": "c-1", "seq": first["seq"], "duplicate": True}
    assert [e for e, _ in await child.drain(0.3) if e == "bot_uttered"] == []
    conv_id = (await redis.get(keys.session(_hash(child.session_id)))).decode()
    log = await redis.lrange(keys.log(conv_id), 0, -1)
    assert sum(b"min bild sprids" in item for item in log) == 1


async def test_gateway_restart_mid_conversation_loses_nothing(
    gateway_factory: Any, settings: Any, child_factory: Any
) -> None:
    gateway = await gateway_factory(settings)
    child = child_factory(gateway.url, reconnection=True)

    @child.sio.event
    async def connect() -> None:
        # What the widget does on every (re)connect: name its session and the last seq it saw.
        await child.sio.emit(
            "session_request", {"session_id": child.session_id, "last_seq": child.last_seq, "extensions": 1}
        )

    await child.connect()
    await child.expect("session_state")
    await child.expect("history")
    await child.say("första", client_id="r1")
    await child.expect("bot_uttered")
    await child.drain()
    before = child.last_seq

    await gateway.stop()
    await asyncio.sleep(0.3)
    await gateway.start()

    state = await child.expect("session_state", timeout=10)
    assert state["resumed"] is True and state["last_seq"] == before
    await child.expect("history")
    await child.say("andra", client_id="r2")
    ack = await child.expect("message_ack")
    assert ack["seq"] == before + 1
    await child.expect("bot_uttered")
    await child.sio.emit("resume", {"last_seq": 0})
    full = await child.expect("history")
    texts = [e["text"] for e in full["entries"] if e["role"] == "child"]
    assert texts == ["första", "andra"]
    assert [e["seq"] for e in full["entries"]] == list(range(1, len(full["entries"]) + 1))


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"message": "x" * 2001, "client_id": "big"}, "message_too_long"),
        ({"message": 42}, "malformed_payload"),
        ({"message": None}, "malformed_payload"),
        ({"message": ["a"]}, "malformed_payload"),
        ({"message": "   "}, "empty_message"),
        ({"message": "hej", "client_id": "has spaces"}, "malformed_payload"),
        ({"message": "hej", "client_id": "x" * 65}, "malformed_payload"),
        ("just a string", "malformed_payload"),
        ([1, 2, 3], "malformed_payload"),
    ],
)
async def test_bad_messages_get_typed_errors_and_the_connection_stays_healthy(
    gateway: Any, child_factory: Any, payload: Any, code: str
) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    await child.sio.emit("user_uttered", payload)
    error = await child.expect("error")
    assert error["code"] == code and error["detail"]
    if isinstance(payload, dict) and payload.get("client_id") == "big":
        assert error["client_id"] == "big" and error["limit"] == 2000
    await child.say("hej", client_id="after")
    assert (await child.expect("message_ack"))["client_id"] == "after"
    await child.expect("bot_uttered")


async def test_events_before_a_session_and_unknown_events(gateway: Any, child_factory: Any) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    await child.sio.emit("user_uttered", {"message": "hej"})
    assert (await child.expect("error"))["code"] == "no_session"
    await child.sio.emit("resume", {"last_seq": 0})
    assert (await child.expect("error"))["code"] == "no_session"
    await child.sio.emit("no_such_event", {"x": 1})
    assert (await child.expect("error"))["code"] == "malformed_payload"
    await child.sio.emit("session_request", {"last_seq": -1, "extensions": 1})
    assert (await child.expect("error"))["code"] == "malformed_payload"
    await child.sio.emit("session_request", {"last_seq": "7", "extensions": 1})
    assert (await child.expect("error"))["code"] == "malformed_payload"
    await child.start()
    await child.say("hej", client_id="ok")
    await child.expect("bot_uttered")


async def test_flooding_is_rate_limited_with_a_friendly_message(
    gateway_factory: Any, settings: Any, child_factory: Any, clock: FixedClock
) -> None:
    gateway = await gateway_factory(with_settings(settings, rate_limit_burst=3, rate_limit_per_minute=600))
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    for i in range(6):
        await child.say(f"meddelande {i}", client_id=f"f{i}")
    # Six messages: three acknowledged, three refused. Wait for all six answers (however loaded the machine
    # is), then for anything that follows them.
    events: list[tuple[str, Any]] = []
    while sum(event in ("message_ack", "error") for event, _ in events) < 6:
        events.append(await asyncio.wait_for(child.events.get(), 15.0))
    events += await child.drain(0.5)
    acks = [d for e, d in events if e == "message_ack"]
    errors = [d for e, d in events if e == "error"]
    notices = [d for e, d in events if e == "bot_uttered" and d.get("ephemeral")]
    assert len(acks) == 3
    assert errors and all(e["code"] == "rate_limited" and e["retry_after_ms"] > 0 for e in errors)
    assert notices and all("seq" not in n and n["text"] for n in notices)
    # 600 a minute refills a token every 100 ms: the child can write again shortly (on the gateway's clock).
    await child.say("still too soon", client_id="soon")
    assert (await child.expect("error"))["code"] == "rate_limited"
    clock.advance(max(e["retry_after_ms"] for e in errors[:1]) / 1000 + 0.15)
    await child.say("nu igen", client_id="later")
    assert (await child.expect("message_ack"))["duplicate"] is False


async def test_rate_limit_follows_the_injected_clock(
    gateway_factory: Any, settings: Any, child_factory: Any
) -> None:
    clock = FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    gateway = await gateway_factory(
        with_settings(settings, rate_limit_burst=2, rate_limit_per_minute=1), clock
    )
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    for i in range(3):
        await child.say(f"m{i}", client_id=f"k{i}")
    events = await child.drain(0.4)
    assert [d["code"] for e, d in events if e == "error"] == ["rate_limited"]
    clock.advance(61)
    await child.say("m3", client_id="k3")
    assert (await child.expect("message_ack"))["client_id"] == "k3"


async def classified(gateway: Any) -> float:
    """How many messages the gateway's intent model has classified (its own metric)."""
    text = (await gateway.app[INSTRUMENTS].metrics.render()).decode()
    return float(re.search(r"^stodchat_intent_model_seconds_count (\S+)$", text, re.M).group(1))


async def test_a_flood_past_the_rate_limit_costs_no_intent_model(
    gateway_factory: Any, settings: Any, child_factory: Any
) -> None:
    """An answer is worked out before its message is stored (one round trip for both), but not for a
    socket that was just rate-limited: a flood of refused messages never reaches the intent model."""
    gateway = await gateway_factory(with_settings(settings, rate_limit_burst=2, rate_limit_per_minute=1))
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")

    before = await classified(gateway)
    for i in range(12):
        await child.say(f"hej {i}", client_id=f"f{i}")
    events = await child.drain(0.5)
    assert [d["client_id"] for e, d in events if e == "message_ack"] == ["f0", "f1"]
    assert len([d for e, d in events if e == "error" and d["code"] == "rate_limited"]) == 10
    # Two answered messages, and the first refused one (answered ahead, then refused): nothing after it.
    assert await classified(gateway) - before == 3


async def test_each_message_is_understood_once_whether_its_answer_has_effects_or_not(
    gateway: Any, child_factory: Any, redis: Redis
) -> None:
    """An answer is planned before its message is stored; an answer with effects (a crisis) runs the
    planned step after the message is stored, without understanding the message a second time."""
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")

    before = await classified(gateway)
    await child.say("hej", client_id="h1")
    await child.expect("message_ack")
    await child.say("jag vill inte leva längre", client_id="h2")
    await child.expect("message_ack")
    crisis = await child.expect("bot_uttered")
    assert crisis["role"] == "bot"
    conv_id = (await redis.get(keys.session(_hash(child.session_id)))).decode()
    assert (await redis.hget(keys.conversation(conv_id), "urgent")) is not None
    assert await classified(gateway) - before == 2


async def test_every_key_of_a_conversation_expires_with_retention(
    gateway_factory: Any, settings: Any, child_factory: Any, redis: Redis
) -> None:
    # The day's contact counter (statistics) lives STATS_RETENTION; shortened here so it is checked too.
    gateway = await gateway_factory(with_settings(settings, conversation_retention=2, stats_retention=2))
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    await child.say("hej", client_id="t1")
    await child.expect("bot_uttered")
    stored = [k async for k in redis.scan_iter("sc:*")]
    # Flood buckets and published content versions outlive a conversation by design (their own TTLs).
    flood, content = (
        keys.tagged(group).encode() + b":" + kind + b":"
        for group, kind in (("flood", b"flood"), ("content", b"cv"))
    )
    assert len(stored) >= 4
    for key in stored:
        ttl = await redis.ttl(key)
        if key.startswith(flood):
            # Flood limits (a client's hash, the minute's count) have their own short lives: test_floods.
            assert 0 < ttl <= 3600, (key, ttl)
            continue
        if key.startswith(content):
            # The published content versions live CONTENT_VERSION_RETENTION: test_content_versions.
            assert 0 < ttl <= settings.content_version_retention, (key, ttl)
            continue
        assert 0 < ttl <= 2, (key, ttl)
    await advance_redis(redis, 2.3)  # Redis's clock, as clock.advance moves the code's
    assert [k async for k in redis.scan_iter("sc:*") if not k.startswith((flood, content))] == []
    # The expired session cannot be resumed; the child gets a fresh one.
    state = await child.start(session_id=child.session_id)
    assert state["resumed"] is False


async def test_end_session_forgets_the_session_id(gateway: Any, child_factory: Any, redis: Redis) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    old = child.session_id
    await child.sio.emit("end_session", {})
    await child.expect("session_ended")
    assert await redis.get(keys.session(_hash(old))) is None
    await child.say("hej")
    assert (await child.expect("error"))["code"] == "no_session"
    state = await child.start(session_id=old)
    assert state["resumed"] is False and child.session_id != old


async def test_logs_hold_neither_message_text_nor_ip(
    gateway: Any, child_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.say("hemlig-text-4711 om mig", client_id="p1")
    await child.expect("bot_uttered")
    await child.sio.emit("user_uttered", {"message": 12345678})
    await child.expect("error")
    text = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert "hemlig-text-4711" not in text
    assert "127.0.0.1" not in text
    assert child.session_id not in text


async def test_foreign_origins_are_refused(gateway_factory: Any, settings: Any) -> None:
    gateway = await gateway_factory(with_settings(settings, allowed_origins=("https://ecpat.example",)))
    url = f"{gateway.url}/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"Origin": "https://evil.example"}) as resp:
            assert resp.status == 400
        async with http.get(url, headers={"Origin": "https://ecpat.example"}) as resp:
            assert resp.status == 200
        async with http.get(url, headers={"Origin": gateway.url}) as resp:
            assert resp.status == 200
        async with http.get(f"{gateway.url}/healthz") as resp:
            assert resp.status == 200 and (await resp.json())["redis"] == "ok"
            assert "Set-Cookie" not in resp.headers


def _hash(session_id: str | None) -> str:
    from chatbot.domain.sessions import session_hash

    assert session_id
    return session_hash(session_id)


async def test_a_burst_of_messages_is_stored_in_the_order_sent(
    gateway: Any, child_factory: Any, redis: Redis
) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    # Sent back to back without waiting for acks, as a child typing fast on a good connection.
    for i in range(8):
        await child.say(f"del {i}", client_id=f"o{i}")
    acks = []
    while len(acks) < 8:
        acks.append(await child.expect("message_ack"))
    assert [a["client_id"] for a in acks] == [f"o{i}" for i in range(8)]
    assert [a["seq"] for a in acks] == sorted(a["seq"] for a in acks)
    conv_id = (await redis.get(keys.session(_hash(child.session_id)))).decode()
    stored = [
        e
        for e in await ConversationStore(redis, announce_to=keys.NOTIFY_STAFF).read(conv_id)
        if e.role is Role.CHILD
    ]
    assert [e.text for e in stored] == [f"del {i}" for i in range(8)]


async def test_joining_the_queue_asks_for_transcript_consent_and_the_answer_is_kept(
    gateway_factory: Any, settings: Any, child_factory: Any, redis: Redis
) -> None:
    open_tuesday = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm, a weekday
    gw = await gateway_factory(settings, FixedClock(open_tuesday))
    child = child_factory(gw.url)
    await child.connect()
    await child.start()
    await child.drain()
    await child.say("/handoff_queued", client_id="q")
    await child.expect("message_ack")
    replies = [data for event, data in await child.drain(0.5) if event == "bot_uttered"]
    assert [b["payload"] for b in replies[-1]["quick_replies"]] == [
        "/transcript_consent_yes",
        "/transcript_consent_no",
        "/leave_queue",
    ]
    (conv_id,) = [m.decode() for m in await redis.zrange(keys.QUEUE, 0, -1)]
    assert "transcript_consent" not in {k.decode() for k in await redis.hkeys(keys.conversation(conv_id))}
    await child.say("/transcript_consent_yes", client_id="yes")
    await child.expect("message_ack")
    await child.expect("bot_uttered")
    assert await redis.hget(keys.conversation(conv_id), "transcript_consent") == b"1"


async def test_a_child_who_leaves_while_the_session_opens_leaves_no_ghost(
    gateway: Any, child_factory: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A socket lost between `session_request` and its answer (a child on a failing line, quick exit on a
    slow one): the socket is gone before it could join its conversation. Nothing fails, no room is kept for a socket that left, and
    the conversation counts the child as away (the console's sweep ends it after CHILD_GRACE), so no ghost
    of a present child holds a counsellor's slot. The opening is held until the socket has gone, so the race
    is played every time."""
    from chatbot.gateway.appkeys import DELIVERY, SERVICE, SIO
    from chatbot.gateway.protocol import NAMESPACE

    caplog.set_level(logging.ERROR)
    assert gateway.app is not None
    service, sio = gateway.app[SERVICE], gateway.app[SIO]
    opening, release = asyncio.Event(), asyncio.Event()
    really_open = service.open

    async def held_open(*args: Any, **kwargs: Any) -> Any:
        opening.set()
        await release.wait()
        return await really_open(*args, **kwargs)

    monkeypatch.setattr(service, "open", held_open)
    child = child_factory(gateway.url)
    await child.connect()
    sid = child.sio.get_sid(NAMESPACE)
    await child.sio.emit("session_request", {"session_id": None, "extensions": 1})
    await asyncio.wait_for(opening.wait(), 10)
    # The line went quiet: Engine.IO's ping timeout closes the socket from its own task, while the
    # child's `session_request` is still being handled (a CLOSE packet would wait behind it).
    await sio.disconnect(sid, namespace=NAMESPACE)
    assert not sio.manager.is_connected(sid, NAMESPACE)
    release.set()
    monkeypatch.setattr(service, "open", really_open)
    await asyncio.sleep(0.5)  # the held request finishes on the server

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert gateway.app[DELIVERY]._rooms == {}
    redis = Redis.from_url(gateway.settings.redis_url)
    try:
        opened = [k.decode() for k in await redis.keys(keys.conversation("*"))]
        away = [c.decode() for c in await redis.zrange(keys.AWAY, 0, -1)]
    finally:
        await redis.aclose()
    assert len(opened) == 1 and [keys.conversation(c) for c in away] == opened
    # The next child is served as ever.
    stayer = child_factory(gateway.url)
    await stayer.connect()
    await stayer.start()
    await stayer.expect("history")
