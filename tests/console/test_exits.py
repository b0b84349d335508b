"""No exit path leaves a ghost: every way a child leaves (quick exit, end chat, the beacon with the socket
down, a closed tab past CHILD_GRACE, expiry), in every state (bot, queued, with a counsellor), is seen by
the console at once, over the real gateway, console, Redis and python-socketio clients.

And capacity never blocks an urgent child: a full counsellor can still take one (with a warning), and
the supervisor's overview lists urgent children waiting with their wait.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.content.library import ContentLibrary
from chatbot.domain.ending import Ending, EndReason
from chatbot.domain.handoff import Handoff
from chatbot.domain.sessions import session_hash
from chatbot.model import to_ms
from chatbot.settings import Settings
from chatbot.store import keys as chat_keys
from chatbot.store.conversations import ConversationStore
from chatbot.store.queue import QueueStore
from console.appkeys import CONTENT, LIVE
from console.domain.stats import day_of
from console.domain.sweep import GONE
from console.store import keys as staff_keys
from tests.conftest import Child, Gateway, with_settings
from tests.console.conftest import Console, StaffClient
from tests.console.domain.test_desk import make_desk, on_shift, waiting_child
from tests.console.test_live import StaffSocket, expect_child, signed_in

PATHS = ("quick_exit", "end_chat", "beacon", "closed", "expired")
STATES = ("bot", "queued", "counsellor")
# What the conversation's meta says about how it ended, per exit path.
REASONS = {p: p for p in PATHS}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Expiry is tested by moving the clock to the retention's end; with the default seven days the staff
    # sessions would end long before (idle timeout, lifetime), so a shorter retention and a longer idle.
    return with_settings(settings, conversation_retention=6 * 3600, console_idle_timeout=8 * 3600)


async def wait_for(check: Any, tries: int = 200) -> None:
    """Polls `check` (another process does the work) for up to 10 s."""
    for _ in range(tries):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{check.__name__} never became true")


async def conv_of(redis: Redis, child: Child) -> str:
    assert child.session_id is not None
    conv = await redis.get(chat_keys.session(session_hash(child.session_id)))
    return str(conv.decode())


async def new_child(child_factory: Any, gateway: Gateway, redis: Redis) -> tuple[Child, str]:
    child: Child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    return child, await conv_of(redis, child)


async def state_of(redis: Redis, conv_id: str) -> str:
    raw = await redis.hget(chat_keys.conversation(conv_id), "state")
    return raw.decode() if raw else ""


async def queue(child: Child, redis: Redis, conv_id: str, n: int) -> None:
    """The child asks for a person the way the widget's button does."""
    await child.say("/handoff_queued", client_id=f"q-{n}")

    async def queued() -> bool:
        return await state_of(redis, conv_id) == "queued"

    await wait_for(queued)


async def told_a_place(redis: Redis, conv_id: str) -> None:
    """The console has seen this child in the queue (so a change of place is told, not first sight)."""

    async def seen() -> bool:
        return bool(await redis.hexists(chat_keys.conversation(conv_id), "announced"))

    await wait_for(seen)


async def claim(client: StaffClient, conv_id: str) -> str:
    """Take a child from the queue; where the console sends the page next (the message code tells)."""
    return await client.redirected(f"/conversations/{conv_id}/claim", {})


