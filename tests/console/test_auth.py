"""Accounts, login with TOTP, rate limits, sessions, CSRF, headers and role checks, against the real app."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request
from redis.asyncio import Redis

from chatbot.redis_server import RedisServer
from chatbot.settings import Settings, SettingsError
from console import security
from console.appkeys import REDIS
from console.domain import throttle
from console.domain.accounts import AccountError, NewAccount, Role, token_hash
from console.store import keys
from tests.conftest import with_settings
from tests.console.conftest import ROOT_URLS, Console, Credentials, StaffClient, finish_first_sign_in


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


async def run_cli(env: dict[str, str], argv: list[str]) -> Done:
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return Done(process.returncode or 0, out.decode(), err.decode())


async def test_cli_creates_an_account_with_a_one_time_password_only(
    redis_server: RedisServer, redis: Redis
) -> None:
    env = {**os.environ, "REDIS_URL": redis_server.url, "CONSOLE_SECRET_KEY": os.urandom(32).hex()}
    done = await run_cli(
        env,
        [sys.executable, "-m", "console", "user", "add", "maja", "--role", "counsellor", "--display", "Maja"],
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines()[:2])
    password = lines["password"].strip()
    assert len(password) >= 20
    # No TOTP secret leaves through the terminal: the first sign-in enrols it by the console's QR code.
    assert "otpauth" not in done.stdout and "secret" not in done.stdout and "works once" in done.stdout
    stored = await redis.hgetall(keys.account("maja"))
    assert stored[b"pw"].startswith(b"$argon2id$") and stored[b"setup"] == b"new"
    assert password.encode() not in b"".join(stored.values())
    assert stored[b"totp"].startswith(b"v1:")
    assert 0 < await redis.ttl(keys.account("maja")) <= keys.ACCOUNT_RETENTION

    again = await run_cli(
        env, [sys.executable, "-m", "console", "user", "add", "maja", "--role", "counsellor"]
    )
    assert again.returncode == 1 and "exists already" in again.stderr
    bad_role = await run_cli(env, [sys.executable, "-m", "console", "user", "add", "olle", "--role", "boss"])
    assert bad_role.returncode == 1 and "role must be one of" in bad_role.stderr
    listed = await run_cli(env, [sys.executable, "-m", "console", "user", "list"])
    assert listed.returncode == 0
    assert listed.stdout.split() == ["maja", "counsellor", "active", "capacity", "2"]


async def test_account_names_and_capacity_are_validated(make_account: Any) -> None:
    with pytest.raises(AccountError):
        await make_account("A b", "counsellor")
    with pytest.raises(AccountError):
        await make_account("anna", "counsellor", capacity=0)


async def test_login_needs_password_and_current_totp_code(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    creds = await make_account("anna", "counsellor")
    client: StaffClient = staff_factory()
    assert await client.login(creds, password="wrong-password") == 401
    assert await client.login(creds, code="000000") == 401
    old = console.accounts.code_at(creds.secret, int(console.clock.now().timestamp()) - 300)
    assert await client.login(creds, code=old) == 401
    assert await client.login(creds) == 303
    status, page = await client.get("/queue")
    assert status in (200, 404) or "anna" in page


async def test_a_totp_code_works_once(console: Console, make_account: Any, staff_factory: Any) -> None:
    creds = await make_account("anna", "counsellor")
    assert await staff_factory().login(creds) == 303
    # Same 30-second step, same code: a code seen over a shoulder cannot be replayed.
    assert await staff_factory().login(creds) == 401
    console.clock.advance(30)
    assert await staff_factory().login(creds) == 303


async def test_session_cookie_is_host_prefixed_secure_httponly_strict(
    console: Console, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    creds = await make_account("anna", "counsellor")
    client: StaffClient = staff_factory()
    await client.get("/login")
    token = client.cookie(security.LOGIN_COOKIE)
    moment = int(console.clock.now().timestamp())
    form = {
        "csrf": token,
        "name": "anna",
        "password": creds.account.password,
        "code": console.accounts.code_at(creds.secret, moment),
    }
    async with client.http.post("/login", data=form, allow_redirects=False) as response:
        assert response.status == 303
        cookies = [v for k, v in response.headers.items() if k.lower() == "set-cookie"]
    session = next(c for c in cookies if c.startswith("__Host-staff="))
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in session
    assert "Domain" not in session
    value = client.cookie("__Host-staff")
    assert value is not None
    # Redis keeps only the token's hash, with the idle timeout as TTL.
    assert await redis.exists(keys.session(value)) == 0
    assert 0 < await redis.ttl(keys.session(token_hash(value))) <= console.settings.console_idle_timeout


async def test_login_issues_a_fresh_session_id_and_logout_ends_it(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    creds = await make_account("anna", "counsellor")
    client: StaffClient = staff_factory()
    assert await client.login(creds) == 303
    first = client.cookie("__Host-staff")
    console.clock.advance(30)
    assert await client.login(creds) == 303
    second = client.cookie("__Host-staff")
    assert first and second and first != second
    stale: StaffClient = staff_factory()
    stale.http.cookie_jar.update_cookies({"__Host-staff": first}, response_url=client.http._base_url)  # type: ignore[arg-type]
    assert (await stale.get("/"))[0] == 303  # the old id was dropped at the new login
    assert (await client.post("/logout"))[0] == 303
    assert (await client.get("/"))[0] == 303


async def test_idle_and_absolute_session_timeouts(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    creds = await make_account("anna", "analyst")
    client: StaffClient = staff_factory()
    assert await client.login(creds) == 303
    console.clock.advance(console.settings.console_idle_timeout - 60)
    assert (await client.get("/"))[0] == 200
    console.clock.advance(console.settings.console_idle_timeout + 1)
    assert (await client.get("/"))[0] == 303  # idle too long: back to login

    console.clock.advance(30)
    assert await client.login(creds) == 303
    step = console.settings.console_idle_timeout // 2
    elapsed = 0
    while elapsed + step < console.settings.console_session_lifetime:
        console.clock.advance(step)
        elapsed += step
        assert (await client.get("/"))[0] == 200
    console.clock.advance(step)
    assert (await client.get("/"))[0] == 303  # active all along, but past the absolute lifetime


async def test_failed_logins_lock_that_client_out_of_that_name_for_a_window(
    console: Console, make_account: Any, staff_factory: Any, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    creds = await make_account("anna", "counsellor")
    client: StaffClient = staff_factory()
    for _ in range(throttle.PAIR_LIMIT):
        assert await client.login(creds, password="nope") == 401
    assert await client.login(creds) == 429  # right credentials, but this client is locked for this name
    stored = [k async for k in redis.scan_iter(match=keys.login_failures("*"))]
    ttls = [await redis.ttl(k) for k in stored]
    assert len(stored) == 3 and all(0 < t <= keys.LOGIN_WINDOW for t in ttls)  # client, pair, name
    assert 0 < await redis.ttl(keys.BLOCKED_CLIENTS) <= keys.LOGIN_WINDOW
    assert "login failed for anna" in caplog.text
    assert "127.0.0.1" not in caplog.text  # attempts are logged without the client's address
    dump = b"".join([*stored, *[v for k in stored for v in (await redis.hgetall(k)).values()]])
    assert b"127.0.0.1" not in dump + b"".join(await redis.zrange(keys.BLOCKED_CLIENTS, 0, -1))
    console.clock.advance(keys.LOGIN_WINDOW - 1)
    assert await client.login(creds) == 429
    console.clock.advance(1)  # the window ends by the injected clock
    assert await client.login(creds) == 303


def _stranger(name: str) -> Credentials:
    """Credentials for a name no account has."""
    return Credentials(NewAccount(name, Role.COUNSELLOR, "pw", ""), "")


async def _via(console: Console, address: str) -> StaffClient:
    """A client that the trusted proxy says is `address`."""
    return StaffClient(console, headers={"X-Forwarded-For": address})


@pytest.fixture
async def proxied(console_factory: Any, settings: Settings, clock: Any) -> Console:
    """A console behind a trusted proxy on loopback, so each test client can be a different address."""
    made: Console = await console_factory(
        with_settings(settings, console_trusted_proxies=("127.0.0.0/8",)), clock
    )
    return made


async def test_a_stranger_cannot_lock_a_counsellor_out_from_another_client(proxied: Console) -> None:
    console = proxied
    anna = await _account(console, "anna")
    attacker = await _via(console, "203.0.113.9")
    for _ in range(3):  # again and again, as the issue's attacker did: every window, from one client
        for _ in range(throttle.PAIR_LIMIT):
            assert await attacker.login(anna, password="guess") == 401
        assert await attacker.login(anna, password="guess") == 429
        console.clock.advance(30)
        # Anna, at the office, signs in as usual: the attacker's failures are the attacker's alone.
        at_work = await _via(console, "198.51.100.7")
        assert await at_work.login(anna) == 303
        await at_work.close()
        console.clock.advance(keys.LOGIN_WINDOW)
    assert console.pauses == []  # one client never reaches the name's ceiling
    await attacker.close()


async def test_parallel_guesses_from_one_client_cannot_slip_past_the_limit(proxied: Console) -> None:
    console = proxied
    anna = await _account(console, "anna")
    # Twelve browsers behind one address, guessing at once: each attempt is counted before its
    # password is checked, so only PAIR_LIMIT of them are ever checked.
    bots = [await _via(console, "203.0.113.9") for _ in range(12)]
    answers = await asyncio.gather(*(bot.login(anna, password="guess") for bot in bots))
    assert sorted(answers) == [401] * throttle.PAIR_LIMIT + [429] * (12 - throttle.PAIR_LIMIT)
    for bot in bots:
        await bot.close()


async def test_unknown_names_are_throttled_alike_and_never_stored(proxied: Console, redis: Redis) -> None:
    console = proxied
    guesser = await _via(console, "203.0.113.9")
    nobody = _stranger("hemligt-losen")
    for _ in range(throttle.PAIR_LIMIT):
        assert await guesser.login(nobody) == 401
    assert await guesser.login(nobody) == 429  # the same answer as for a real name: nothing to enumerate
    members = b" ".join(await redis.zrange(keys.BLOCKED_CLIENTS, 0, -1))
    assert b"hemligt" not in members and b"pair:~" in members  # perhaps a password typed as the name
    await guesser.close()


async def test_a_distributed_attack_slows_a_name_but_never_locks_it(proxied: Console) -> None:
    console = proxied
    anna = await _account(console, "anna")
    guard = console.accounts.throttle

    async def attack(clients: int, prefix: str) -> None:
        # The first two bots go through the console's login; the rest are counted directly, exactly as
        # their logins would be (each real login costs an argon2id verification: seconds on a busy box).
        for i in range(clients):
            if i < 2:
                bot = await _via(console, f"{prefix}.{i + 1}")
                for _ in range(throttle.PAIR_LIMIT):
                    assert await bot.login(anna, password="guess") == 401
                await bot.close()
            else:
                for _ in range(throttle.PAIR_LIMIT):
                    await guard.admit(guard.client_hash(f"{prefix}.{i + 1}"), "anna")

    await attack(throttle.NAME_CEILING // throttle.PAIR_LIMIT - 1, "203.0.113")
    at_work = await _via(console, "198.51.100.7")
    assert await at_work.login(anna) == 303
    assert console.pauses == []  # nine clients at their limit are not yet a distributed attack
    await attack(1, "192.0.2")
    console.clock.advance(30)
    assert await at_work.login(anna) == 303  # ten are: slowed, not refused
    assert console.pauses == [1.0]
    await attack(2 * throttle.DELAY_STEP // throttle.PAIR_LIMIT, "198.18.0")
    console.clock.advance(30)
    assert await at_work.login(anna) == 303
    assert console.pauses[-1] == 4.0  # twenty failures more: the delay doubled twice
    # The supervisors see the name as slowed, with the delay it has now.
    boss = await _account(console, "berit", "supervisor")
    supervisor = await _via(console, "198.51.100.1")
    assert await supervisor.login(boss) == 303
    _, page = await supervisor.get("/overview")
    row = re.search(r'<tr data-block="name">(.*?)</tr>', page, re.S)
    assert row and "anna" in row.group(1) and "slowed by 4 s" in row.group(1)
    for client in (at_work, supervisor):
        await client.close()


async def test_wrong_step_up_codes_end_the_session_and_never_lock_sign_in(
    console: Console, make_account: Any, staff_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    creds = await make_account("ana", "analyst")
    stolen: StaffClient = staff_factory()
    assert await stolen.login(creds) == 303
    reauth = "/cases/0123456789abcdef01234567/reauth"
    for _ in range(throttle.STEP_UP_LIMIT - 1):
        async with stolen.http.post(
            reauth, data={"csrf": stolen.csrf, "code": "000000"}, allow_redirects=False
        ) as r:
            assert r.status == 303 and r.headers["Location"].endswith("?msg=bad_code")
    async with stolen.http.post(
        reauth, data={"csrf": stolen.csrf, "code": "000000"}, allow_redirects=False
    ) as r:
        assert r.status == 303 and r.headers["Location"] == "/login?why=step_up"
    assert (await stolen.get("/cases"))[0] == 303  # that session is over: no more guesses with it
    _, page = await stolen.get("/login?why=step_up")
    assert "signed out after too many wrong codes" in page
    assert "ended: 5 wrong step-up codes" in caplog.text
    # The analyst's own sign-in was never locked, not even from the same client.
    console.clock.advance(30)
    assert await staff_factory().login(creds) == 303


async def test_a_supervisor_sees_and_lifts_sign_in_blocks(proxied: Console, redis: Redis) -> None:
    console = proxied
    anna = await _account(console, "anna")
    boss = await _account(console, "berit", "supervisor")
    supervisor = await _via(console, "198.51.100.1")
    assert await supervisor.login(boss) == 303
    status, page = await supervisor.get("/overview")
    assert status == 200 and "No sign-in is blocked or slowed." in page

    # Anna mistyped her password at home five times: her home connection waits for her name.
    home = await _via(console, "203.0.113.50")
    for _ in range(throttle.PAIR_LIMIT):
        assert await home.login(anna, password="typo") == 401
    assert await home.login(anna) == 429
    sprayer = await _via(console, "192.0.2.66")
    for i in range(throttle.CLIENT_LIMIT):
        assert await sprayer.login(_stranger(f"x{i:02d}")) == 401

    status, page = await supervisor.get("/overview")
    rows = re.findall(r'<tr data-block="(\w+)">(.*?)</tr>', page, re.S)
    assert [kind for kind, _ in rows] == ["client", "pair"]  # the most failures first
    assert "anna" in rows[1][1] and "203.0.113" not in page and "192.0.2" not in page
    pair = re.search(r'name="block" value="([^"]+)"', rows[1][1])
    assert pair

    # A forged lift (no CSRF token) changes nothing.
    assert (await supervisor.post("/overview/signin-blocks", {"block": pair.group(1)}, csrf=False))[0] == 403
    assert await home.login(anna) == 429
    # Only a known, current block can be lifted; anything else is a typed answer, nothing changes.
    for bogus in ("pair:anna:" + "0" * 32, "name:../../x", "", "x" * 5000):
        location = await supervisor.redirected("/overview/signin-blocks", {"block": bogus})
        assert location == "/overview?msg=not_lifted#signin-blocks"
    location = await supervisor.redirected("/overview/signin-blocks", {"block": pair.group(1)})
    assert location == "/overview?msg=lifted#signin-blocks"
    assert await home.login(anna) == 303
    assert ("berit", "signin.lifted.pair.anna") in [
        (e.actor, e.action) for e in await console.audit.entries()
    ]
    status, page = await supervisor.get("/overview?msg=lifted")
    assert "The sign-in block is lifted." in page and page.count('<tr data-block="') == 1
    for client in (supervisor, home, sprayer):
        await client.close()


async def test_an_account_reset_clears_its_sign_in_counters(proxied: Console) -> None:
    console = proxied
    anna = await _account(console, "anna")
    home = await _via(console, "203.0.113.50")
    for _ in range(throttle.PAIR_LIMIT):
        assert await home.login(anna, password="forgot") == 401
    new, _ = await console.accounts.reset("anna")
    assert await home.login(Credentials(new, new.totp_uri.split("secret=")[1].split("&")[0])) == 303
    await home.close()


async def test_failed_logins_from_one_client_are_limited_across_names(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    creds = await make_account("anna", "counsellor")
    client: StaffClient = staff_factory()
    for i in range(20):
        creds.account = type(creds.account)(f"x{i:02d}", creds.account.role, "pw", "")
        assert await client.login(creds) == 401
    creds = await make_account("bertil", "counsellor")
    assert await client.login(creds) == 429


async def test_csrf_is_required_on_every_state_change(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    creds = await make_account("anna", "supervisor")
    client: StaffClient = staff_factory()
    assert await client.login(creds) == 303
    assert (await client.post("/logout", csrf=False))[0] == 403
    assert (await client.post("/logout", {"csrf": "forged"}))[0] == 403
    assert (await client.post("/logout", headers={"Origin": "https://evil.example"}))[0] == 403
    assert (await client.get("/"))[0] in (200, 303)
    # The login form's own token: a forged login post (no cookie pair) is refused before any check.
    fresh: StaffClient = staff_factory()
    assert (await fresh.post("/login", {"name": "anna", "password": "x", "code": "123456"}, csrf=False))[
        0
    ] == 403
    assert (await client.post("/logout"))[0] == 303


async def test_every_page_has_a_strict_csp_and_no_store(console: Console, staff_factory: Any) -> None:
    client: StaffClient = staff_factory()
    for path in ("/login", "/", "/healthz", "/nope", "/static/console.css"):
        async with client.http.get(path, allow_redirects=False) as response:
            csp = response.headers.get("Content-Security-Policy", "")
            assert "default-src 'none'" in csp and "script-src 'self'" in csp, path
            assert "unsafe-inline" not in csp
            assert response.headers.get("X-Frame-Options") == "DENY"


async def test_every_console_response_asks_for_https_only(
    console_factory: Any, settings: Settings, clock: Any, staff_factory: Any
) -> None:
    client: StaffClient = staff_factory()
    year = "max-age=31536000; includeSubDomains"
    for method, path in (
        ("GET", "/login"),
        ("GET", "/"),  # a redirect to the login
        ("GET", "/healthz"),
        ("GET", "/nope"),
        ("GET", "/static/console.css"),
        ("POST", "/logout"),  # refused: no session, no CSRF token
        ("GET", "/socket.io/?EIO=4&transport=polling"),  # socket.io answers without our handlers
    ):
        async with client.http.request(method, path, allow_redirects=False) as response:
            assert response.headers.get("Strict-Transport-Security") == year, (method, path)
    shorter = await console_factory(with_settings(settings, hsts_max_age=600), clock)
    other = StaffClient(shorter)
    async with other.http.get("/login") as response:
        assert response.headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains"
    await other.close()


async def test_every_route_declares_who_may_use_it(console: Console) -> None:
    assert console.app is not None
    for route in console.app.router.routes():
        if route.resource is not None and route.resource.canonical.startswith("/socket.io"):
            continue  # socket.io: the namespace authenticates (tests/console/test_staff_socket.py)
        assert security.roles_of(route.handler), f"{route.method} {route.resource} has no role declaration"


async def test_every_route_is_refused_without_the_right_role(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    assert console.app is not None
    clients: dict[str, StaffClient] = {}
    for role in ("counsellor", "supervisor", "editor", "translator", "analyst", "admin"):
        creds = await make_account(f"r{role[:6]}", role)
        clients[role] = staff_factory()
        assert await clients[role].login(creds) == 303
    anonymous: StaffClient = staff_factory()
    checked = 0
    for route in console.app.router.routes():
        roles = security.roles_of(route.handler)
        if roles == security.PUBLIC or route.method == "HEAD" or not route.resource:
            continue
        if route.resource.canonical.startswith("/socket.io"):
            continue
        path = ROOT_URLS.get(route.resource.canonical, route.resource.canonical) if route.resource else "/"
        for role, client in clients.items():
            if role in {r.value for r in roles}:
                continue
            if route.method == "GET":
                status, _ = await client.get(path)
            else:
                status, _ = await client.post(path)
            assert status == 403, f"{role} got {status} on {route.method} {path}"
            checked += 1
        status = (await anonymous.get(path))[0] if route.method == "GET" else (await anonymous.post(path))[0]
        assert status in (303, 401, 403), f"anonymous got {status} on {route.method} {path}"
    assert checked > 0


async def _lock_out(console: Console, forwarded_for: str) -> StaffClient:
    """Twenty failed logins (unknown names) from a client that the proxy says is `forwarded_for`."""
    attacker = StaffClient(console, headers={"X-Forwarded-For": forwarded_for})
    creds = Credentials(await console.accounts.create("mallory", "counsellor"), "")
    for i in range(20):
        creds.account = type(creds.account)(f"x{i:02d}", creds.account.role, "pw", "")
        assert await attacker.login(creds) == 401
    assert await attacker.login(creds) == 429
    return attacker


async def _account(console: Console, name: str, role: str = "counsellor") -> Credentials:
    account = await console.accounts.create(name, role)
    assert console.app is not None
    await finish_first_sign_in(console.app[REDIS], name)
    await console.accounts.set_language(name, "en")  # this file asserts the English texts
    return Credentials(account, account.totp_uri.split("secret=")[1].split("&")[0])


async def test_behind_a_trusted_proxy_each_client_has_its_own_login_limit(
    console_factory: Any, settings: Settings, clock: Any
) -> None:
    console = await console_factory(with_settings(settings, console_trusted_proxies=("127.0.0.0/8",)), clock)
    attacker = await _lock_out(console, "203.0.113.9")
    # A colleague behind the same proxy is not locked out by the attacker's failures.
    colleague = StaffClient(console, headers={"X-Forwarded-For": "198.51.100.7"})
    assert await colleague.login(await _account(console, "bertil")) == 303
    # Hops left of the proxy's own are the client's words: forging one does not escape the limit.
    forger = StaffClient(console, headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.9"})
    assert await forger.login(await _account(console, "cecilia")) == 429
    for client in (attacker, colleague, forger):
        await client.close()


async def test_without_trusted_proxies_x_forwarded_for_is_not_believed(
    console: Console, staff_factory: Any
) -> None:
    attacker = await _lock_out(console, "203.0.113.9")
    other = StaffClient(console, headers={"X-Forwarded-For": "198.51.100.7"})
    assert await other.login(await _account(console, "bertil")) == 429  # the same peer: the same counter
    for client in (attacker, other):
        await client.close()


def test_client_address_takes_the_nearest_untrusted_hop() -> None:
    def address(peer: str, forwarded: str | None, trusted: tuple[str, ...]) -> str:
        headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
        request = make_mocked_request("POST", "/login", headers=headers)
        return security.client_address(request.clone(remote=peer), trusted)

    proxies = ("10.0.0.0/8", "fd00::/8")
    assert address("10.0.0.5", "203.0.113.9", proxies) == "203.0.113.9"
    assert address("10.0.0.5", "1.2.3.4, 203.0.113.9, 10.0.0.7", proxies) == "203.0.113.9"
    assert address("fd00::1", "2001:db8::5", proxies) == "2001:db8::5"
    assert address("10.0.0.5", None, proxies) == "10.0.0.5"  # the proxy itself, with no header
    assert address("10.0.0.5", "10.0.0.6", proxies) == "10.0.0.5"  # only proxies in the chain
    assert address("192.0.2.1", "203.0.113.9", proxies) == "192.0.2.1"  # not our proxy: header ignored
    assert address("10.0.0.5", "203.0.113.9", ()) == "10.0.0.5"  # no trusted proxies configured
    assert address("10.0.0.5", "not-an-address", proxies) == "not-an-address"  # hashed like any other


def test_trusted_proxies_setting_is_checked_at_start() -> None:
    settings = Settings.from_env({"CONSOLE_TRUSTED_PROXIES": "10.0.0.5, 172.18.0.0/16,fd00::/8"})
    assert settings.console_trusted_proxies == ("10.0.0.5", "172.18.0.0/16", "fd00::/8")
    with pytest.raises(SettingsError, match=r"CONSOLE_TRUSTED_PROXIES: 'proxy\.local'"):
        Settings.from_env({"CONSOLE_TRUSTED_PROXIES": "10.0.0.5,proxy.local"})
