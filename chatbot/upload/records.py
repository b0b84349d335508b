"""How the upload services write and read the store's records: milliseconds, token hashes, a case record."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from chatbot.upload.values import Case, CaseFile, CaseStatus


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(value: int | str) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def token_hash(token: str) -> str:
    """What the store keeps of a grant's or an upload's token: never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def read_case(case_id: str, record: dict[str, Any]) -> Case:
    """A stored case record as a `Case` (records made before `topic` and PDQ hashes read as empty)."""
    return Case(
        case_id,
        CaseStatus(record["status"]),
        record["age_band"],
        record.get("topic", ""),
        from_ms(record["created"]),
        from_ms(record["updated"]),
        from_ms(record["closed"]) if record.get("closed") else None,
        from_ms(record["deleted"]) if record.get("deleted") else None,
        tuple(
            CaseFile(f["id"], f["size"], f["sha256"], f["md5"], f.get("pdq", ""), f.get("pdq_quality", -1))
            for f in record["files"]
        ),
        record["code_hash"],
    )
