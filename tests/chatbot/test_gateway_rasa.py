"""Both protocol modes end to end (issue 17): a plain Rasa client gets Rasa 3.6's channel exactly, a client
that asks for the extensions gets one compact frame per turn. Real python-socketio clients, real Redis."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from redis.asyncio import Redis

from chatbot.content.library import ContentLibrary
from chatbot.model import Role
from chatbot.settings import Settings
from chatbot.store import keys
from tests.conftest import with_settings

RASA_SHAPES = ({"text"}, {"text", "quick_replies"})


def answer_texts(answer_id: str, locale: str = "sv") -> list[str]:
    settings = Settings()
    content = ContentLibrary.load(settings.content_dir, settings.locales_dir, settings.default_locale)
    return [r.text for r in content.get(answer_id).replies(locale, retention_days=7, next_open="")]


def assert_rasa(events: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Only events a Rasa client knows, each bot_uttered with exactly Rasa's keys; the messages."""
    assert {name for name, _ in events} <= {"session_confirm", "bot_uttered"}, events
    messages = [data for name, data in events if name == "bot_uttered"]
    for message in messages:
        assert set(message) in RASA_SHAPES, message
        assert isinstance(message["text"], str) and message["text"]
        for button in message.get("quick_replies", []):
            assert set(button) == {"content_type", "title", "payload"} and button["content_type"] == "text"
    return messages


async def conversation_log(redis: Redis, session_id: str) -> list[dict[str, Any]]:
    conv_id = (await redis.get(keys.session(hashlib.sha256(session_id.encode()).hexdigest()))).decode()
    return [json.loads(raw) for raw in await redis.lrange(keys.log(conv_id), 0, -1)]


async def test_a_plain_rasa_client_gets_rasas_channel_exactly(
    gateway: Any, child_factory: Any, redis: Redis
) -> None:
    rasa = child_factory(gateway.url)
    await rasa.connect(transports=["polling", "websocket"])
    await rasa.sio.emit("session_request", {"session_id": None})
    session_id = await rasa.expect("session_confirm")
    assert isinstance(session_id, str)
    # The welcome as bot_uttered messages, the buttons on the last one, and nothing else.
    welcome = assert_rasa(await rasa.drain(0.5))
    assert [m["text"] for m in welcome] == answer_texts("welcome")
    assert welcome[-1]["quick_replies"]

    # rasa-webchat's init payload: the welcome is already there, so nothing more comes and nothing is stored.
    await rasa.sio.emit("user_uttered", {"message": "/get_started", "session_id": session_id})
    assert await rasa.drain(0.4) == []

    # A tapped button and free text are answered in Rasa's shapes; no message_ack, no seq/role/ts.
    tapped = welcome[-1]["quick_replies"][0]
    await rasa.sio.emit("user_uttered", {"message": tapped["payload"], "session_id": session_id})
    answer = assert_rasa(await rasa.drain(0.5))
    assert answer
    await rasa.sio.emit("user_uttered", {"message": "/no_such_button", "session_id": session_id})
    assert [m["text"] for m in assert_rasa(await rasa.drain(0.5))] == answer_texts("fallback")

    # Later, /restart means the welcome again; an empty message (an error for the widget) stays silent.
    await rasa.sio.emit("user_uttered", {"message": "/restart", "session_id": session_id})
    assert [m["text"] for m in assert_rasa(await rasa.drain(0.5))] == answer_texts("welcome")
    await rasa.sio.emit("user_uttered", {"message": "   ", "session_id": session_id})
    await rasa.sio.emit("user_uttered", {"message": None, "session_id": session_id})
    assert await rasa.drain(0.4) == []

    # Server side the log holds each thing once: one welcome at the start, no /get_started.
    log = await conversation_log(redis, session_id)
    texts = [e["text"] for e in log]
    assert "/get_started" not in texts
    assert texts[: len(welcome)] == answer_texts("welcome")
    assert texts.count(tapped["payload"]) == 1


