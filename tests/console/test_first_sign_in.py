"""The first sign-in: the one-time password works once and opens only the way to an own password (long,
not common or breached) and an authenticator enrolled by a QR code the console draws; `user reset` again."""

from __future__ import annotations

import re
from typing import Any

import pytest

from console.domain.passwords import MIN_LENGTH, Weakness, WeakPassword, check_new_password, common_passwords
from console.store import keys
from tests.console.conftest import Console, Credentials, StaffClient

OWN_PASSWORD = "korp blåbär trappa segel"


async def one_time_login(client: StaffClient, name: str, password: str) -> tuple[int, str]:
    """Sign in with name and one-time password and no code; (status, where it sends the browser)."""
    async with client.http.get("/login") as response:
        page = await response.text()
    token = re.search(r'id="login-csrf" name="csrf" value="([^"]+)"', page)
    assert token
    form = {"csrf": token.group(1), "name": name, "password": password, "code": ""}
    async with client.http.post("/login", data=form, allow_redirects=False) as response:
        return response.status, response.headers.get("Location", "")


def test_the_password_rules() -> None:
    assert len(common_passwords()) > 19_000
    ok = check_new_password(OWN_PASSWORD, OWN_PASSWORD, name="maja")
    assert ok == OWN_PASSWORD
    cases = {
        "kort": Weakness.TOO_SHORT,
        "x" * (MIN_LENGTH - 1): Weakness.TOO_SHORT,
        "a" * 129: Weakness.TOO_LONG,
        "qwertyuiop123": Weakness.COMMON,  # a common one with digits tacked on
        "Password1234!": Weakness.COMMON,
        "aaaaaaaaaaaaaaab": Weakness.COMMON,
        "maja-har-ett-bra-lösen": Weakness.HAS_NAME,
    }
    for password, weakness in cases.items():
        with pytest.raises(WeakPassword) as caught:
            check_new_password(password, password, name="maja")
        assert caught.value.weakness is weakness, password
    with pytest.raises(WeakPassword) as caught:
        check_new_password(OWN_PASSWORD, OWN_PASSWORD + " ", name="maja")
    assert caught.value.weakness is Weakness.MISMATCH


async def test_the_one_time_password_works_once_and_leads_only_to_password_and_authenticator(
    console: Console, staff_factory: Any, redis: Any
) -> None:
    made = await console.accounts.create("maja", "counsellor")
    maja: StaffClient = staff_factory()
    assert await one_time_login(maja, "maja", made.password) == (303, "/setup")
    # The session opens nothing but the first sign-in.
    assert (await maja.get("/queue"))[0] == 303
    status, page = await maja.get("/setup/password")
    assert status == 200 and "Välj ditt lösenord" in page and 'href="/queue"' not in page
    assert (await maja.post("/me/status", {"status": "available", "display": "M", "capacity": "2"}))[0] == 403
    assert (await maja.get("/setup/authenticator"))[0] == 303  # not before the password

    # Works once: the same one-time password again (another browser, a minute later) is refused.
    console.clock.advance(60)
    thief: StaffClient = staff_factory()
    assert (await one_time_login(thief, "maja", made.password))[0] == 401

    weak = {
        "Xq7!zz": "för kort: minst 12 tecken",
        "qwertyuiop123": "vanligaste i läckta lösenordslistor",
        "maja är bäst på allt": "inte innehålla ditt kontonamn",
        made.password: "inte engångslösenordet",
    }
    for password, said in weak.items():
        status, page = await maja.post("/setup/password", {"password": password, "repeated": password})
        assert status == 200 and said in page, password
        assert password not in page  # a password is never written back into the page
    status, page = await maja.post("/setup/password", {"password": OWN_PASSWORD, "repeated": "annat"})
    assert status == 200 and "inte likadana" in page
    assert await maja.redirected("/setup/password", {"password": OWN_PASSWORD, "repeated": OWN_PASSWORD}) == (
        "/setup/authenticator"
    )

    # The QR code is drawn by the console: inline SVG, nothing loaded from elsewhere; the key beside it.
    status, page = await maja.get("/setup/authenticator")
    assert status == 200 and "<svg" in page and 'class="qr"' in page
    assert (
        "QR-kod för din autentiseringsapp" in page
        and "http" not in page.split("<svg", 1)[1].split("</svg>")[0]
    )
    key = re.search(r'<code id="totp-key">([A-Z2-7 ]+)</code>', page)
    assert key
    secret = key.group(1).replace(" ", "")
    record = await console.accounts.account("maja")
    assert record is not None and record.totp_secret == secret
    now = int(console.clock.now().timestamp())
    status, page = await maja.post("/setup/authenticator", {"code": "000000"})
    assert status == 200 and "Koden stämmer inte" in page
    code = console.accounts.code_at(secret, now)
    assert await maja.redirected("/setup/authenticator", {"code": code}) == "/"
    assert (await maja.get("/queue"))[0] == 200
    assert await redis.hget(keys.account("maja"), "setup") is None

    # From now on: her own password and a code; the one-time password is gone.
    await maja.redirected("/logout", {})
    console.clock.advance(31)
    own = Credentials(type(made)(made.name, made.role, OWN_PASSWORD, made.totp_uri), secret)
    again: StaffClient = staff_factory()
    assert await again.login(own) == 303
    console.clock.advance(31)
    assert await again.login(Credentials(made, secret)) == 401

    # `user reset` starts the same first sign-in with a new one-time password.
    fresh, ended = await console.accounts.reset("maja")
    assert ended == 1
    console.clock.advance(31)
    later: StaffClient = staff_factory()
    assert (await one_time_login(later, "maja", OWN_PASSWORD))[0] == 401
    assert await one_time_login(later, "maja", fresh.password) == (303, "/setup")
    assert "Välj ditt lösenord" in (await later.get("/setup/password"))[1]


async def test_a_first_sign_in_session_cannot_open_the_staff_socket(
    console: Console, staff_factory: Any, make_account: Any
) -> None:
    from tests.console.test_live import StaffSocket

    made = await console.accounts.create("nils", "counsellor")
    nils: StaffClient = staff_factory()
    assert (await one_time_login(nils, "nils", made.password))[0] == 303
    socket = StaffSocket()
    try:
        with pytest.raises(Exception, match="failed to connect"):
            await socket.connect(console.url, nils.cookie("__Host-staff"))
    finally:
        await socket.close()
    # The same socket, for an account past its first sign-in, connects (the refusal above is the stage's).
    set_up = await make_account("olga", "counsellor")
    olga: StaffClient = staff_factory()
    assert await olga.login(set_up) == 303
    fine = StaffSocket()
    try:
        await fine.connect(console.url, olga.cookie("__Host-staff"))
        await fine.expect("hello")
    finally:
        await fine.close()
