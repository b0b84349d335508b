"""Checks every child event shares: text that UTF-8 can carry, and the one rule for a locale."""

from __future__ import annotations

from collections.abc import Collection

from chatbot.domain import errors
from chatbot.domain.sessions import is_client_id

# Longest locale code we know ('pt_BR', 'zh_Hant'); anything longer is not a language (issue 12:
# 50,000 characters were stored and echoed back).
MAX_LOCALE_CHARS = 16


def is_encodable(text: str) -> bool:
    """True when the text is valid Unicode that UTF-8 can carry (no unpaired surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(payload: object) -> None:
    """Refuse a payload with any string, key or value, at any depth, that cannot be encoded.

    JSON lets a stranger send a lone surrogate (`"\\ud800"`); Python decodes it into a string that
    Redis, the log and the intent model cannot take. Refused here, before anything is stored, with a
    typed error; the message names no text."""
    stack: list[object] = [payload]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if not is_encodable(value):
                client_id = payload.get("client_id") if isinstance(payload, dict) else None
                raise errors.InvalidText(
                    "text must be valid Unicode (no unpaired surrogates)",
                    client_id=client_id if is_client_id(client_id) else None,
                )
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)


def choose_locale(value: object, available: Collection[str]) -> str | None:
    """The locale a client asked for if it is one we have a catalog for; None for anything else.

    The one check for `session_request.locale` and `set_locale`: a value outside `available` is never
    stored or echoed, so its length, NUL, CR/LF or a path cannot reach Redis or another client."""
    if not isinstance(value, str) or not value or len(value) > MAX_LOCALE_CHARS:
        return None
    return value if value in available else None