async def test_a_plain_client_reconnecting_gets_only_whats_new(
    gateway: Any, child_factory: Any, redis: Redis
) -> None:
    """Rasa clients keep their own history: a resume sends no replay, and live entries come once."""
    first = child_factory(gateway.url)
    await first.connect()
    await first.sio.emit("session_request", {"session_id": None})
    session_id = await first.expect("session_confirm")
    await first.drain(0.3)
    await first.close()

    again = child_factory(gateway.url)
    await again.connect()
    await again.sio.emit("session_request", {"session_id": session_id})
    assert await again.expect("session_confirm") == session_id
    assert await again.drain(0.4) == []
    # What it writes next is answered once, stored once.
    await again.sio.emit("user_uttered", {"message": "hej", "session_id": session_id})
    first_answer = assert_rasa(await again.drain(0.5))
    assert len(first_answer) >= 1
    log = await conversation_log(redis, session_id)
    assert [e["text"] for e in log].count("hej") == 1


async def test_a_rate_limited_plain_client_gets_the_notice_in_rasas_shape_and_no_error(
    gateway_factory: Any, settings: Settings, child_factory: Any
) -> None:
    gateway = await gateway_factory(with_settings(settings, rate_limit_burst=1, rate_limit_per_minute=1))
    rasa = child_factory(gateway.url)
    await rasa.connect()
    await rasa.sio.emit("session_request", {})
    session_id = await rasa.expect("session_confirm")
    await rasa.drain(0.3)
    await rasa.sio.emit("user_uttered", {"message": "hej", "session_id": session_id})
    await rasa.sio.emit("user_uttered", {"message": "hej igen", "session_id": session_id})
    messages = assert_rasa(await rasa.drain(0.6))
    assert [m["text"] for m in messages][-len(answer_texts("rate_limited")) :] == answer_texts("rate_limited")


async def test_the_extensions_come_as_one_frame_per_turn(gateway: Any, child_factory: Any) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    state = await child.start()
    await child.expect("history")
    await child.drain(0.2)
    child.recorded.clear()
    await child.say("/takedown_help", client_id="t-1")
    ack = await child.expect("message_ack")
    await child.drain(0.4)
    frames = child.recorded
    # One frame: the acknowledgement and every bubble, no separate message_ack or bot_uttered.
    assert [name for name, _ in frames] == ["turn"], frames
    frame = frames[0][1]
    assert frame["ack"] == ack == {"client_id": "t-1", "seq": state["last_seq"] + 1, "duplicate": False}
    bubbles = frame["entries"]
    assert [b["text"] for b in bubbles] == answer_texts("takedown_help")
    assert [b["seq"] for b in bubbles] == list(range(ack["seq"] + 1, ack["seq"] + 1 + len(bubbles)))
    assert all(b["role"] == Role.BOT.value and isinstance(b["ts"], int) for b in bubbles)

    # A resend is acknowledged as a duplicate in a frame of its own, without the answer again.
    child.recorded.clear()
    await child.say("/takedown_help", client_id="t-1")
    await child.drain(0.4)
    assert child.recorded == [("turn", {"ack": {**ack, "duplicate": True}, "entries": []})]


async def test_another_tab_gets_the_bubbles_without_the_ack(gateway: Any, child_factory: Any) -> None:
    one = child_factory(gateway.url)
    await one.connect()
    await one.start()
    two = child_factory(gateway.url)
    await two.connect()
    await two.start(session_id=one.session_id, last_seq=0)
    await one.drain(0.2)
    await two.drain(0.2)
    one.recorded.clear()
    two.recorded.clear()
    await one.say("/anonymity", client_id="a-1")
    await one.drain(0.4)
    await two.drain(0.1)
    assert [name for name, _ in one.recorded] == ["turn"] and "ack" in one.recorded[0][1]
    # The other tab first gets the child's own message (issue 19: every tab sees what the child wrote), then
    # the answer's bubbles in one turn, without the ack.
    assert [name for name, _ in two.recorded] == ["bot_uttered", "turn"]
    echo, turn = two.recorded[0][1], two.recorded[1][1]
    assert echo["role"] == "child" and echo["client_id"] == "a-1"
    assert "ack" not in turn and turn["entries"] == one.recorded[0][1]["entries"]
