"""The desk against a real Redis: atomic claims, capacity, availability, transfer, requeue, end, stats."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.content.library import ContentLibrary
from chatbot.domain.hours import OpeningHours
from chatbot.domain.sessions import new_conversation_id
from chatbot.model import Entry, Role, to_ms
from chatbot.settings import Settings
from chatbot.store import keys as chat_keys
from chatbot.store.conversations import ConversationStore
from chatbot.store.queue import QueueStore
from console.domain.desk import Desk
from console.domain.deskpart import DeskError
from console.domain.stats import day_of
from console.store import keys
from console.store.handoff import HandoffStore
from console.store.stats import StatsStore
from tests.conftest import connect
from tests.console.conftest import START

# Every test here runs on one Redis and on a Redis Cluster of three primaries (tests/cluster.py).
pytestmark = pytest.mark.cluster


@pytest.fixture
def desk(redis: Redis, settings: Settings, clock: FixedClock) -> Desk:
    return make_desk(redis, settings, clock)


def make_desk(redis: Redis, settings: Settings, clock: FixedClock) -> Desk:
    return Desk(
        HandoffStore(redis),
        ConversationStore(redis, announce_to=chat_keys.NOTIFY_CHILDREN),
        QueueStore(redis),
        StatsStore(redis, retention=settings.stats_retention),
        ContentLibrary.load(settings.content_dir, settings.locales_dir),
        clock,
        settings,
        OpeningHours.parse(settings.opening_hours, settings.opening_exceptions),
    )


async def waiting_child(redis: Redis, settings: Settings, clock: FixedClock, *, urgent: bool = False) -> str:
    """A conversation the way the gateway leaves it when a child asks for a person."""
    gateway_store = ConversationStore(redis, announce_to=chat_keys.NOTIFY_STAFF)
    conv_id = new_conversation_id()
    now = to_ms(clock.now())
    await gateway_store.create(
        "h" + conv_id, conv_id, now_ms=now, retention=settings.conversation_retention, locale="sv"
    )
    await gateway_store.append(
        conv_id,
        [
            Entry(Role.BOT, "Hej!", clock.now()),
            Entry(Role.BOT, "Det är inte ditt fel.", clock.now(), intent="sextortion"),
        ],
        now_ms=now,
        retention=settings.conversation_retention,
    )
    await gateway_store.ingest(
        conv_id,
        Entry(Role.CHILD, "jag vill prata med någon", clock.now()),
        now_ms=now,
        burst=8,
        per_minute=30,
        retention=settings.conversation_retention,
        max_entries=5000,
    )
    await QueueStore(redis).enqueue(
        conv_id, now_ms=now, urgent=urgent, retention=settings.conversation_retention
    )
    return conv_id


async def on_shift(desk: Desk, name: str, capacity: int = 2) -> None:
    await desk.shifts.set_status(name, "available", capacity=capacity, display=name.capitalize())


async def test_many_concurrent_claims_have_exactly_one_winner(
    redis: Redis, settings: Settings, clock: FixedClock, desk: Desk
) -> None:
    conv_id = await waiting_child(redis, settings, clock)
    names = [f"c{i:02d}" for i in range(30)]
    for name in names:
        await on_shift(desk, name)
    # Separate clients, separate connections: the race happens inside Redis, as in production.
    clients = [connect(settings) for _ in names]
    desks = [make_desk(client, settings, clock) for client in clients]
    results = await asyncio.gather(
        *(d.actions.claim(conv_id, n) for d, n in zip(desks, names, strict=True)), return_exceptions=True
    )
    winners = [n for n, r in zip(names, results, strict=True) if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, DeskError)]
    assert len(winners) == 1
    assert len(losers) == len(names) - 1 and all(e.code == "taken" for e in losers)
    meta = await redis.hgetall(chat_keys.conversation(conv_id))
    assert meta[b"counsellor"].decode() == winners[0] and meta[b"state"] == b"counsellor"
    assert await redis.zscore(chat_keys.QUEUE, conv_id) is None
    assert int(await redis.hget(chat_keys.COUNSELLORS_AVAILABLE, winners[0])) == 1
    for client in clients:
        await client.aclose()


async def test_capacity_and_availability_keep_the_free_slots_hash_current(
    redis: Redis, settings: Settings, clock: FixedClock, desk: Desk
) -> None:
    a, b = await waiting_child(redis, settings, clock), await waiting_child(redis, settings, clock)
    with pytest.raises(DeskError) as away:
        await desk.actions.claim(a, "anna")
    assert away.value.code == "away"
    await on_shift(desk, "anna", capacity=1)
    assert await redis.hget(chat_keys.COUNSELLORS_AVAILABLE, "anna") == b"1"
    await desk.actions.claim(a, "anna")
    assert await redis.hget(chat_keys.COUNSELLORS_AVAILABLE, "anna") == b"0"
    with pytest.raises(DeskError) as full:
        await desk.actions.claim(b, "anna")
    assert full.value.code == "full"
    await desk.shifts.set_status("anna", "away", capacity=1, display="Anna")
    assert await redis.hexists(chat_keys.COUNSELLORS_AVAILABLE, "anna") == 0
    assert 0 < await redis.ttl(keys.shift("anna")) <= keys.SHIFT_RETENTION
    assert 0 < await redis.ttl(keys.assigned("anna")) <= settings.conversation_retention
    with pytest.raises(DeskError):
        await desk.shifts.set_status("anna", "available", capacity=0, display="Anna")
    with pytest.raises(DeskError):
        await desk.shifts.set_status("anna", "available", capacity=2, display="  ")


async def test_claim_tells_the_child_who_joined_and_replies_carry_the_chosen_name(
    redis: Redis, settings: Settings, clock: FixedClock, desk: Desk
) -> None:
    conv_id = await waiting_child(redis, settings, clock)
    await desk.shifts.set_status("anna", "available", capacity=2, display="Sara")
    clock.advance(90)
    moved = await desk.actions.claim(conv_id, "anna")
    assert moved.entries and moved.entries[0].role is Role.SYSTEM and "Sara" in moved.entries[0].text
    assert moved.entries[0].extra == {"notice": "counsellor_joined", "name": "Sara"}
    entry = await desk.actions.reply(conv_id, "anna", "Hej, jag heter Sara.")
    assert entry.author == "Sara" and entry.role is Role.COUNSELLOR
    log = await ConversationStore(redis, announce_to=chat_keys.NOTIFY_CHILDREN).read(conv_id)
    assert log[-1].text == "Hej, jag heter Sara." and log[-1].seq == entry.seq
    with pytest.raises(DeskError) as other:
        await desk.actions.reply(conv_id, "bertil", "hej")
    assert other.value.code == "not_yours"
    stats = await desk.statistics.day(day_of(clock.now()))
    assert stats["handed_off"] == 1
    assert await desk.statistics.waits(day_of(clock.now())) == [90_000]


async def test_only_the_assigned_counsellor_offers_the_upload_and_the_notice_lands_in_the_log(
    redis: Redis, settings: Settings, clock: FixedClock, desk: Desk
) -> None:
    conv_id = await waiting_child(redis, settings, clock)
    with pytest.raises(DeskError) as queued:
        await desk.actions.offer_upload(conv_id, "anna")  # still in the queue: nobody's to offer anything in
    assert queued.value.code == "not_yours"
    await on_shift(desk, "anna")
    await desk.actions.claim(conv_id, "anna")
    before = await ConversationStore(redis, announce_to="x").length(conv_id)
    # A colleague, and a supervisor who has not taken the chat, are refused like for a reply.
    for other in ("bertil", "sam"):
        with pytest.raises(DeskError) as refused:
            await desk.actions.offer_upload(conv_id, other)
        assert refused.value.code == "not_yours"
    assert await ConversationStore(redis, announce_to="x").length(conv_id) == before
    moved = await desk.actions.offer_upload(conv_id, "anna")
    log = await ConversationStore(redis, announce_to="x").read(conv_id)
    offered = [e for e in log if e.extra.get("notice") == "upload_offer"]
    assert len(offered) == 1 and offered[0].role is Role.SYSTEM and offered[0].seq == before + 1
    assert [e.seq for e in moved.entries] == [before + 1]
    assert [q.payload for q in offered[0].quick_replies] == ["/upload_start"]
    content = ContentLibrary.load(settings.content_dir, settings.locales_dir)
    assert offered[0].text == content.replies("upload_offer", "sv")[0].text
    with pytest.raises(DeskError) as unknown:
        await desk.actions.offer_upload("0" * 24, "anna")
    assert unknown.value.code == "gone"


async def test_counsellors_see_only_the_queue_and_their_own_chats(
    redis: Redis, settings: Settings, clock: FixedClock, desk: Desk
) -> None:
    conv_id = await waiting_child(redis, settings, clock)
    await on_shift(desk, "anna")
    view = await desk.transcripts.view(conv_id, "bertil", supervisor=False)
    assert view.entries == []  # queued without the child's consent: no transcript, only what the bot learned
    await desk.actions.claim(conv_id, "anna")
    with pytest.raises(DeskError) as refused:
        await desk.transcripts.view(conv_id, "bertil", supervisor=False)
    assert refused.value.code == "forbidden"
    assert (await desk.transcripts.view(conv_id, "anna", supervisor=False)).entries[0].role is Role.SYSTEM
    assert (await desk.transcripts.view(conv_id, "sam", supervisor=True)).counsellor == "anna"
    await redis.hset(chat_keys.conversation(conv_id), "transcript_consent", "1")
    shared = await desk.transcripts.view(conv_id, "anna", supervisor=False)
    assert [e.role for e in shared.entries[:3]] == [Role.BOT, Role.BOT, Role.CHILD]


async def test_transfer_requeue_and_nothing_is_lost(
    redis: Redis, settings: Settings, clock: FixedClock, desk: Desk
) -> None:
    conv_id = await waiting_child(redis, settings, clock)
    await on_shift(desk, "anna")
    await on_shift(desk, "bertil", capacity=1)
    await desk.actions.claim(conv_id, "anna")
    await desk.actions.reply(conv_id, "anna", "ett")
    moved = await desk.actions.transfer(conv_id, "anna", "bertil", note="knows the case")
    assert "Bertil" in moved.entries[0].text
    assert await redis.hget(chat_keys.conversation(conv_id), "note") == b"knows the case"
    assert await redis.hget(chat_keys.COUNSELLORS_AVAILABLE, "anna") == b"2"
    assert await redis.hget(chat_keys.COUNSELLORS_AVAILABLE, "bertil") == b"0"
    with pytest.raises(DeskError):
        await desk.actions.reply(conv_id, "anna", "too late")
    await desk.actions.reply(conv_id, "bertil", "två")
    await desk.actions.requeue(conv_id, "bertil", note="needs arabic")
    assert await QueueStore(redis).position(conv_id) == 1
    assert await redis.hget(chat_keys.COUNSELLORS_AVAILABLE, "bertil") == b"1"
    await desk.actions.claim(conv_id, "anna")
    texts = [e.text for e in await ConversationStore(redis, announce_to="x").read(conv_id)]
    assert "ett" in texts and "två" in texts
    await desk.actions.claim(await waiting_child(redis, settings, clock), "bertil")
    with pytest.raises(DeskError) as full:
        await desk.actions.transfer(conv_id, "anna", "bertil")
    assert full.value.code == "full"


async def test_disconnected_counsellor_keeps_chats_within_grace_then_they_requeue(
    redis: Redis, settings: Settings, clock: FixedClock, desk: Desk
) -> None:
    conv_id = await waiting_child(redis, settings, clock, urgent=True)
    other = await waiting_child(redis, settings, clock)
    await on_shift(desk, "anna")
    await desk.shifts.connected("anna", "p1:a")
    await desk.actions.claim(conv_id, "anna")
    await desk.shifts.disconnected("anna", "p1:a")
    grace_until = await redis.hget(keys.shift("anna"), "grace_until")
    assert grace_until == str(to_ms(clock.now()) + settings.handoff_grace * 1000).encode()
    clock.advance(settings.handoff_grace - 5)
    await desk.sweeper.sweep()
    await desk.shifts.connected("anna", "p1:b")  # came back in time: still hers, and the deadline is gone
    assert await redis.hexists(keys.shift("anna"), "grace_until") == 0
    clock.advance(60)
    await desk.shifts.alive([("anna", "p1:b")])  # the heartbeat of the process holding her socket
    await desk.sweeper.sweep()
    assert await redis.hget(chat_keys.conversation(conv_id), "counsellor") == b"anna"
    await desk.shifts.disconnected("anna", "p1:b")
    clock.advance(settings.handoff_grace)
    await desk.sweeper.sweep()
    assert await redis.hget(chat_keys.conversation(conv_id), "state") == b"queued"
    assert await QueueStore(redis).waiting() == [conv_id, other]  # urgent goes back to the front
    assert await redis.hexists(chat_keys.COUNSELLORS_AVAILABLE, "anna") == 0
    assert await redis.hget(keys.shift("anna"), "status") == b"away"
    log = await ConversationStore(redis, announce_to=chat_keys.NOTIFY_STAFF).read(conv_id)
    told = [e for e in log if e.extra.get("notice") == "counsellor_lost"]
    assert len(told) == 1 and told[0].extra["position"] == 1 and told[0].role is Role.SYSTEM
    # Its own answer, not the one for a child who asked to queue: not their fault, their place, the wait.
    said = [e.text for e in log if e.intent == "counsellor_lost"]
    content = ContentLibrary.load(settings.content_dir, settings.locales_dir)
    wait = told[0].extra["wait"]
    assert said == [r.text for r in content.replies("counsellor_lost", "sv", position=1, wait=wait)]
    assert "inte ditt fel" in said[0] and "nummer 1" in said[1]
    assert not [e for e in log if e.intent == "handoff_queued"]


async def test_a_console_that_dies_strands_no_child_and_two_sweepers_requeue_once(
    redis: Redis, settings: Settings, clock: FixedClock, desk: Desk
) -> None:
    conv_id = await waiting_child(redis, settings, clock)
    await on_shift(desk, "anna")
    await desk.shifts.connected("anna", "dead:1")  # her socket lives in a console process that then crashes:
    await desk.actions.claim(conv_id, "anna")  # no disconnect handler ever runs, no heartbeat comes
    await desk.sweeper.sweep()
    assert await redis.hexists(keys.shift("anna"), "grace_until") == 0  # still fresh: she is live
    clock.advance(20)  # the heartbeat is overdue: her presence is stale, the grace starts now
    await desk.sweeper.sweep()
    assert int(await redis.hget(keys.shift("anna"), "grace_until")) == to_ms(clock.now()) + (
        settings.handoff_grace * 1000
    )
    assert await redis.hget(chat_keys.conversation(conv_id), "counsellor") == b"anna"
    clock.advance(settings.handoff_grace)
    # Two console processes sweep at the same moment: the chat is requeued and the child told once.
    other_process = make_desk(redis, settings, clock)
    results = await asyncio.gather(desk.sweeper.sweep(), other_process.sweeper.sweep())
    assert sorted(len(moved) for moved in results) == [0, 1]
    assert await QueueStore(redis).waiting() == [conv_id]
    meta = await ConversationStore(redis, announce_to=chat_keys.NOTIFY_STAFF).meta(conv_id)
    assert (
        meta["state"] == "queued" and "counsellor" not in meta and meta["note"] == "counsellor disconnected"
    )
    entries = await ConversationStore(redis, announce_to=chat_keys.NOTIFY_STAFF).read(conv_id)
    assert [e.extra.get("notice") for e in entries].count("counsellor_lost") == 1
    assert await redis.smembers(keys.assigned("anna")) == set()
    # Nothing more happens on later sweeps; she is away until she sets herself available again.
    clock.advance(settings.handoff_grace * 2)
    assert await desk.sweeper.sweep() == []


async def test_end_asks_satisfaction_and_categorisation_counts_once(
    redis: Redis, settings: Settings, clock: FixedClock, desk: Desk
) -> None:
    conv_id = await waiting_child(redis, settings, clock)
    await on_shift(desk, "anna")
    await desk.actions.claim(conv_id, "anna")
    moved = await desk.actions.end(conv_id, "anna")
    notices = [e.intent for e in moved.entries]
    assert "conversation_ended" in notices and "satisfaction" in notices
    assert await redis.hget(chat_keys.conversation(conv_id), "state") == b"bot"
    with pytest.raises(DeskError):
        await desk.actions.categorise(conv_id, "anna", "nonsense", "13-15", "referred")
    with pytest.raises(DeskError):
        await desk.actions.categorise(conv_id, "bertil", "sextortion", "13-15", "referred")
    await desk.actions.categorise(conv_id, "anna", "sextortion", "13-15", "referred")
    with pytest.raises(DeskError):
        await desk.actions.categorise(conv_id, "anna", "sextortion", "13-15", "referred")
    child = Entry(Role.CHILD, "/satisfaction_yes", clock.now())
    await desk.actions.child_wrote(conv_id, child)
    await desk.actions.child_wrote(conv_id, child)
    day = day_of(clock.now())
    stats = await desk.statistics.day(day)
    assert stats["topic:sextortion"] == 1 and stats["age:13-15"] == 1 and stats["handled:referred"] == 1
    assert stats["satisfaction:yes"] == 1 and stats["ended"] == 1
    assert 0 < await redis.ttl(keys.stats_day(day)) <= settings.stats_retention
    assert 0 < await redis.ttl(keys.stats_waits(day)) <= settings.stats_retention
    # Aggregates only: no conversation id anywhere in the statistics keys.
    for key in await redis.keys(chat_keys.CHAT + ":stats:*"):
        dumped = str(
            await redis.hgetall(key)
            if key.startswith(chat_keys.stats_day("").encode())
            else await redis.zrange(key, 0, -1)
        )
        assert conv_id not in dumped


async def test_queue_positions_are_announced_and_closing_time_empties_the_queue(
    redis: Redis, settings: Settings, clock: FixedClock, desk: Desk
) -> None:
    first = await waiting_child(redis, settings, clock)
    clock.advance(1)
    second = await waiting_child(redis, settings, clock)
    # First sight: the dialogue has just told them their place; nothing more is said.
    assert await desk.waiting.announce_positions() == []
    assert [i.intents for i in await desk.waiting.queue()] == [("sextortion",), ("sextortion",)]
    await on_shift(desk, "anna", capacity=1)  # a free slot: the honest wait for the first one drops
    moved = {m.conv_id: m.entries[0].extra for m in await desk.waiting.announce_positions()}
    assert moved == {
        first: {"notice": "queue_update", "position": 1, "wait": 1},
        second: {"notice": "queue_update", "position": 2, "wait": 15},  # one ahead, one chat's length
    }
    assert await desk.waiting.announce_positions() == []  # nothing changed, nothing said
    await QueueStore(redis).remove(first)
    moved = await desk.waiting.announce_positions()
    assert [m.conv_id for m in moved] == [second] and moved[0].entries[0].extra["position"] == 1
    clock.set(datetime(2026, 11, 24, 16, 5, tzinfo=UTC))  # 17:05 in Stockholm: closed
    moved = await desk.sweeper.sweep()
    assert [m.conv_id for m in moved] == [second]
    assert moved[0].entries[0].intent == "handoff_closed"
    assert await QueueStore(redis).waiting() == []
    assert await redis.hget(chat_keys.conversation(second), "state") == b"bot"
    stats = await desk.statistics.day(day_of(clock.now()))
    assert stats["closed_in_queue"] == 1 and stats["queued"] == 2


async def test_a_child_who_leaves_while_queued_counts_as_abandoned(
    redis: Redis, settings: Settings, clock: FixedClock, desk: Desk
) -> None:
    conv_id = await waiting_child(redis, settings, clock)
    await ConversationStore(redis, announce_to="x").end(
        conv_id, [], reason="quick_exit", session_hash=None, now_ms=to_ms(clock.now()), retention=3600
    )
    assert await QueueStore(redis).waiting() == []  # out of the queue in the same step as the end
    [left] = await desk.sweeper.settle_left()
    assert (left.conv_id, left.left_from, left.reason) == (conv_id, "queued", "quick_exit")
    assert await desk.sweeper.settle_left() == []  # settled once
    assert (await desk.statistics.day(day_of(START)))["abandoned"] == 1
