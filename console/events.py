"""Event names and payload shapes of the staff socket.io namespace: the one place that defines its wire.

`docs/console-api.md` documents each of them.
"""

from __future__ import annotations

from typing import Any

from chatbot.model import Entry, to_ms
from console.domain.waiting import HeldItem, QueueItem
from console.store.handoff import ShiftRecord

NAMESPACE = "/staff"
SOCKETIO_PATH = "socket.io"

# Client to server.
WATCH = "watch"  # {conv_id, last_seq?} ; answered with `entries` (the transcript the staff may see)
UNWATCH = "unwatch"  # {conv_id}
TYPING = "typing"  # {conv_id, on: bool} ; the counsellor is typing (only the assigned counsellor)

# Server to client.
HELLO = "hello"  # {name, role}
QUEUE = "queue"  # {items: [...], on_shift: [...]} ; whenever the queue or a load changes
# {conv_id, state, counsellor}: state "queued": an urgent child entered the queue (alert everyone on
# shift); state "counsellor": the crisis check hit in a chat a counsellor has (alert her at once).
URGENT = "urgent"
ENTRIES = "entries"  # {conv_id, entries: [...], last_seq}
# {conv_id, state, counsellor} ; claimed, transferred, requeued, ended by the counsellor. When the child
# has left (any exit path): {conv_id, state: "ended" (or "gone"), counsellor, left: true, left_from, reason}.
CONVERSATION = "conversation"
CHILD_TYPING = "child_typing"  # {conv_id, on}
ERROR = "error"  # {code, detail}


def entry(item: Entry) -> dict[str, Any]:
    data: dict[str, Any] = {"seq": item.seq, "role": item.role.value, "text": item.text, "ts": to_ms(item.ts)}
    if item.author:
        data["author"] = item.author
    if item.extra.get("notice"):
        data["notice"] = item.extra["notice"]
    return data


def entries(conv_id: str, items: list[Entry]) -> dict[str, Any]:
    return {
        "conv_id": conv_id,
        "entries": [entry(e) for e in items],
        "last_seq": items[-1].seq if items else 0,
    }


def queue_item(item: QueueItem) -> dict[str, Any]:
    return {
        "conv_id": item.conv_id,
        "position": item.position,
        "waited_s": item.waited_s,
        "urgent": item.urgent,
        "locale": item.locale,
        "intents": list(item.intents),
    }


def held_item(item: HeldItem) -> dict[str, Any]:
    """One row of the out-of-hours list (conversations left for the counsellors while closed)."""
    return {
        "conv_id": item.conv_id,
        "position": item.position,
        "left_s": item.left_s,
        "urgent": item.urgent,
        "locale": item.locale,
        "intents": list(item.intents),
    }


def shift(record: ShiftRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "status": record.status,
        "capacity": record.capacity,
        "load": record.load,
        "connected": record.disconnected_ms is None,
    }


def urgent(conv_id: str, state: str, counsellor: str) -> dict[str, str]:
    return {"conv_id": conv_id, "state": state, "counsellor": counsellor}


def left(conv_id: str, counsellor: str, left_from: str, reason: str) -> dict[str, Any]:
    """The child has left: `left_from` bot/queued/counsellor ('' when unknown), `reason` the exit path."""
    return {
        "conv_id": conv_id,
        "state": "ended" if left_from else "gone",
        "counsellor": counsellor,
        "left": True,
        "left_from": left_from,
        "reason": reason,
    }


def error(code: str, detail: str) -> dict[str, str]:
    return {"code": code, "detail": detail}
