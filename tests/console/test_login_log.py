"""The console's log never holds a login name that no account has (often a password in the wrong field)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.console.conftest import Console, StaffClient


async def test_unknown_login_names_are_logged_only_as_a_keyed_hash(
    console: Console, make_account: Any, staff_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    creds = await make_account("anna", "counsellor")
    client: StaffClient = staff_factory()
    secret_like = "sommar2026hemlis"
    creds.account = type(creds.account)(secret_like, creds.account.role, "pw", "")
    for _ in range(6):  # past this client's limit for the name, so the "refused" line is logged too
        assert await client.login(creds) in (401, 429)
    assert secret_like not in caplog.text
    hashed = console.accounts.shown_name(secret_like, False)
    assert hashed.startswith("unknown:") and f"login failed for {hashed}" in caplog.text
    # Past the limit the throttle refuses the name without naming it at all.
    assert "login refused for an unknown name" in caplog.text
