"""The delivery writes socket.io frames itself (orjson, no task per recipient): python-socketio must read them
back as the same data, for every kind of payload the gateway sends, and where a frame is all ASCII it must be
python-socketio's own frame, byte for byte."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from socketio import packet

from chatbot.gateway import protocol
from chatbot.gateway.delivery import event_frame
from chatbot.model import Entry, QuickReply, Role

PAYLOADS: list[tuple[str, Any]] = [
    (protocol.TURN, {"ack": {"client_id": "c-1", "seq": 3, "duplicate": False}, "bubbles": []}),
    (
        protocol.TURN,
        {
            "bubbles": [
                {"seq": 4, "role": "bot", "text": "Hej! Vad vill du prata om?", "ts": 1_700_000_000_000},
                {"seq": 5, "text": "أنا هنا لأساعدك", "quick_replies": [{"title": "نعم", "payload": "/ja"}]},
            ]
        },
    ),
    (protocol.BOT_UTTERED, {"text": 'Citat "så här" \\ snedstreck\n och 😀 och \u2028', "seq": 1}),
    (protocol.HISTORY, {"entries": [], "last_seq": 0}),
    (protocol.TYPING, {"role": "counsellor", "on": True}),
    (protocol.TURN, {"numbers": [1, 2.5, -3, None, True], "empty": {}, "nested": [[[]]]}),
    # A lone surrogate, which UTF-8 cannot carry: escaped as python-socketio escapes it.
    (protocol.BOT_UTTERED, {"text": "a\ud800b"}),
]


@pytest.mark.parametrize(("event", "data"), PAYLOADS)
def test_python_socketio_reads_a_frame_back_as_its_data(event: str, data: Any) -> None:
    theirs = packet.Packet(packet.EVENT, namespace=protocol.NAMESPACE, data=[event, data]).encode()
    ours = event_frame(event, data)
    decoded = packet.Packet(encoded_packet=ours)
    assert decoded.packet_type == packet.EVENT and (decoded.namespace or "/") == protocol.NAMESPACE
    assert decoded.data == [event, data] == packet.Packet(encoded_packet=theirs).data
    if ours.isascii():
        assert ours == theirs
    else:  # letters kept, where python-socketio writes \uXXXX escapes: fewer bytes on the wire
        assert len(ours.encode()) < len(theirs.encode())


def test_an_entry_is_compact_json_that_keeps_its_letters() -> None:
    entry = Entry(
        Role.BOT,
        "Du är inte ensam. أنت لست وحدك 💛",
        datetime(2026, 12, 5, 11, 0, tzinfo=UTC),
        quick_replies=(QuickReply("Ja", "/ja"),),
        intent="greet",
    )
    raw = entry.to_json()
    assert raw == json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":"))
    assert "أنت لست وحدك 💛" in raw and ": " not in raw
    assert Entry.from_json(raw, 7) == entry.with_seq(7)


def test_an_entry_that_utf8_cannot_carry_fails_when_it_is_sent_as_it_always_did() -> None:
    entry = Entry(Role.CHILD, "a\ud800b", datetime(2026, 12, 5, 11, 0, tzinfo=UTC))
    raw = entry.to_json()
    assert json.loads(raw)["text"] == "a\ud800b"
    with pytest.raises(UnicodeEncodeError):
        raw.encode()
