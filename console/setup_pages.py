"""The first sign-in (after `user add` or `user reset`): an own password, then the authenticator, by QR code.

The one-time password opens a session that can only do these two steps (console.security). The QR code
is drawn here as SVG from the otpauth:// address: the TOTP secret never leaves the server for anyone
else's QR service.
"""

from __future__ import annotations

import logging

import segno
from aiohttp import web
from markupsafe import Markup

from console.appkeys import ACCOUNTS, SESSIONS
from console.domain.accounts import SETUP_AUTHENTICATOR, SETUP_PASSWORD, LoginRefused, Role
from console.domain.passwords import MIN_LENGTH, Weakness, WeakPassword
from console.i18n import N_
from console.security import allow, during_setup, staff_of
from console.views import render, tr

log = logging.getLogger(__name__)

ALL_STAFF = tuple(Role)
WEAKNESSES = {
    Weakness.MISMATCH: N_("The two passwords are not the same."),
    Weakness.TOO_SHORT: N_("The password is too short: at least %(min)s characters."),
    Weakness.TOO_LONG: N_("The password is too long: at most 128 characters."),
    Weakness.COMMON: N_(
        "That password is among the most common ones in leaked password lists. Choose another, for "
        "example three or four unrelated words."
    ),
    Weakness.HAS_NAME: N_("The password must not contain your account name."),
    Weakness.ONE_TIME: N_("Choose a new password, not the one-time password."),
}


@allow(*ALL_STAFF)
@during_setup
async def setup(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    if staff.stage == SETUP_AUTHENTICATOR:
        raise web.HTTPSeeOther("/setup/authenticator")
    if staff.stage == SETUP_PASSWORD:
        raise web.HTTPSeeOther("/setup/password")
    raise web.HTTPSeeOther("/")


@allow(*ALL_STAFF)
@during_setup
async def password_form(request: web.Request) -> web.Response:
    staff = staff_of(request)
    if staff.stage != SETUP_PASSWORD:
        raise web.HTTPSeeOther("/setup")
    return _password_page(request, "")


def _password_page(request: web.Request, error: str) -> web.Response:
    # A refused password re-renders the form with the reason (never the password), as an ordinary page.
    return render(request, "setup_password.html", error=error, min_length=MIN_LENGTH)


@allow(*ALL_STAFF)
@during_setup
async def set_password(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    if staff.stage != SETUP_PASSWORD:
        raise web.HTTPSeeOther("/setup")
    form = await request.post()
    try:
        await request.app[ACCOUNTS].set_own_password(staff.name, form.get("password"), form.get("repeated"))
    except WeakPassword as exc:
        return _password_page(request, tr(request, WEAKNESSES[exc.weakness], min=MIN_LENGTH))
    await request.app[SESSIONS].advance(staff, SETUP_AUTHENTICATOR)
    raise web.HTTPSeeOther("/setup/authenticator")


@allow(*ALL_STAFF)
@during_setup
async def authenticator_form(request: web.Request) -> web.Response:
    staff = staff_of(request)
    if staff.stage != SETUP_AUTHENTICATOR:
        raise web.HTTPSeeOther("/setup")
    return await _authenticator_page(request, "")


async def _authenticator_page(request: web.Request, error: str) -> web.Response:
    staff = staff_of(request)
    uri = await request.app[ACCOUNTS].enrolment_uri(staff.name)
    secret = uri.split("secret=", 1)[1].split("&", 1)[0]
    title = tr(request, N_("QR code for your authenticator app"))
    # segno writes the SVG from the address alone (escaped title, no script): safe to put in the page.
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=4, title=title, svgclass="qr")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render(
        request,
        "setup_authenticator.html",
        qr=Markup(svg),  # noqa: S704 (segno escapes the title; the rest is drawn from our own address)
        secret=grouped,
        error=error,
    )


@allow(*ALL_STAFF)
@during_setup
async def confirm_authenticator(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    if staff.stage != SETUP_AUTHENTICATOR:
        raise web.HTTPSeeOther("/setup")
    form = await request.post()
    try:
        await request.app[ACCOUNTS].confirm_enrolment(staff.name, form.get("code"))
    except LoginRefused:
        text = tr(
            request, N_("That code is not right. Check the time on your phone, and type the newest code.")
        )
        return await _authenticator_page(request, text)
    await request.app[SESSIONS].advance(staff, "")
    log.info("%s finished the first sign-in", staff.name)
    raise web.HTTPSeeOther("/")
