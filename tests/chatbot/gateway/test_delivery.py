"""The delivery writes socket.io frames itself (one encoder, no task per recipient): they must be exactly
the frames python-socketio would write, for every kind of payload the gateway sends."""

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
]


@pytest.mark.parametrize(("event", "data"), PAYLOADS)
def test_a_frame_is_python_socketios_own(event: str, data: Any) -> None:
    expected = packet.Packet(packet.EVENT, namespace=protocol.NAMESPACE, data=[event, data]).encode()
    assert event_frame(event, data) == expected
    decoded = packet.Packet(encoded_packet=event_frame(event, data))
    assert decoded.packet_type == packet.EVENT and decoded.data == [event, data]


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
