"""`python -m console user ...` in a subprocess against the private Redis, beside the real console app."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from redis.asyncio import Redis

from console.store import keys
from tests.console.conftest import Console, Credentials, StaffClient
from tests.console.store.test_secrets import run_console
from tests.console.test_first_sign_in import one_time_login
from tests.console.test_live import StaffSocket


async def user(console: Console, *argv: str) -> tuple[int, str, str]:
    key = console.settings.console_secret_key
    assert key is not None
    env = {**os.environ, "REDIS_URL": console.settings.redis_url, "CONSOLE_SECRET_KEY": key.reveal()}
    return await run_console(env, "user", *argv)


def printed(out: str) -> dict[str, str]:
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


async def test_every_user_command_and_its_errors(console: Console, redis: Redis) -> None:
    status, out, err = await user(console, "add", "maja", "--role", "counsellor")
    assert status == 0, err
    status, out, _ = await user(console, "list")
    assert status == 0 and out.split() == ["maja", "counsellor", "active", "capacity", "2"]

    for action in ("disable", "enable", "reset"):
        status, out, err = await user(console, action, "ghost")
        assert (status, out) == (1, "") and "error: no account named 'ghost'" in err, action
    status, _, err = await user(console, "remove", "ghost", "--yes")
    assert status == 1 and "no account named 'ghost'" in err
    status, _, err = await user(console, "disable", "Not A Name")
    assert status == 1 and "no account named" in err

    status, out, _ = await user(console, "disable", "maja")
    assert status == 0 and out.strip() == "maja: disabled; 0 sessions ended, open consoles signed out"
    assert (await user(console, "list"))[1].split()[2] == "disabled"
    status, out, _ = await user(console, "enable", "maja")
    assert status == 0 and out.strip() == "maja: enabled"
    assert (await user(console, "list"))[1].split()[2] == "active"

    status, _, err = await user(console, "remove", "maja")
    assert status == 1 and "cannot be undone; run again with --yes" in err
    assert await redis.exists(keys.account("maja")) == 1
    status, out, _ = await user(console, "remove", "maja", "--yes")
    assert status == 0 and out.strip() == "maja: removed; 0 sessions ended"
    assert await redis.exists(keys.account("maja")) == 0 and await redis.sismember(keys.ACCOUNTS, "maja") == 0
    assert (await user(console, "list"))[1] == ""


async def test_disable_ends_sessions_and_sockets_at_once_and_reset_gives_new_credentials(
    console: Console, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    creds: Credentials = await make_account("anna", "counsellor")
    pages: StaffClient = staff_factory()
    other_tab: StaffClient = staff_factory()
    assert await pages.login(creds) == 303
    console.clock.advance(30)  # each TOTP step signs in once
    assert await other_tab.login(creds) == 303
    assert await redis.scard(keys.user_sessions("anna")) == 2
    colleague = await make_account("bertil", "counsellor")
    theirs: StaffClient = staff_factory()
    assert await theirs.login(colleague) == 303

    socket = StaffSocket()
    try:
        await socket.connect(console.url, pages.cookie("__Host-staff"))
        await socket.expect("hello")
        status, out, err = await user(console, "disable", "anna")
        assert status == 0 and "2 sessions ended" in out, err
        # Her open console is told and dropped without her sending anything.
        assert (await socket.expect("error"))["code"] == "unauthorised"
        for _ in range(100):
            if not socket.sio.connected:
                break
            await asyncio.sleep(0.05)
        assert not socket.sio.connected
    finally:
        await socket.close()
    for tab in (pages, other_tab):
        assert (await tab.get("/queue"))[0] == 303  # back to the sign-in page
    assert (await theirs.get("/queue"))[0] == 200  # a colleague is untouched
    console.clock.advance(30)
    refused: StaffClient = staff_factory()
    assert await refused.login(creds) == 401  # right password and code, but disabled

    assert (await user(console, "enable", "anna"))[0] == 0
    console.clock.advance(30)
    again: StaffClient = staff_factory()
    assert await again.login(creds) == 303

    status, out, err = await user(console, "reset", "anna")
    assert status == 0, err
    fresh = printed(out)
    assert fresh["account"] == "anna (counsellor)" and "1 session ended" in out
    # Only a one-time password is printed: the authenticator is enrolled at the first sign-in, by QR code.
    assert fresh["password"] != creds.account.password and "totp" not in fresh and "works once" in out
    assert (await again.get("/queue"))[0] == 303
    console.clock.advance(30)
    late: StaffClient = staff_factory()
    assert await late.login(creds) == 401  # the old password and authenticator are gone
    stored = await redis.hget(keys.account("anna"), "totp")
    assert stored.startswith(b"v1:") and stored != await redis.hget(keys.account("anna"), "pw")
    assert await one_time_login(late, "anna", fresh["password"]) == (303, "/setup")