async def leave(
    path: str,
    child: Child,
    gateway: Gateway,
    console: Console,
    clock: FixedClock,
    settings: Settings,
) -> None:
    """The child leaves by `path`, as the widget (or time) does it."""
    assert console.app is not None
    if path in ("quick_exit", "end_chat"):
        await child.sio.emit("end_session", {"reason": path})
        await child.expect("session_ended")
    elif path == "beacon":
        await child.close()  # the socket is down (a tunnel, a school proxy): the beacon alone ends it
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                gateway.url + "/session/end",
                data=child.session_id,
                headers={"Content-Type": "text/plain"},
            ) as response,
        ):
            assert response.status == 204
    elif path == "closed":
        await child.close()  # the tab is closed; nothing else happens until the grace period is over
        await asyncio.sleep(0.3)  # the gateway notices the socket is gone
        clock.advance(settings.child_grace + 1)
        console.app[LIVE].changed()
    else:
        # The chat idles (the tab still open) until almost the retention: the sweep ends it, not Redis.
        clock.advance(settings.conversation_retention - settings.child_grace + 1)
        console.app[LIVE].changed()


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("path", PATHS)
async def test_every_exit_in_every_state_is_seen_by_the_console_at_once(
    path: str,
    state: str,
    console: Console,
    gateway_factory: Any,
    settings: Settings,
    clock: FixedClock,
    child_factory: Any,
    make_account: Any,
    staff_factory: Any,
    redis: Redis,
) -> None:
    gateway = await gateway_factory(settings, clock)  # one clock for both processes
    anna = await signed_in(make_account, staff_factory, "anna")
    # One chat at a time: whether the left chat still counts shows in whether she can take the next.
    await anna.post("/me/status", {"status": "available", "capacity": "1", "display": "Anna"})
    socket = StaffSocket()
    try:
        await socket.connect(console.url, anna.cookie("__Host-staff"))
        await socket.expect("hello")
        child, conv_id = await new_child(child_factory, gateway, redis)
        other: Child | None = None
        if state in ("queued", "counsellor"):
            await queue(child, redis, conv_id, 1)
            await told_a_place(redis, conv_id)
        if state == "counsellor":
            assert "msg=" not in await claim(anna, conv_id)
            await expect_child(child, lambda d: d.get("notice", {}).get("type") == "counsellor_joined")
        if state != "bot":
            # A second child waits behind: their place and wait must be recounted when the first leaves.
            clock.advance(1)  # first come, first served (the same millisecond would sort by id)
            other, other_id = await new_child(child_factory, gateway, redis)
            await queue(other, redis, other_id, 2)
            await told_a_place(redis, other_id)
            if state == "counsellor":
                assert (await claim(anna, other_id)).endswith("msg=full")  # her one slot is taken
            if path == "expired":
                # The second child has written lately: only the first one's chat idles out.
                ahead = settings.conversation_retention * 1000
                await redis.hset(
                    chat_keys.conversation(other_id), "last_activity", to_ms(clock.now()) + ahead
                )

        await leave(path, child, gateway, console, clock, settings)

        # The console sees it at once: "the child has left", with where from and how.
        event = await socket.expect("conversation", lambda d: d["conv_id"] == conv_id and d.get("left"))
        assert event["left_from"] == state and event["state"] == "ended"
        assert event["reason"] == REASONS[path]
        meta = await redis.hgetall(chat_keys.conversation(conv_id))
        assert meta[b"state"] == b"ended" and meta[b"end_reason"] == REASONS[path].encode()
        # The log says so too (the counsellor's transcript), in the child's language.
        assert await redis.lindex(chat_keys.log(conv_id), -1) is not None
        assert b'"notice":"child_left"' in await redis.lindex(chat_keys.log(conv_id), -2)
        assert await QueueStore(redis).position(conv_id) is None
        assert await redis.zscore(chat_keys.AWAY, conv_id) is None
        assert await redis.zscore(chat_keys.LEFT, conv_id) is None  # settled (the outbox is empty)

        day = day_of(clock.now())
        if state == "queued":
            assert other is not None
            # The queue recounts: the child behind is told they are next, with an honest wait.
            update = await expect_child(other, lambda d: d.get("notice", {}).get("type") == "queue_update")
            assert update["notice"]["position"] == 1
            await socket.expect("queue", lambda d: [i["conv_id"] for i in d["items"]] == [other_id])
            assert await redis.hget(chat_keys.stats_day(day), "abandoned") == b"1"
        if state == "counsellor":
            assert event["counsellor"] == "anna"
            # Out of her load at once: the slot is free, and the next child can be taken.
            assert await redis.scard(staff_keys.assigned("anna")) == 0
            assert await redis.hget(chat_keys.COUNSELLORS_AVAILABLE, "anna") == b"1"
            status, page = await anna.get("/queue")
            assert (
                status == 200 and "The child has left." in page and f"/conversations/{conv_id}/done" in page
            )
            status, page = await anna.get(f"/conversations/{conv_id}")
            assert status == 200 and 'id="child-left" role="status" >' in page
            assert 'id="reply-form"' not in page
            assert "msg=" not in await claim(anna, other_id)
            # She can still categorise it, with the outcome "the child left"; once.
            form = {"topic": "other", "age": "unknown", "handled": "child_left"}
            assert (await anna.post(f"/conversations/{conv_id}/categorise", form))[0] == 303
            assert (await anna.post(f"/conversations/{conv_id}/categorise", form))[0] == 303
            stats = await redis.hgetall(chat_keys.stats_day(day))
            assert stats[b"handled:child_left"] == b"1" and stats[b"child_left"] == b"1"
            assert "The child has left." not in (await anna.get("/queue"))[1]
        if state == "bot":
            assert await redis.scard(staff_keys.assigned("anna")) == 0
    finally:
        await socket.close()


