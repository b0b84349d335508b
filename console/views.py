"""Thin HTTP views of the console: parse and validate the request, call the domain, render a template."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

from console import security
from console.appkeys import ACCOUNTS, REDIS, SESSIONS, SETTINGS, TEMPLATES
from console.domain.accounts import LoginLocked, LoginRefused, Role
from console.security import allow, public, staff_of

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Served from the console's own origin (no CDN); the npm package is installed by scripts/setup.
STATIC_FILES = {
    "console.css": (STATIC_DIR / "console.css", "text/css"),
    "console.js": (STATIC_DIR / "console.js", "text/javascript"),
    "case.js": (STATIC_DIR / "case.js", "text/javascript"),
    "socket.io.min.js": (
        PROJECT_ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
        "text/javascript",
    ),
}
ALL_STAFF = tuple(Role)


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    staff = request.get(security.STAFF_KEY)
    page = request.app[TEMPLATES].get_template(template)
    html = page.render(staff=staff, csrf=staff.csrf if staff else "", **context)
    return web.Response(text=html, status=status, content_type="text/html")


@public
async def health(request: web.Request) -> web.Response:
    try:
        await request.app[REDIS].ping()
    except Exception:
        return web.json_response({"status": "degraded", "redis": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "redis": "ok"})


@public
async def static(request: web.Request) -> web.StreamResponse:
    found = STATIC_FILES.get(request.match_info["name"])
    if found is None or not found[0].is_file():
        raise web.HTTPNotFound()
    path, content_type = found
    return web.Response(
        body=path.read_bytes(), content_type=content_type, headers={"Cache-Control": "no-cache"}
    )


@public
async def login_form(request: web.Request) -> web.Response:
    # Why the last session ended, by code: the page shows only its own text for a known code.
    why = request.query.get("why", "")
    return _login_page(request, notice=why if why in LOGIN_NOTICES else "")


LOGIN_NOTICES = frozenset({"step_up"})


def _login_page(
    request: web.Request, *, error: str = "", notice: str = "", status: int = 200
) -> web.Response:
    # Login has no session yet, so its CSRF token is a double-submit pair: this cookie and the form field.
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", login_csrf=token, error=error, notice=notice, status=status)
    security.set_cookie(response, security.LOGIN_COOKIE, token, max_age=3600)
    return response


@public
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    accounts = request.app[ACCOUNTS]
    try:
        account = await accounts.authenticate(
            form.get("name"),
            form.get("password"),
            form.get("code"),
            security.client_address(request, request.app[SETTINGS].console_trusted_proxies),
        )
        token = await request.app[SESSIONS].start(
            account, replacing=request.cookies.get(security.SESSION_COOKIE)
        )
    except LoginLocked:
        return _login_page(request, error="locked", status=429)
    except LoginRefused:
        return _login_page(request, error="refused", status=401)
    response = web.HTTPSeeOther("/")
    security.set_cookie(response, security.SESSION_COOKIE, token)
    security.delete_cookie(response, security.LOGIN_COOKIE)
    raise response


@allow(*ALL_STAFF)
async def logout(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    await request.app[SESSIONS].end(staff)
    log.info("%s signed out", staff.name)
    response = web.HTTPSeeOther("/login")
    security.delete_cookie(response, security.SESSION_COOKIE)
    raise response


@allow(*ALL_STAFF)
async def home(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    if staff.role in (Role.COUNSELLOR, Role.SUPERVISOR) and request.app.router.named_resources().get("queue"):
        raise web.HTTPSeeOther("/queue")
    return render(request, "home.html")
