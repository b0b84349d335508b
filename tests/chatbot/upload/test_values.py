"""The upload's value types (chatbot/upload/values.py): progress, the statuses an analyst's action leads to."""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatbot.upload.values import ACTIONS, AGE_BANDS, CaseStatus, FileProgress, Grant


def test_a_file_is_complete_when_every_declared_byte_arrived() -> None:
    assert not FileProgress(0, 100, 99).complete
    assert FileProgress(0, 100, 100).complete


def test_every_status_after_received_is_an_action_away() -> None:
    # The child sees a status only an analyst's action can set; none sets the first one back.
    assert set(ACTIONS.values()) == set(CaseStatus) - {CaseStatus.RECEIVED}
    # The order statuses only move forward in (an earlier action recorded late never moves one back).
    assert list(CaseStatus) == ["received", "reviewed", "reported", "removed", "closed"]
    assert AGE_BANDS == ("under_13", "13_15", "16_17")


def test_a_grant_cannot_be_changed_once_given() -> None:
    grant = Grant("t" * 43, datetime(2027, 1, 1, tzinfo=UTC), 3, 400_000, 600_000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        grant.max_files = 100  # type: ignore[misc]


def test_the_domain_imports_the_uploads_value_types_not_its_services() -> None:
    """The dialogue and the console's domain hold grants and case views; services come in through wiring.
    The audit log is a store (a chained Redis stream) every staff action writes to, not a service."""
    root = Path(__file__).resolve().parents[3]
    allowed = {
        "chatbot.upload.values",
        "chatbot.upload.codes",
        "chatbot.upload.errors",
        "chatbot.store.audit",
    }
    found: dict[str, set[str]] = {}
    for path in [*(root / "chatbot" / "domain").rglob("*.py"), *(root / "console" / "domain").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "chatbot.upload":
                names = {f"chatbot.upload.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chatbot.upload."):
                names = {str(node.module)}
            elif isinstance(node, ast.Import):
                names = {a.name for a in node.names if a.name.startswith("chatbot.upload")}
            else:
                continue
            found.setdefault(path.relative_to(root).as_posix(), set()).update(names)
    assert found, "the dialogue imports the upload's value types: the walk must see them"
    assert {path: names - allowed for path, names in found.items() if names - allowed} == {}