async def test_a_child_who_comes_back_within_the_grace_period_stays(
    console: Console,
    gateway_factory: Any,
    settings: Settings,
    clock: FixedClock,
    child_factory: Any,
    redis: Redis,
) -> None:
    gateway = await gateway_factory(settings, clock)
    child, conv_id = await new_child(child_factory, gateway, redis)
    await queue(child, redis, conv_id, 1)
    await child.close()

    async def away() -> bool:
        return await redis.zscore(chat_keys.AWAY, conv_id) is not None

    await wait_for(away)
    clock.advance(settings.child_grace - 5)
    # The page reloads (the same session id): the child is back, the clock runs past the grace period.
    back: Child = child_factory(gateway.url)
    await back.connect()
    state = await back.start(session_id=child.session_id, last_seq=0)
    assert state["resumed"] is True
    assert await redis.zscore(chat_keys.AWAY, conv_id) is None
    clock.advance(60)
    assert console.app is not None
    await console.app[LIVE].tick()
    assert await state_of(redis, conv_id) == "queued"
    assert await QueueStore(redis).position(conv_id) == 1


async def test_two_consoles_ending_the_same_closed_tab_end_it_once(
    console: Console,
    gateway_factory: Any,
    settings: Settings,
    clock: FixedClock,
    child_factory: Any,
    redis: Redis,
) -> None:
    gateway = await gateway_factory(settings, clock)
    child, conv_id = await new_child(child_factory, gateway, redis)
    await child.close()

    async def away() -> bool:
        return await redis.zscore(chat_keys.AWAY, conv_id) is not None

    await wait_for(away)
    clock.advance(settings.child_grace + 1)
    assert console.app is not None
    # Two console processes sweeping at the same moment, each with its own ending over the same Redis.
    endings = [
        Ending(
            ConversationStore(redis, announce_to=chat_keys.NOTIFY_CHILDREN),
            console.app[CONTENT],
            clock,
            settings,
        )
        for _ in range(2)
    ]
    ended = await asyncio.gather(*(e.sweep() for e in endings))
    # (The console's own ticker may be a third at the same moment.) One of them ends it, once.
    assert sum(len(found) for found in ended) <= 1
    assert await state_of(redis, conv_id) == "ended"
    log = await redis.lrange(chat_keys.log(conv_id), 0, -1)
    assert sum(b'"notice":"child_left"' in item for item in log) == 1


async def test_an_urgent_child_is_never_refused_for_capacity(
    console: Console,
    gateway_factory: Any,
    settings: Settings,
    clock: FixedClock,
    child_factory: Any,
    make_account: Any,
    staff_factory: Any,
    redis: Redis,
) -> None:
    gateway = await gateway_factory(settings, clock)
    anna = await signed_in(make_account, staff_factory, "anna")
    sam = await signed_in(make_account, staff_factory, "sam", "supervisor")
    await anna.post("/me/status", {"status": "available", "capacity": "1", "display": "Anna"})
    socket = StaffSocket()  # her console is open (else her grace period would start)
    await socket.connect(console.url, anna.cookie("__Host-staff"))
    first, first_id = await new_child(child_factory, gateway, redis)
    await queue(first, redis, first_id, 1)
    assert "msg=" not in await claim(anna, first_id)  # she is full now

    calm, calm_id = await new_child(child_factory, gateway, redis)
    await queue(calm, redis, calm_id, 2)
    urgent, urgent_id = await new_child(child_factory, gateway, redis)
    await queue(urgent, redis, urgent_id, 3)
    await urgent.say("jag vill inte leva längre", client_id="c-1")
    await expect_child(urgent, lambda d: "116 111" in d.get("text", ""))  # the numbers, at once

    async def flagged() -> bool:
        return await redis.hget(chat_keys.conversation(urgent_id), "urgent") == b"1"

    await wait_for(flagged)
    clock.advance(240)  # four minutes of waiting

    # The supervisor sees the urgent child waiting, first in the queue, with the wait.
    status, page = await sam.get("/overview")
    assert status == 200
    assert f'<tr data-conv="{urgent_id}" class="urgent"><td>1</td>' in page
    assert 'data-waited="240">4 min' in page
    assert calm_id not in page.split('id="urgent-waiting"')[1].split("</table>")[0]

    # Full: a calm child waits for a free slot, an urgent one is taken anyway, with a warning.
    assert (await claim(anna, calm_id)).endswith("msg=full")
    assert (await claim(anna, urgent_id)).endswith("msg=over_capacity")
    status, page = await anna.get(f"/conversations/{urgent_id}?msg=over_capacity")
    assert status == 200 and "over your capacity" in page
    assert await redis.scard(staff_keys.assigned("anna")) == 2
    assert await redis.hget(chat_keys.COUNSELLORS_AVAILABLE, "anna") == b"0"
    await expect_child(urgent, lambda d: d.get("notice", {}).get("type") == "counsellor_joined")
    await socket.close()


