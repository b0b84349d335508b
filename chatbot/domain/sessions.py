"""Anonymous session ids: bearer secrets issued by the server, stored only as hashes."""

from __future__ import annotations

import hashlib
import re
import secrets

# 32 random bytes = 256 bits, far beyond guessing; URL-safe base64 without padding is 43 characters.
SESSION_BYTES = 32
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def new_session_id() -> str:
    return secrets.token_urlsafe(SESSION_BYTES)


def new_conversation_id() -> str:
    # The id that appears in logs and in the console; it cannot be turned back into the session id.
    return secrets.token_hex(12)


def is_session_id(value: object) -> bool:
    return isinstance(value, str) and bool(_SESSION_ID.match(value))


def is_client_id(value: object) -> bool:
    return isinstance(value, str) and bool(_CLIENT_ID.match(value))


def session_hash(session_id: str) -> str:
    """What Redis stores: a leaked Redis dump must not let anyone resume a child's conversation."""
    return hashlib.sha256(session_id.encode()).hexdigest()
