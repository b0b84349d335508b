"""Rasa's slash payloads: recognising a button's or a Rasa client's `/name` (and its init payloads)."""

from __future__ import annotations

import re

# The init and restart payloads Rasa clients send by convention (rasa-webchat's `initPayload` is
# `/get_started` in its docs; Rasa's own `/restart` and `/session_start`): each means "the start".
# Buttons the widget acts on itself instead of sending them as a message (docs/protocol.md).
UPLOAD_START = "/upload_start"  # opens the encrypted upload's panel
LEAVE_FOR_COUNSELLOR = "/leave_for_counsellor"  # sends leave_request

WELCOME_PAYLOADS = frozenset({"get_started", "greet", "restart", "session_start"})

# `/intent` or `/intent{"entity": "value"}` as Rasa parses a payload: one name, no spaces. A slash
# followed by words is something a child typed, and goes to the intent model (and the crisis check).
_SLASH = re.compile(r"/([A-Za-z_][A-Za-z0-9_.-]{0,63})(\{.*\})?", re.DOTALL)


def slash_name(text: object) -> str | None:
    """The name a Rasa payload calls, or None when the text is not shaped like one."""
    if not isinstance(text, str):
        return None
    match = _SLASH.fullmatch(text.strip())
    return match.group(1) if match else None


def is_welcome_payload(text: object) -> bool:
    return slash_name(text) in WELCOME_PAYLOADS