async def test_a_crisis_while_a_counsellor_chats_alerts_her_and_the_bot_does_not_talk_over_her(
    console: Console,
    gateway_factory: Any,
    settings: Settings,
    clock: FixedClock,
    child_factory: Any,
    make_account: Any,
    staff_factory: Any,
    redis: Redis,
) -> None:
    gateway = await gateway_factory(settings, clock)
    anna = await signed_in(make_account, staff_factory, "anna")
    await anna.post("/me/status", {"status": "available", "capacity": "2", "display": "Anna"})
    socket = StaffSocket()
    try:
        await socket.connect(console.url, anna.cookie("__Host-staff"))
        await socket.expect("hello")
        child, conv_id = await new_child(child_factory, gateway, redis)
        await queue(child, redis, conv_id, 1)
        assert "msg=" not in await claim(anna, conv_id)
        await expect_child(child, lambda d: d.get("notice", {}).get("type") == "counsellor_joined")
        status, page = await anna.get(f"/conversations/{conv_id}")
        assert status == 200 and 'id="urgent-mark" hidden' in page

        await child.say("jag vill inte leva längre", client_id="c-1")
        numbers = await expect_child(child, lambda d: "116 111" in d.get("text", ""))
        assert "90101" in numbers["text"] and "quick_replies" not in numbers
        alert = await socket.expect("urgent", lambda d: d["conv_id"] == conv_id)
        assert alert == {"conv_id": conv_id, "state": "counsellor", "counsellor": "anna"}
        said = [e["text"] for e in child.seen if e.get("role") == "bot"]
        assert not any("kurator här också" in text for text in said)
        status, page = await anna.get(f"/conversations/{conv_id}")
        assert status == 200 and 'id="urgent-mark" >' in page  # the marker stays on every later look
    finally:
        await socket.close()


async def test_a_chat_redis_already_forgot_leaves_the_load_at_the_next_sweep(
    redis: Redis, settings: Settings, clock: FixedClock
) -> None:
    """The backstop: a conversation whose keys expired before any sweep could end it (the console was
    down for the retention) is no ghost either: it leaves the load, and the pages are told it is gone."""
    desk = make_desk(redis, settings, clock)
    await on_shift(desk, "anna", capacity=1)
    conv_id = await waiting_child(redis, settings, clock)
    await desk.actions.claim(conv_id, "anna")
    assert await redis.hget(chat_keys.COUNSELLORS_AVAILABLE, "anna") == b"0"
    await redis.delete(*chat_keys.conversation_keys(conv_id))  # what Redis expiry does
    moved = await desk.sweeper.sweep()
    assert [(m.conv_id, m.detail) for m in moved] == [(conv_id, GONE)]
    assert await redis.scard(staff_keys.assigned("anna")) == 0
    assert await redis.hget(chat_keys.COUNSELLORS_AVAILABLE, "anna") == b"1"
    assert await desk.sweeper.sweep() == []  # once


async def test_the_child_behind_is_told_the_new_place_even_before_the_console_first_saw_them(
    redis: Redis, settings: Settings, clock: FixedClock
) -> None:
    """Both children ask for a person the way the dialogue queues them; the first leaves before any
    console tick saw the second. The second was told "number 2" and must now hear "number 1"."""
    desk = make_desk(redis, settings, clock)
    store = ConversationStore(redis, announce_to=chat_keys.NOTIFY_STAFF)
    handoff = Handoff(
        QueueStore(redis), store, clock, retention=settings.conversation_retention, average_chat_minutes=15
    )
    first = await waiting_child(redis, settings, clock)
    clock.advance(1)
    second = await waiting_child(redis, settings, clock)
    for conv_id in (first, second):
        await handoff.request(conv_id)  # what DialogueBot._join_queue does, and tells the child
    assert (
        await redis.hget(chat_keys.conversation(second), "announced") == b"2/30"
    )  # nobody on shift: an honest, long wait
    content = ContentLibrary.load(settings.content_dir, settings.locales_dir, settings.default_locale)
    await Ending(store, content, clock, settings).end(first, EndReason.QUICK_EXIT)
    await desk.sweeper.sweep()
    await desk.sweeper.settle_left()
    moved = await desk.waiting.announce_positions()
    assert [(m.conv_id, m.entries[0].extra) for m in moved] == [
        (second, {"notice": "queue_update", "position": 1, "wait": 15})
    ]
