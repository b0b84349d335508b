"""The Redis store on its own: numbering under concurrency, idempotent resends, the queue's order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from chatbot.model import Entry, QuickReply, Role
from chatbot.store import keys
from chatbot.store.conversations import ConversationStore, IngestStatus
from chatbot.store.queue import QueueStore
from tests.cluster import another_client

# Every test here runs on one Redis and on a Redis Cluster of three primaries.
pytestmark = pytest.mark.cluster

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


async def make_conversation(store: ConversationStore, conv_id: str = "c1") -> str:
    await store.create("h-" + conv_id, conv_id, now_ms=NOW_MS, retention=3600, locale="sv")
    return conv_id


def child(text: str, client_id: str | None = None) -> Entry:
    return Entry(Role.CHILD, text, NOW, client_id=client_id)


async def ingest(store: ConversationStore, conv_id: str, entry: Entry, burst: int = 1000) -> IngestStatus:
    result = await store.ingest(
        conv_id, entry, now_ms=NOW_MS, burst=burst, per_minute=60, retention=3600, max_entries=5000
    )
    return result.status


async def test_concurrent_writers_get_distinct_contiguous_numbers(redis: Redis) -> None:
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    other = ConversationStore(another_client(redis), announce_to=keys.NOTIFY_CHILDREN)
    conv = await make_conversation(store)
    bots = [
        store.append(conv, [Entry(Role.BOT, f"b{i}", NOW)], now_ms=NOW_MS, retention=3600) for i in range(40)
    ]
    kids = [ingest(store, conv, child(f"k{i}", f"id{i}")) for i in range(40)]
    staff = [
        other.append(conv, [Entry(Role.COUNSELLOR, f"s{i}", NOW)], now_ms=NOW_MS, retention=3600)
        for i in range(20)
    ]
    await asyncio.gather(*bots, *kids, *staff)
    entries = await store.read(conv)
    assert [e.seq for e in entries] == list(range(1, 101))
    assert sorted(e.text for e in entries) == sorted(
        [f"b{i}" for i in range(40)] + [f"k{i}" for i in range(40)] + [f"s{i}" for i in range(20)]
    )


async def test_racing_resends_store_one_message(redis: Redis) -> None:
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    conv = await make_conversation(store)
    results = await asyncio.gather(*(ingest(store, conv, child("samma", "dup-1")) for _ in range(25)))
    assert results.count(IngestStatus.OK) == 1
    assert results.count(IngestStatus.DUPLICATE) == 24
    assert len(await store.read(conv)) == 1


async def test_entries_round_trip_through_the_log(redis: Redis) -> None:
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    conv = await make_conversation(store)
    entry = Entry(
        Role.BOT, "Hej «du» – 🙂", NOW, quick_replies=(QuickReply("Ja", "/affirm"),), intent="greet"
    )
    await store.append(conv, [entry], now_ms=NOW_MS, retention=3600)
    [back] = await store.read(conv)
    assert back == entry.with_seq(1)
    assert await store.read(conv, after=1) == []
    assert await store.read(conv, after=0, upto=0) == []


async def test_writes_to_a_gone_or_ended_conversation_are_refused(redis: Redis) -> None:
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    assert await ingest(store, "nope", child("hej")) is IngestStatus.GONE
    assert await store.append("nope", [Entry(Role.BOT, "x", NOW)], now_ms=NOW_MS, retention=60) == 0
    assert await redis.exists(keys.log("nope")) == 0
    conv = await make_conversation(store)
    assert (
        await store.end(conv, [], reason="end_chat", session_hash="h-c1", now_ms=NOW_MS, retention=60)
    ).ended
    assert await ingest(store, conv, child("hej")) is IngestStatus.ENDED
    assert await redis.get(keys.session("h-c1")) is None


async def test_length_cap(redis: Redis) -> None:
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    conv = await make_conversation(store)
    for i in range(3):
        result = await store.ingest(
            conv, child(f"m{i}"), now_ms=NOW_MS, burst=100, per_minute=60, retention=60, max_entries=2
        )
        assert result.status is (IngestStatus.OK if i < 2 else IngestStatus.FULL)


async def test_queue_puts_urgent_first_then_first_come(redis: Redis) -> None:
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    queue = QueueStore(redis)
    for name in ("a", "b", "c", "d"):
        await make_conversation(store, name)
    assert await queue.enqueue("a", now_ms=NOW_MS, urgent=False, retention=600) == 1
    assert await queue.enqueue("b", now_ms=NOW_MS + 1000, urgent=False, retention=600) == 2
    assert await queue.enqueue("c", now_ms=NOW_MS + 2000, urgent=True, retention=600) == 1
    assert await queue.waiting() == ["c", "a", "b"]
    # Asking again never loses one's place; becoming urgent moves one up.
    assert await queue.enqueue("a", now_ms=NOW_MS + 5000, urgent=False, retention=600) == 2
    assert await queue.enqueue("b", now_ms=NOW_MS + 6000, urgent=True, retention=600) == 2
    assert await queue.waiting() == ["c", "b", "a"]
    assert (await store.meta("b"))["urgent"] == "1"
    assert (await store.meta("b"))["state"] == "queued"
    assert await queue.enqueue("zz-gone", now_ms=NOW_MS, urgent=False, retention=600) == -1
    assert 0 < await redis.ttl(keys.QUEUE) <= 600


async def test_queue_forgets_expired_conversations(redis: Redis) -> None:
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    queue = QueueStore(redis)
    await make_conversation(store, "old")
    await make_conversation(store, "new")
    await queue.enqueue("old", now_ms=NOW_MS, urgent=False, retention=600)
    await redis.delete(keys.conversation("old"))  # what expiry does
    assert await queue.enqueue("new", now_ms=NOW_MS + 1, urgent=False, retention=600) == 1
    assert await queue.waiting() == ["new"]
    assert await queue.position("old") is None


async def test_free_slots_read_the_consoles_availability(redis: Redis) -> None:
    queue = QueueStore(redis)
    assert await queue.free_slots() == 0
    await redis.hset(keys.COUNSELLORS_AVAILABLE, mapping={"sam": 2, "kim": 1, "away": -1})
    assert await queue.free_slots() == 3


async def test_flags_never_recreate_an_expired_conversation(redis: Redis) -> None:
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    assert not await store.set_flag("expired", "urgent", "1")
    assert await redis.exists(keys.conversation("expired")) == 0
    conv = await make_conversation(store)
    assert await store.set_flag(conv, "urgent", "1")
    assert (await store.meta(conv))["urgent"] == "1"
    assert 0 < await redis.ttl(keys.conversation(conv)) <= 3600


async def test_one_unsendable_write_in_a_batch_fails_only_its_own_caller(redis: Redis) -> None:
    """Issue 12: a lone surrogate in one child's message failed every child's write in its batch."""
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    convs = [await make_conversation(store, f"b{i}") for i in range(30)]
    texts = [f"hej {i}" if i != 7 else "a\ud800b" for i in range(30)]
    results = await asyncio.gather(
        *(ingest(store, conv, child(text)) for conv, text in zip(convs, texts, strict=True)),
        store.create("h-bad", "bad", now_ms=NOW_MS, retention=3600, locale="\udfff"),
        return_exceptions=True,
    )
    assert isinstance(results[7], UnicodeEncodeError) and isinstance(results[30], UnicodeEncodeError)
    assert [r for i, r in enumerate(results[:30]) if i != 7] == [IngestStatus.OK] * 29
    for i, conv in enumerate(convs):
        assert [e.text for e in await store.read(conv)] == ([] if i == 7 else [f"hej {i}"])
    assert not await redis.exists(keys.conversation("bad"))
