"""The upload's value types: a grant, an upload's progress, a case, its statuses and what its code reveals.

Plain frozen data, no I/O: what the dialogue, the gateway's wire format and the console's pages hold,
without importing a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

AGE_BANDS = ("under_13", "13_15", "16_17")


class CaseStatus(StrEnum):
    RECEIVED = "received"
    REVIEWED = "reviewed"
    REPORTED = "reported"
    REMOVED = "removed"
    CLOSED = "closed"


ACTIONS: dict[str, CaseStatus] = {
    "reviewed": CaseStatus.REVIEWED,
    "reported_platform": CaseStatus.REPORTED,
    "reported_police": CaseStatus.REPORTED,
    "reported_hotline": CaseStatus.REPORTED,
    "hashes_shared": CaseStatus.REPORTED,
    "removed": CaseStatus.REMOVED,
    "closed": CaseStatus.CLOSED,
}
"""What an analyst can record, and the status the child then sees with the case code."""


@dataclass(frozen=True)
class Grant:
    token: str
    expires: datetime
    max_files: int
    max_file_bytes: int
    max_total_bytes: int


@dataclass(frozen=True)
class FileProgress:
    index: int
    size: int
    received: int

    @property
    def complete(self) -> bool:
        return self.received == self.size


@dataclass(frozen=True)
class UploadProgress:
    token: str
    files: tuple[FileProgress, ...]
    resume_until: datetime


@dataclass(frozen=True)
class ChildCaseView:
    """All a case code reveals: where the case stands, and since when."""

    status: CaseStatus
    updated: datetime


@dataclass(frozen=True)
class CaseFile:
    file_id: str
    size: int
    sha256: str
    md5: str
    pdq: str = ""
    pdq_quality: int = -1


@dataclass(frozen=True)
class Case:
    case_id: str
    status: CaseStatus
    age_band: str
    topic: str
    created: datetime
    updated: datetime
    closed: datetime | None
    ciphertext_deleted: datetime | None
    files: tuple[CaseFile, ...]
    code_hash: str
