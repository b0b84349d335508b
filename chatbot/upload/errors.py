"""Typed errors of the upload and case services; each `code` is stable for the wire and the docs."""

from __future__ import annotations


class UploadError(Exception):
    code = "upload_error"

    def __init__(self, detail: str, **info: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.info = info


class UploadsDisabled(UploadError):
    """No public key is configured, so nothing could ever be decrypted: refuse rather than store."""

    code = "uploads_disabled"


class BadRequest(UploadError):
    code = "bad_request"


class NotConsented(UploadError):
    code = "consent_required"


class GrantInvalid(UploadError):
    code = "grant_invalid"


class GrantExpired(UploadError):
    code = "grant_expired"


class GrantUsed(UploadError):
    code = "grant_used"


class UploadsFull(UploadError):
    """Unfinished uploads together have reserved `UPLOAD_PENDING_QUOTA`: try again later."""

    code = "uploads_full"


class ConversationEnded(UploadError):
    """The grant's conversation has ended (quick exit, end of chat) or expired: the grant died with it."""

    code = "conversation_ended"


class TooManyFiles(UploadError):
    code = "too_many_files"


class FileTooBig(UploadError):
    code = "file_too_big"


class UploadTooBig(UploadError):
    code = "upload_too_big"


class UploadNotFound(UploadError):
    """Unknown or expired upload id (the resume window has passed)."""

    code = "upload_not_found"


class BadChunk(UploadError):
    code = "bad_chunk"


class OffsetMismatch(UploadError):
    """The client is not where the server is; `info['offset']` says where to continue."""

    code = "offset_mismatch"


class UploadBusy(UploadError):
    code = "upload_busy"


class UploadIncomplete(UploadError):
    code = "upload_incomplete"


class BadCiphertext(UploadError):
    """A finished file is not SCUP v1 encrypted to our keys, or its length is impossible."""

    code = "bad_ciphertext"


class MalformedCaseCode(UploadError):
    code = "malformed_case_code"


class MistypedCaseCode(UploadError):
    code = "mistyped_case_code"


class UnknownCase(UploadError):
    code = "unknown_case"


class BadAction(UploadError):
    code = "bad_action"
