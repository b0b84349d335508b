"""Leaving a conversation for the counsellors out of hours, and coming back with the return code: over the
real gateway, Redis and python-socketio clients, on the test's clock (a Friday evening, then Monday)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from chatbot.content.library import ContentLibrary
from chatbot.domain import returns
from chatbot.domain.ending import Ending
from chatbot.domain.floods import RETURN_CODES_BURST
from chatbot.domain.sessions import session_hash
from chatbot.model import Entry, Role, to_ms
from chatbot.settings import Settings
from chatbot.store import keys
from chatbot.store.conversations import ConversationStore
from chatbot.upload.codes import new_case_code
from tests.conftest import Child, FixedClock, Gateway

# Every test here runs on one Redis and on a Redis Cluster of three primaries (tests/cluster.py).
pytestmark = pytest.mark.cluster

# Friday 27 November 2026, 19:00 in Stockholm (18:00 UTC): the line (mon-fri 09-16) is closed until Monday.
FRIDAY_EVENING = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
MONDAY_MORNING = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm: open


async def conv_of(redis: Redis, child: Child) -> str:
    assert child.session_id is not None
    raw = await redis.get(keys.session(session_hash(child.session_id)))
    assert raw is not None
    return str(raw.decode())


async def leaving_child(child_factory: Any, gateway: Gateway, redis: Redis) -> tuple[Child, str, str]:
    """A child who asks for a person on Friday evening and leaves the chat for the counsellors."""
    child: Child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    conv_id = await conv_of(redis, child)
    await child.say("jag vill prata med en människa", client_id="c-1")
    reply = await child.expect("bot_uttered")
    while "Lämna chatten till kuratorerna" not in str(reply.get("quick_replies")):
        reply = await child.expect("bot_uttered")
    await child.sio.emit("leave_request", {})
    code = await child.expect("return_code")
    return child, conv_id, str(code["code"])


async def state_of(redis: Redis, conv_id: str) -> str:
    raw = await redis.hget(keys.conversation(conv_id), "state")
    return raw.decode() if raw else ""


def test_return_codes_have_their_own_check_and_a_case_code_is_never_one() -> None:
    code = returns.new_return_code()
    assert len(code) == 24 and code.count("-") == 4
    assert returns.normalize(code.lower().replace("-", " ")) == code.replace("-", "")
    with pytest.raises(returns.errors.MistypedReturnCode):
        returns.normalize(new_case_code())
    # Every single wrong character is caught.
    for i, ch in enumerate(code):
        if ch == "-":
            continue
        other = "0" if ch != "0" else "1"
        with pytest.raises(returns.errors.MistypedReturnCode):
            returns.normalize(code[:i] + other + code[i + 1 :])
    with pytest.raises(returns.errors.MalformedReturnCode):
        returns.normalize("hej")


async def test_left_on_friday_survives_quick_exit_and_opens_on_monday_on_another_device(
    gateway_factory: Any, settings: Settings, clock: FixedClock, child_factory: Any, redis: Redis
) -> None:
    clock.set(FRIDAY_EVENING)
    gateway = await gateway_factory(settings)
    child, conv_id, code = await leaving_child(child_factory, gateway, redis)
    # Left for the counsellors: in the out-of-hours list, the notice in the log, the code nowhere in clear.
    assert await state_of(redis, conv_id) == "left_for_counsellor"
    assert await redis.zscore(keys.OUT_OF_HOURS, conv_id) is not None
    assert 0 < await redis.ttl(keys.OUT_OF_HOURS) <= settings.conversation_retention
    return_key = (await redis.hget(keys.conversation(conv_id), "return_key") or b"").decode()
    assert 0 < await redis.ttl(return_key) <= settings.conversation_retention
    notice = await child.expect("bot_uttered")
    assert notice["notice"]["type"] == "left_for_counsellor"
    assert "mån 30 november 09:00" in notice["text"]
    normalized = code.replace("-", "")
    async for key in redis.scan_iter("sc:*"):
        assert normalized.encode() not in key and code.encode() not in key
        if await redis.type(key) == b"string":
            value = await redis.get(key)
            assert normalized.encode() not in value and code.encode() not in value
    for entry in await ConversationStore(redis, announce_to=keys.NOTIFY_STAFF).read(conv_id):
        assert code not in entry.text and normalized not in entry.text

    # Quick exit: the device is let go (its session id is dead), the conversation is not ended.
    await child.sio.emit("end_session", {"reason": "quick_exit"})
    await child.expect("session_ended")
    await child.close()
    assert await state_of(redis, conv_id) == "left_for_counsellor"
    assert not await redis.exists(keys.session(session_hash(child.session_id or "")))
    # A closed tab for longer than CHILD_GRACE does not end it either (the console's sweep).
    clock.advance(settings.child_grace + 60)
    ending = Ending(
        ConversationStore(redis, announce_to=keys.NOTIFY_STAFF),
        ContentLibrary.load(settings.content_dir, settings.locales_dir),
        clock,
        settings,
    )
    assert await ending.sweep() == []
    assert await state_of(redis, conv_id) == "left_for_counsellor"

    # Monday: a counsellor wrote to the child who is not here (as the console does).
    clock.set(MONDAY_MORNING)
    console = ConversationStore(redis, announce_to=keys.NOTIFY_CHILDREN)
    await console.append(
        conv_id,
        [
            Entry(
                Role.COUNSELLOR, "Hej, jag heter Sara. Jag har läst det du skrev.", clock.now(), author="Sara"
            )
        ],
        now_ms=to_ms(clock.now()),
        retention=settings.conversation_retention,
    )
    assert (await redis.hget(keys.conversation(conv_id), "read_seq")) is not None
    read_before = int(await redis.hget(keys.conversation(conv_id), "read_seq") or 0)

    # Another device, the code typed in lower case with spaces: the whole conversation, Sara's words too.
    other: Child = child_factory(gateway.url)
    await other.connect()
    await other.sio.emit("resume_code", {"code": code.lower().replace("-", " ")})
    assert isinstance(await other.expect("session_confirm"), str)
    state = await other.expect("session_state")
    assert state["resumed"] is True and state["returned"] is True
    history = await other.expect("history")
    texts = [e["text"] for e in history["entries"]]
    assert "jag vill prata med en människa" in texts
    assert texts[-1] == "Hej, jag heter Sara. Jag har läst det du skrev."
    # Read: the counsellor's console sees it (and nothing else about the child).
    read_after = int(await redis.hget(keys.conversation(conv_id), "read_seq") or 0)
    assert read_after > read_before and read_after == history["last_seq"]
    # The child can go on writing in it.
    await other.say("tack!", client_id="c-2")
    ack = await other.expect("message_ack")
    assert ack["seq"] == history["last_seq"] + 1


async def test_wrong_codes_get_typed_answers_and_a_flood_of_guesses_is_limited(
    gateway_factory: Any, settings: Settings, clock: FixedClock, child_factory: Any, redis: Redis
) -> None:
    clock.set(FRIDAY_EVENING)
    gateway = await gateway_factory(settings)
    _, conv_id, code = await leaving_child(child_factory, gateway, redis)
    guesser: Child = child_factory(gateway.url)
    await guesser.connect()
    near = code[:-1] + ("0" if code[-1] != "0" else "1")  # one character off: just "a typing mistake"
    answers = {}
    for name, attempt in {
        "malformed": "hej hej",
        "mistyped": near,
        "case_code": new_case_code(),
        "unknown": returns.new_return_code(),
        "not_text": 12345,
    }.items():
        await guesser.sio.emit("resume_code", {"code": attempt})
        error = await guesser.expect("error")
        answers[name] = error["code"]
        # Nothing about the real code in any answer.
        assert code not in str(error)
    assert answers == {
        "malformed": "return_code_malformed",
        "mistyped": "return_code_mistyped",
        "case_code": "return_code_mistyped",
        "unknown": "return_code_unknown",
        "not_text": "return_code_malformed",
    }
    # Ten tries in a burst, then refused before the code is even looked at: the right code too.
    for _ in range(RETURN_CODES_BURST - len(answers)):
        await guesser.sio.emit("resume_code", {"code": returns.new_return_code()})
        assert (await guesser.expect("error"))["code"] == "return_code_unknown"
    await guesser.sio.emit("resume_code", {"code": code})
    limited = await guesser.expect("error")
    assert limited["code"] == "return_code_limit"
    assert limited["retry_after_ms"] > 0
    assert await redis.hget(keys.conversation(conv_id), "returned") is None
    # Time refills the bucket (the clock, not a sleep): the right code works again.
    clock.advance(limited["retry_after_ms"] / 1000)
    await guesser.sio.emit("resume_code", {"code": code})
    assert (await guesser.expect("session_state"))["returned"] is True


async def test_the_code_dies_with_the_conversation(
    gateway_factory: Any, settings: Settings, clock: FixedClock, child_factory: Any, redis: Redis
) -> None:
    clock.set(FRIDAY_EVENING)
    gateway = await gateway_factory(settings)
    child, conv_id, code = await leaving_child(child_factory, gateway, redis)
    return_key = (await redis.hget(keys.conversation(conv_id), "return_key") or b"").decode()
    assert await redis.ttl(return_key) > 0
    # The child ends it (end chat, not a quick exit): ended, the code dead at once.
    await child.sio.emit("end_session", {"reason": "end_chat"})
    await child.expect("session_ended")
    assert await state_of(redis, conv_id) == "ended"
    assert not await redis.exists(return_key)
    assert await redis.zscore(keys.OUT_OF_HOURS, conv_id) is None
    other: Child = child_factory(gateway.url)
    await other.connect()
    await other.sio.emit("resume_code", {"code": code})
    assert (await other.expect("error"))["code"] == "return_code_unknown"

    # Nobody comes back to another one: it expires with the conversation retention, and its code too.
    _, conv2, code2 = await leaving_child(child_factory, gateway, redis)
    clock.advance(settings.conversation_retention - 60)
    ending = Ending(
        ConversationStore(redis, announce_to=keys.NOTIFY_STAFF),
        ContentLibrary.load(settings.content_dir, settings.locales_dir),
        clock,
        settings,
    )
    ended = await ending.sweep()
    assert [e.conv_id for e in ended if e.conv_id == conv2] == [conv2]
    assert ended[-1].left_from.value == "left_for_counsellor"
    await other.sio.emit("resume_code", {"code": code2})
    assert (await other.expect("error"))["code"] == "return_code_unknown"


async def test_crisis_out_of_hours_gets_help_at_once_and_marks_the_left_chat_urgent(
    gateway_factory: Any, settings: Settings, clock: FixedClock, child_factory: Any, redis: Redis
) -> None:
    clock.set(FRIDAY_EVENING)
    gateway = await gateway_factory(settings)
    _, first, first_code = await leaving_child(child_factory, gateway, redis)
    clock.advance(300)
    child, second, _ = await leaving_child(child_factory, gateway, redis)
    assert await redis.zrange(keys.OUT_OF_HOURS, 0, -1) == [first.encode(), second.encode()]
    # Left again later (a new code, the old one dead): the first one keeps its place.
    clock.advance(300)
    first_child = child_factory(gateway.url)
    await first_child.connect()
    await first_child.sio.emit("resume_code", {"code": first_code})
    await first_child.expect("history")
    await first_child.sio.emit("leave_request", {})
    new_code = (await first_child.expect("return_code"))["code"]
    assert new_code != first_code
    assert await redis.zrange(keys.OUT_OF_HOURS, 0, -1) == [first.encode(), second.encode()]
    await first_child.sio.emit("resume_code", {"code": first_code})
    assert (await first_child.expect("error"))["code"] == "return_code_unknown"
    await child.drain()
    await child.say("jag vill inte leva längre", client_id="c-9")
    answer = await child.expect("bot_uttered")
    while answer.get("role") != "bot":
        answer = await child.expect("bot_uttered")
    assert "112" in answer["text"] or "90101" in answer["text"]
    assert await redis.hget(keys.conversation(second), "urgent") == b"1"
    # Urgent first in the out-of-hours list, ahead of the one left earlier.
    assert await redis.zrange(keys.OUT_OF_HOURS, 0, -1) == [second.encode(), first.encode()]


async def test_leaving_needs_a_closed_line_or_a_queue_place(
    gateway_factory: Any, settings: Settings, clock: FixedClock, child_factory: Any, redis: Redis
) -> None:
    gateway = await gateway_factory(settings)  # Tuesday 10:00: open
    child: Child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    conv_id = await conv_of(redis, child)
    await child.sio.emit("leave_request", {})
    refused = await child.expect("error")
    assert refused["code"] == "cannot_leave"
    # Queued behind two others with nobody on shift (a long wait): the offer to leave it for the counsellor.
    for n in range(2):
        ahead: Child = child_factory(gateway.url)
        await ahead.connect()
        await ahead.start()
        await ahead.say("/handoff_queued", client_id=f"a-{n}")
        await ahead.expect("message_ack")
        clock.advance(1)  # one after the other (the queue orders by the clock)
    await child.say("/handoff_queued", client_id="q-1")
    offer = await child.expect("bot_uttered")
    while "Lämna chatten till kuratorn" not in str(offer.get("quick_replies")):
        offer = await child.expect("bot_uttered")
    await child.sio.emit("leave_request", {})
    assert (await child.expect("return_code"))["code"]
    assert await redis.zrank(keys.QUEUE, conv_id) == 2
    await child.sio.emit("end_session", {"reason": "quick_exit"})
    await child.expect("session_ended")
    assert await state_of(redis, conv_id) == "queued"
    assert await redis.zrank(keys.QUEUE, conv_id) == 2
