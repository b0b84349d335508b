"""Typed errors a child's client can cause; each has a stable code for the wire and the docs."""

from __future__ import annotations


class ChatError(Exception):
    """Base of errors reported to the client as an `error` event with this code."""

    code = "error"

    def __init__(self, detail: str, *, client_id: str | None = None, **info: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.client_id = client_id
        self.info = info


class MalformedPayload(ChatError):
    code = "malformed_payload"


class MessageTooLong(ChatError):
    code = "message_too_long"


class EmptyMessage(ChatError):
    code = "empty_message"


class NoSession(ChatError):
    code = "no_session"


class RateLimited(ChatError):
    code = "rate_limited"


class ConversationEnded(ChatError):
    code = "conversation_ended"


class ConversationFull(ChatError):
    code = "conversation_full"


class UnsupportedLocale(ChatError):
    """A language the widget has no catalog for; the error lists the available ones."""

    code = "unsupported_locale"


class InternalError(ChatError):
    """Our fault, not the client's; the detail never carries internals."""

    code = "internal"


class UploadsUnavailable(ChatError):
    """The encrypted upload is not configured (no public key), so the chat cannot offer it."""

    code = "uploads_unavailable"


class UploadsFull(ChatError):
    """Unfinished uploads fill the global quota (`UPLOAD_PENDING_QUOTA`): no new grant until room returns."""

    code = "uploads_full"


class UploadLimit(ChatError):
    """This conversation has asked for more upload grants than a child could need."""

    code = "upload_limit"


class InvalidText(ChatError):
    """A string in the event that is not valid Unicode (e.g. an unpaired surrogate); nothing was stored."""

    code = "invalid_text"


class ConversationLimit(ChatError):
    """No new conversation now: too many from this client, the chat is under pressure, or the client is
    blocked (one code for all three, so a troll learns nothing). Resuming an existing one is never limited."""

    code = "conversation_limit"


class CannotLeave(ChatError):
    """Leaving for the counsellors is for a closed line or a queued child (not with a counsellor)."""

    code = "cannot_leave"


class LeaveLimit(ChatError):
    """This conversation has been left (with a new return code each time) more often than a child needs."""

    code = "leave_limit"


class MalformedReturnCode(ChatError):
    """Not shaped like a return code (20 letters and digits); the same answer however near it came."""

    code = "return_code_malformed"


class MistypedReturnCode(ChatError):
    """A return code's shape whose own check character does not match: a typing mistake."""

    code = "return_code_mistyped"


class UnknownReturnCode(ChatError):
    """A well-formed code that opens nothing: never issued, ended, or expired (one answer for all)."""

    code = "return_code_unknown"


class ReturnCodeLimit(ChatError):
    """Too many return codes tried from this client; `retry_after_ms` says when the next try counts."""

    code = "return_code_limit"
