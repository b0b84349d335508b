"""Event names and payload shapes of the child namespace: the one place that defines the wire.

`docs/protocol.md` documents each of these with examples. Two modes, chosen by the client's
`session_request`: a client that does not ask for the extensions gets Rasa 3.6's socket.io channel exactly
(`session_confirm` and `bot_uttered` with Rasa's keys only); one that asks (our widget) gets the extensions,
with a compact `turn` frame that carries a message's acknowledgement and every bubble of its answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chatbot.domain import payloads
from chatbot.domain.errors import ChatError
from chatbot.model import Entry, QuickReply, Reply, Role, to_ms
from chatbot.settings import Settings
from chatbot.upload.values import Grant

NAMESPACE = "/"
SOCKETIO_PATH = "socket.io"

# Client to server.
SESSION_REQUEST = "session_request"  # {session_id?, last_seq?, locale?}
USER_UTTERED = "user_uttered"  # {message, session_id?, client_id?}
RESUME = "resume"  # {last_seq}
END_SESSION = "end_session"  # {}
SET_LOCALE = "set_locale"  # {locale} ; answered with session_state (widget's language menu)
TYPING = "typing"  # client→server {on: bool} (the child types) ; server→client {role: "counsellor", on: bool}
UPLOAD_REQUEST = "upload_request"  # {} ; the child opened the upload (button /upload_start): upload_grant
LEAVE_REQUEST = "leave_request"  # {} ; leave the chat for the counsellors (button /leave_for_counsellor)
RESUME_CODE = "resume_code"  # {code} ; open a chat left for the counsellors: answered like session_request

# A session_request with `"extensions": EXTENSIONS_VERSION` asks for the extended, compact protocol.
EXTENSIONS_KEY = "extensions"
EXTENSIONS_VERSION = 1

# Server to client.
SESSION_CONFIRM = "session_confirm"  # the session id, a string (as Rasa sends it)
SESSION_STATE = "session_state"  # {session_id, resumed, conversation_state, last_seq, locale, withdrawn?}
BOT_UTTERED = "bot_uttered"  # {text, quick_replies?, seq, role, ts, author?} ; ephemeral notices have no seq
HISTORY = "history"  # {entries: [...], last_seq}
# Extensions only: one frame per turn, {ack?: {client_id, seq, duplicate}, entries: [bot_uttered...]}.
TURN = "turn"
MESSAGE_ACK = "message_ack"  # {client_id, seq, duplicate}
ERROR = "error"  # {code, detail, client_id?, ...}
SESSION_ENDED = "session_ended"  # {}
UPLOAD_GRANT = (
    "upload_grant"  # {grant, expires, max_files, max_file_bytes, max_total_bytes, keep_days, hash_days}
)
RETURN_CODE = "return_code"  # {code, keep_days} ; to the leaving child's socket only, once; never stored
# A button with this payload opens the widget's upload panel instead of being sent as a message.
UPLOAD_START_PAYLOAD = payloads.UPLOAD_START
# A button with this payload sends leave_request instead of a message.
LEAVE_PAYLOAD = payloads.LEAVE_FOR_COUNSELLOR


def bot_uttered(entry: Entry) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "text": entry.text,
        "seq": entry.seq,
        "role": entry.role.value,
        "ts": to_ms(entry.ts),
    }
    if entry.quick_replies:
        payload["quick_replies"] = [q.to_wire() for q in entry.quick_replies]
    if entry.author:
        payload["author"] = entry.author
    if entry.extra.get("notice"):
        # A hand-off notice (queue_update, counsellor_joined, ...) with its values, e.g. the queue position.
        payload["notice"] = {
            "type": entry.extra["notice"],
            **{k: v for k, v in entry.extra.items() if k != "notice"},
        }
    return payload


def wants_extensions(payload: dict[str, Any]) -> bool:
    """The extensions are for a client that asks by version; a Rasa client never sends the key."""
    value = payload.get(EXTENSIONS_KEY)
    return value == EXTENSIONS_VERSION and not isinstance(value, bool)


def rasa_text(text: str, quick_replies: tuple[QuickReply, ...]) -> dict[str, Any]:
    """Rasa 3.6's output channel shapes exactly: `{text}` or `{text, quick_replies}`; a Rasa webchat
    client renders a message only when its keys are exactly these."""
    if quick_replies:
        return {"text": text, "quick_replies": [q.to_wire() for q in quick_replies]}
    return {"text": text}


def rasa_uttered(entry: Entry) -> dict[str, Any]:
    return rasa_text(entry.text, entry.quick_replies)


def rasa_ephemeral(reply: Reply) -> dict[str, Any]:
    return rasa_text(reply.text, reply.quick_replies)


def turn(entries: Sequence[Entry], ack: dict[str, Any] | None = None) -> dict[str, Any]:
    """The compact frame: the acknowledgement of the child's message (when it had a client_id) and every
    bubble that answers it, in order, in one frame instead of one per bubble."""
    payload: dict[str, Any] = {"entries": [bot_uttered(e) for e in entries if e.role is not Role.CHILD]}
    if ack is not None:
        payload["ack"] = ack
    return payload


def ephemeral(reply: Reply) -> dict[str, Any]:
    """A notice that is not part of the log (e.g. slow down); it has no seq and is not replayed."""
    payload: dict[str, Any] = {"text": reply.text, "role": Role.SYSTEM.value, "ephemeral": True}
    if reply.quick_replies:
        payload["quick_replies"] = [q.to_wire() for q in reply.quick_replies]
    return payload


def history_entry(entry: Entry) -> dict[str, Any]:
    payload = bot_uttered(entry)
    if entry.client_id:
        payload["client_id"] = entry.client_id
    return payload


def history(entries: list[Entry], last_seq: int) -> dict[str, Any]:
    return {"entries": [history_entry(e) for e in entries], "last_seq": last_seq}


def upload_grant(grant: Grant, settings: Settings) -> dict[str, Any]:
    """The grant and its limits (the widget checks them before a byte is read), and how long what is
    sent is kept, for the panel's plain-words explanation."""
    return {
        "grant": grant.token,
        "expires": to_ms(grant.expires),
        "max_files": grant.max_files,
        "max_file_bytes": grant.max_file_bytes,
        "max_total_bytes": grant.max_total_bytes,
        "keep_days": max(1, settings.upload_max_age // 86400),
        "hash_days": max(1, settings.upload_hash_retention // 86400),
    }


def error(exc: ChatError) -> dict[str, Any]:
    payload: dict[str, Any] = {"code": exc.code, "detail": exc.detail}
    if exc.client_id:
        payload["client_id"] = exc.client_id
    payload.update(exc.info)
    return payload


def as_mapping(data: object) -> dict[str, Any]:
    """Payloads must be JSON objects; Rasa clients sometimes send none at all, which means {}."""
    if data is None:
        return {}
    if isinstance(data, dict):
        return data
    from chatbot.domain.errors import MalformedPayload

    raise MalformedPayload("payload must be a JSON object")


def optional_seq(value: object) -> int | None:
    from chatbot.domain.errors import MalformedPayload

    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedPayload("last_seq must be a whole number, 0 or more")
    return value
