"""The store's records as the upload services read them (chatbot/upload/records.py): times, hashes, cases."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from chatbot.upload.records import from_ms, read_case, to_ms, token_hash
from chatbot.upload.values import CaseFile, CaseStatus

# Every test here runs on one Redis and on a Redis Cluster of three primaries (tests/cluster.py).
pytestmark = pytest.mark.cluster


def test_milliseconds_round_trip_as_aware_utc() -> None:
    moment = datetime(2028, 2, 29, 23, 59, 59, 123_000, tzinfo=UTC)
    assert to_ms(moment) == 1_835_481_599_123
    assert from_ms(to_ms(moment)) == moment and from_ms(to_ms(moment)).tzinfo is UTC
    assert from_ms("1835481599123") == moment  # Redis hands numbers back as text


def test_the_store_keeps_a_hash_of_a_token_never_the_token() -> None:
    token = "A" * 43
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in token_hash(token) and token_hash(token) != token_hash("B" * 43)


def test_a_case_record_reads_as_a_case() -> None:
    record = {
        "status": "reported",
        "age_band": "13_15",
        "topic": "sextortion",
        "created": 1_800_000_000_000,
        "updated": 1_800_000_060_000,
        "closed": 1_800_000_120_000,
        "deleted": 1_800_000_180_000,
        "files": [
            {
                "id": "file-000",
                "size": 10,
                "sha256": "a" * 64,
                "md5": "b" * 32,
                "pdq": "c" * 64,
                "pdq_quality": 90,
            }
        ],
        "code_hash": "d" * 64,
    }
    case = read_case("0" * 24, record)
    assert case.status is CaseStatus.REPORTED and (case.age_band, case.topic) == ("13_15", "sextortion")
    assert case.created == from_ms(1_800_000_000_000) and case.updated == from_ms(1_800_000_060_000)
    assert case.closed == from_ms(1_800_000_120_000) and case.ciphertext_deleted == from_ms(1_800_000_180_000)
    assert case.files == (CaseFile("file-000", 10, "a" * 64, "b" * 32, "c" * 64, 90),)
    assert case.code_hash == "d" * 64


def test_a_case_record_from_before_topics_and_pdq_still_reads() -> None:
    record = {
        "status": "received",
        "age_band": "under_13",
        "created": 1_800_000_000_000,
        "updated": 1_800_000_000_000,
        "files": [{"id": "file-000", "size": 10, "sha256": "a" * 64, "md5": "b" * 32}],
        "code_hash": "d" * 64,
    }
    case = read_case("0" * 24, record)
    assert case.topic == "" and case.closed is None and case.ciphertext_deleted is None
    assert (case.files[0].pdq, case.files[0].pdq_quality) == ("", -1)
