"""Value types every layer shares (transport, domain, store): the entries of a conversation log and the
states a conversation moves through. Nothing here reads Redis or a socket."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson


class Role(StrEnum):
    CHILD = "child"
    BOT = "bot"
    COUNSELLOR = "counsellor"
    SYSTEM = "system"


class ConversationState(StrEnum):
    """Who the child is talking to. The bot is silent in QUEUED's hand-off and in COUNSELLOR."""

    BOT = "bot"
    QUEUED = "queued"
    COUNSELLOR = "counsellor"
    LEFT_FOR_COUNSELLOR = "left_for_counsellor"
    """Left for the counsellors while the line is closed: it waits in the console's out-of-hours list and
    enters the queue by itself when the line opens. The bot still answers a child who writes meanwhile."""
    ENDED = "ended"


HELD_FLAG = "held"
"""Meta flag ("1"): the child left the conversation for the counsellors with a return code. In every state
after that (out of hours, queued, with a counsellor) a quick exit, the beacon or a closed tab only detach
the device; the conversation ends only by an explicit end, the return code's end, or the retention."""


@dataclass(frozen=True)
class QuickReply:
    title: str
    payload: str

    def to_wire(self) -> dict[str, str]:
        # The shape Rasa's socket.io channel sends, so Rasa webchat clients render buttons unchanged.
        return {"content_type": "text", "title": self.title, "payload": self.payload}


_STANDARD_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _entry_json(data: dict[str, Any]) -> str:
    """Compact, letters kept as they are: orjson, a tenth of the standard encoder's time. What orjson
    refuses (a lone surrogate, which UTF-8 cannot carry) goes through the standard encoder, so it fails
    where it always did, as a UnicodeEncodeError when it is sent (tests/chatbot/store/test_conversations.py)."""
    try:
        return orjson.dumps(data).decode()
    except orjson.JSONEncodeError:
        return _STANDARD_JSON(data)


@dataclass(frozen=True)
class Entry:
    """One line of a conversation log. `seq` is its 1-based position, assigned by the store."""

    role: Role
    text: str
    ts: datetime
    seq: int = 0
    quick_replies: tuple[QuickReply, ...] = ()
    client_id: str | None = None
    author: str | None = None
    intent: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    answer: str | None = None
    """Provenance: the id of the answer this bubble comes from (bot and notice entries)."""
    version: int | None = None
    """Provenance: the published content version it was shown from (docs/content.md). Neither is sent to
    children's clients (chatbot/gateway/protocol.py picks its keys); the console's transcript shows them."""

    def to_json(self) -> str:
        """Compact JSON, non-ASCII kept as it is."""
        data: dict[str, Any] = {"role": self.role.value, "text": self.text, "ts": _to_ms(self.ts)}
        if self.quick_replies:
            data["quick_replies"] = [[q.title, q.payload] for q in self.quick_replies]
        if self.client_id:
            data["client_id"] = self.client_id
        if self.author:
            data["author"] = self.author
        if self.intent:
            data["intent"] = self.intent
        if self.extra:
            data["extra"] = self.extra
        if self.answer:
            data["answer"] = self.answer
        if self.version is not None:
            data["cv"] = self.version
        return _entry_json(data)

    @classmethod
    def from_json(cls, raw: str | bytes, seq: int) -> Entry:
        data = json.loads(raw)
        return cls(
            role=Role(data["role"]),
            text=data["text"],
            ts=datetime.fromtimestamp(data["ts"] / 1000, UTC),
            seq=seq,
            quick_replies=tuple(QuickReply(t, p) for t, p in data.get("quick_replies", ())),
            client_id=data.get("client_id"),
            author=data.get("author"),
            intent=data.get("intent"),
            extra=data.get("extra", {}),
            answer=data.get("answer"),
            version=data.get("cv"),
        )

    def with_seq(self, seq: int) -> Entry:
        return Entry(
            self.role,
            self.text,
            self.ts,
            seq,
            self.quick_replies,
            self.client_id,
            self.author,
            self.intent,
            self.extra,
            self.answer,
            self.version,
        )


@dataclass(frozen=True)
class Reply:
    """What the bot wants to say: a message bubble and the buttons under it."""

    text: str
    quick_replies: tuple[QuickReply, ...] = ()
    intent: str | None = None
    # Values a client may use without parsing the text, stored with the entry (e.g. the queue notice).
    extra: dict[str, Any] = field(default_factory=dict)
    answer: str | None = None
    """The answer id it comes from, and the content version (provenance, recorded in the log entry)."""
    version: int | None = None


def _to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime in a conversation entry")
    return int(moment.timestamp() * 1000)


def to_ms(moment: datetime) -> int:
    return _to_ms(moment)
