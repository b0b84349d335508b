"""TOTP secrets sealed at rest with the console key: what Redis holds, legacy records, wrong and missing keys."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.redis_server import free_port
from chatbot.settings import Secret, Settings, SettingsError
from console.store import keys
from tests.conftest import ROOT, with_settings
from tests.console.conftest import Console, Credentials, StaffClient, finish_first_sign_in


async def run_console(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    """`python -m console ARGV...`: exit status, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console",
        *argv,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def make_plaintext(redis: Redis, creds: Credentials) -> None:
    """What an account created before secrets were sealed looks like: the base32 secret as is."""
    await redis.hset(keys.account(creds.name), "totp", creds.secret)


async def test_the_totp_secret_is_sealed_in_redis_and_login_works(
    console: Console, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    creds = await make_account("anna", "counsellor")
    stored = await redis.hget(keys.account("anna"), "totp")
    assert stored.startswith(b"v1:")
    assert creds.secret.encode() not in stored
    assert base64.b32decode(creds.secret) not in base64.urlsafe_b64decode(stored[3:])
    client: StaffClient = staff_factory()
    assert await client.login(creds) == 303
    assert await redis.hget(keys.account("anna"), "totp") == stored  # a login does not rewrite it


async def test_a_sealed_secret_opens_only_as_the_secret_of_its_own_account(
    console: Console, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    anna = await make_account("anna", "counsellor")
    bertil = await make_account("bertil", "counsellor")
    # Someone with write access to Redis copies anna's sealed secret (whose codes they know) to bertil.
    await redis.hset(keys.account("bertil"), "totp", await redis.hget(keys.account("anna"), "totp"))
    client: StaffClient = staff_factory()
    code = console.accounts.code_at(anna.secret, int(console.clock.now().timestamp()))
    assert await client.login(bertil, code=code) == 401


async def test_legacy_plaintext_secrets_are_sealed_at_start_and_at_login(
    console_factory: Any, settings: Settings, clock: FixedClock, redis: Redis
) -> None:
    first = await console_factory(settings, clock)
    old = await first.accounts.create("olle", "counsellor")
    olle = Credentials(old, old.totp_uri.split("secret=")[1].split("&")[0])
    await first.stop()
    await make_plaintext(redis, olle)

    # A console starting on a Redis with a plaintext secret seals it before it serves anyone.
    console = await console_factory(settings, clock)
    stored = await redis.hget(keys.account("olle"), "totp")
    assert stored.startswith(b"v1:") and olle.secret.encode() not in stored
    client = StaffClient(console)
    try:
        assert await client.login(olle) == 303

        # One that turns up while it runs (a restored backup) still verifies, and is sealed at that login.
        made = await console.accounts.create("pia", "counsellor")
        await finish_first_sign_in(redis, "pia")
        pia = Credentials(made, made.totp_uri.split("secret=")[1].split("&")[0])
        await make_plaintext(redis, pia)
        other = StaffClient(console)
        try:
            assert await other.login(pia) == 303
        finally:
            await other.close()
        assert (await redis.hget(keys.account("pia"), "totp")).startswith(b"v1:")
    finally:
        await client.close()


async def test_a_console_with_another_key_refuses_to_start_and_says_why(
    console: Console, make_account: Any, settings: Settings, clock: FixedClock, redis: Redis
) -> None:
    await make_account("anna", "counsellor")
    wrong = Console(with_settings(settings, console_secret_key=Secret(os.urandom(32).hex())), clock)
    with pytest.raises(
        SettingsError, match=r"CONSOLE_SECRET_KEY cannot open the TOTP secrets of 1 account\(s\) \(anna\)"
    ):
        await wrong.start()
    await wrong.stop()

    # The real command line: a clear error and exit status 2, for the server and for the account tools.
    env = {**os.environ, "REDIS_URL": settings.redis_url, "CONSOLE_SECRET_KEY": os.urandom(32).hex()}
    status, _, err = await run_console(env, "serve", "--port", str(free_port()))
    assert status == 2 and "error: CONSOLE_SECRET_KEY cannot open the TOTP secrets" in err
    assert "Traceback" not in err
    status, _, err = await run_console(env, "user", "add", "maja", "--role", "counsellor")
    assert status == 2 and "CONSOLE_SECRET_KEY cannot open" in err
    assert await redis.exists(keys.account("maja")) == 0  # nothing made with a key the server cannot use


async def test_serve_needs_a_well_formed_key(settings: Settings, tmp_path: Path) -> None:
    env = {**os.environ, "REDIS_URL": settings.redis_url}
    env.pop("CONSOLE_SECRET_KEY", None)
    env.pop("CONSOLE_SECRET_KEY_FILE", None)
    status, _, err = await run_console(env, "serve", "--port", str(free_port()))
    assert status == 2 and "CONSOLE_SECRET_KEY (or CONSOLE_SECRET_KEY_FILE) is not set" in err
    status, _, err = await run_console({**env, "CONSOLE_SECRET_KEY": "not-a-key-1234"}, "serve")
    assert status == 2 and "must be 64 hex digits" in err and "not-a-key-1234" not in err


def test_the_key_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    key = os.urandom(32).hex()
    path = tmp_path / "console.key"
    path.write_text(key + "\n")
    from_file = Settings.from_env({"CONSOLE_SECRET_KEY_FILE": str(path)}).console_secret_key
    assert from_file is not None and from_file.reveal() == key and key not in repr(from_file)
    direct = Settings.from_env({"CONSOLE_SECRET_KEY": key.upper()}).console_secret_key
    assert direct is not None and direct.reveal() == key
    assert Settings.from_env({}).console_secret_key is None
    with pytest.raises(SettingsError, match="not both"):
        Settings.from_env({"CONSOLE_SECRET_KEY": key, "CONSOLE_SECRET_KEY_FILE": str(path)})
    with pytest.raises(SettingsError, match="cannot be read"):
        Settings.from_env({"CONSOLE_SECRET_KEY_FILE": str(tmp_path / "missing.key")})
