"""The out-of-hours list: conversations left for the counsellors while the line is closed wait there, and
enter the queue by themselves when it opens, in the order left, urgent first, once, whatever the number
of console processes; the counsellor writes to a child who is not there and sees whether it was read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.content.library import ContentLibrary
from chatbot.domain.edited_hours import HoursSource
from chatbot.domain.handoff import Handoff
from chatbot.domain.hours import OpeningHours
from chatbot.domain.returns import Returns
from chatbot.domain.sessions import new_conversation_id
from chatbot.model import Entry, Role, to_ms
from chatbot.settings import Settings
from chatbot.store import keys as chat_keys
from chatbot.store.conversations import ConversationStore
from chatbot.store.hours import HoursStore
from chatbot.store.queue import QueueStore
from console.domain.stats import day_of
from tests.console.domain.test_desk import make_desk, on_shift

FRIDAY_EVENING = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # 19:00 in Stockholm: closed
MONDAY_MORNING = datetime(2026, 11, 30, 8, 0, 1, tzinfo=UTC)  # 09:00:01 in Stockholm: open


async def left_child(
    redis: Redis, settings: Settings, clock: FixedClock, *, crisis: bool = False
) -> tuple[str, str]:
    """A conversation the way the gateway leaves it when a child leaves it for the counsellors."""
    store = ConversationStore(redis, announce_to=chat_keys.NOTIFY_STAFF)
    conv_id = new_conversation_id()
    now = to_ms(clock.now())
    await store.create(
        "h" + conv_id, conv_id, now_ms=now, retention=settings.conversation_retention, locale="sv"
    )
    await store.append(
        conv_id,
        [Entry(Role.BOT, "Det är inte ditt fel.", clock.now(), intent="sextortion")],
        now_ms=now,
        retention=settings.conversation_retention,
    )
    content = ContentLibrary.load(settings.content_dir, settings.locales_dir)
    hours = HoursSource(
        HoursStore(redis), OpeningHours.parse(settings.opening_hours, settings.opening_exceptions)
    )
    left = await Returns(store, content, hours, clock, settings).leave(conv_id, "sv")
    if crisis:
        handoff = Handoff.for_settings(QueueStore(redis), store, clock, settings)
        await handoff.mark_urgent(conv_id)
    return conv_id, left.code


async def test_opening_moves_left_conversations_into_the_queue_in_order_once(
    redis: Redis, settings: Settings, clock: FixedClock
) -> None:
    clock.set(FRIDAY_EVENING)
    first, _ = await left_child(redis, settings, clock)
    clock.advance(600)
    second, _ = await left_child(redis, settings, clock)
    clock.advance(600)
    urgent, _ = await left_child(redis, settings, clock, crisis=True)
    desk = make_desk(redis, settings, clock)
    # Closed: the list shows them, urgent first, then in the order left; the queue is empty.
    held = await desk.waiting.out_of_hours()
    assert [h.conv_id for h in held] == [urgent, first, second]
    assert [h.urgent for h in held] == [True, False, False]
    assert held[1].intents == ("sextortion",)
    assert await desk.sweeper.sweep() == []
    assert await desk.waiting.queue() == []

    # Two console processes tick at the moment the line opens: each conversation moves once.
    clock.set(MONDAY_MORNING)
    other = make_desk(redis, settings, clock)
    swept = await asyncio.gather(desk.sweeper.sweep(), other.sweeper.sweep())
    moved = [m.conv_id for result in swept for m in result]
    assert sorted(moved) == sorted([urgent, first, second])
    assert [i.conv_id for i in await desk.waiting.queue()] == [urgent, first, second]
    assert await desk.waiting.out_of_hours() == []
    assert not await redis.exists(chat_keys.OUT_OF_HOURS)
    counted = await redis.hget(chat_keys.stats_day(day_of(clock.now())), "held_queued")
    assert counted == b"3"

    # A child who asks for a person now waits behind them, as if they had waited all weekend.
    store = ConversationStore(redis, announce_to=chat_keys.NOTIFY_STAFF)
    newcomer = new_conversation_id()
    await store.create("h" + newcomer, newcomer, now_ms=to_ms(clock.now()), retention=3600, locale="sv")
    await QueueStore(redis).enqueue(newcomer, now_ms=to_ms(clock.now()), urgent=False, retention=3600)
    assert [i.conv_id for i in await desk.waiting.queue()] == [urgent, first, second, newcomer]
    # Each waiting child is told their place once, also those who are not here (they read it on return).
    told = await asyncio.gather(desk.waiting.announce_positions(), other.waiting.announce_positions())
    assert sorted(m.conv_id for result in told for m in result) == sorted([urgent, first, second])


async def test_the_counsellor_writes_to_a_child_who_is_away_and_sees_whether_it_was_read(
    redis: Redis, settings: Settings, clock: FixedClock
) -> None:
    clock.set(FRIDAY_EVENING)
    conv_id, _ = await left_child(redis, settings, clock)
    desk = make_desk(redis, settings, clock)
    # Out of hours any counsellor may look at it from the list.
    view = await desk.transcripts.view(conv_id, "anna", supervisor=False)
    assert view.held and view.read is None and not view.here
    clock.set(MONDAY_MORNING)
    await desk.sweeper.sweep()
    await on_shift(desk, "anna")
    await desk.actions.claim(conv_id, "anna")
    await desk.actions.reply(conv_id, "anna", "Hej, jag har läst det du skrev.")
    view = await desk.transcripts.view(conv_id, "anna", supervisor=False)
    assert view.read is False and not view.here
    # The child comes back (the gateway marks what their device has): now it is read.
    store = ConversationStore(redis, announce_to=chat_keys.NOTIFY_STAFF)
    await store.present(conv_id, retention=settings.conversation_retention)
    await store.mark_read(conv_id)
    view = await desk.transcripts.view(conv_id, "anna", supervisor=False)
    assert view.read is True and view.here
    await store.absent(conv_id, now_ms=to_ms(clock.now()), retention=settings.conversation_retention)
    assert (await desk.transcripts.view(conv_id, "anna", supervisor=False)).read is True


async def test_a_held_chat_nobody_returns_to_expires_and_the_categorisation_records_it(
    redis: Redis, settings: Settings, clock: FixedClock
) -> None:
    clock.set(FRIDAY_EVENING)
    answered, _ = await left_child(redis, settings, clock)
    clock.set(datetime(2026, 11, 27, 18, 30, tzinfo=UTC))
    never_taken, _ = await left_child(redis, settings, clock)
    desk = make_desk(redis, settings, clock)
    # The counsellor answers one on Monday and ends it; the child never came back to read it.
    clock.set(MONDAY_MORNING)
    await desk.sweeper.sweep()
    await on_shift(desk, "anna")
    await desk.actions.claim(answered, "anna")
    await desk.actions.reply(answered, "anna", "Hej!")
    await desk.actions.end(answered, "anna")
    await desk.actions.categorise(answered, "anna", "sextortion", "unknown", "listened_advised")
    today = chat_keys.stats_day(day_of(clock.now()))
    assert await redis.hget(today, "outcome:not_returned") == b"1"
    assert await redis.hget(today, "outcome:returned") is None

    # The other one nobody took (closing time put it back in the list); it expires with the retention.
    clock.set(datetime(2026, 11, 30, 15, 0, 1, tzinfo=UTC))
    await desk.sweeper.sweep()
    assert [h.conv_id for h in await desk.waiting.out_of_hours()] == [never_taken]
    clock.set(datetime(2026, 12, 4, 18, 0, tzinfo=UTC))  # Friday again, closed; a week since it was left
    clock.advance(settings.conversation_retention - 7 * 86400 + 1800)
    await desk.sweeper.sweep()
    left = await desk.sweeper.settle_left()
    assert [(item.conv_id, item.left_from, item.reason) for item in left] == [
        (never_taken, "left_for_counsellor", "expired")
    ]
    assert await desk.waiting.out_of_hours() == []
    assert await redis.hget(chat_keys.stats_day(day_of(clock.now())), "held_expired") == b"1"


async def test_closing_time_returns_a_held_chat_to_the_out_of_hours_list(
    redis: Redis, settings: Settings, clock: FixedClock
) -> None:
    clock.set(FRIDAY_EVENING)
    conv_id, _ = await left_child(redis, settings, clock)
    desk = make_desk(redis, settings, clock)
    clock.set(MONDAY_MORNING)
    await desk.sweeper.sweep()
    assert [i.conv_id for i in await desk.waiting.queue()] == [conv_id]
    clock.set(datetime(2026, 11, 30, 15, 0, 1, tzinfo=UTC))  # 16:00:01: closed
    await desk.sweeper.sweep()
    assert await desk.waiting.queue() == []
    assert [h.conv_id for h in await desk.waiting.out_of_hours()] == [conv_id]
