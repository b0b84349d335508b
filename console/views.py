"""Thin HTTP views of the console: parse and validate the request, call the domain, render a template."""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web

from console import security
from console.appkeys import ACCOUNTS, REDIS, SESSIONS, SETTINGS, TEMPLATES
from console.domain.accounts import LoginLocked, LoginRefused, Role
from console.i18n import DEFAULT_LANGUAGE, LANGUAGES, is_language
from console.security import allow, public, staff_of

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Served from the console's own origin (no CDN); the npm package is installed by scripts/setup.
STATIC_FILES = {
    "console.css": (STATIC_DIR / "console.css", "text/css"),
    "console.js": (STATIC_DIR / "console.js", "text/javascript"),
    "case.js": (STATIC_DIR / "case.js", "text/javascript"),
    "content.js": (STATIC_DIR / "content.js", "text/javascript"),
    "translate.js": (STATIC_DIR / "translate.js", "text/javascript"),
    "hours.js": (STATIC_DIR / "hours.js", "text/javascript"),
    "socket.io.min.js": (
        PROJECT_ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
        "text/javascript",
    ),
}
ALL_STAFF = tuple(Role)


# Before sign-in the page's language is the one chosen on the login page (a cookie of that choice only).
LANGUAGE_COOKIE = "__Host-console-lang"


def language_of(request: web.Request) -> str:
    """The signed-in member's chosen language; before sign-in the login page's choice; else Swedish."""
    staff = request.get(security.STAFF_KEY)
    if staff is not None and staff.language in LANGUAGES:
        return str(staff.language)
    chosen = request.query.get("lang") or request.cookies.get(LANGUAGE_COOKIE) or ""
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def tr(request: web.Request, text: str, **values: object) -> str:
    """`text` (an English msgid, marked with N_ where it is defined) in the request's language."""
    return request.app[TEMPLATES].gettext(language_of(request), text, **values)


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    staff = request.get(security.STAFF_KEY)
    language = language_of(request)
    page = request.app[TEMPLATES].env(language).get_template(template)
    html = page.render(
        staff=staff,
        csrf=staff.csrf if staff else "",
        lang=language,
        languages=LANGUAGES,
        here=request.path_qs,
        **context,
    )
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
async def texts_script(request: web.Request) -> web.Response:
    """The texts console.js shows, in one language, as a script of this console (the CSP forbids inline ones)."""
    language = request.match_info["language"]
    if not is_language(language):
        raise web.HTTPNotFound()
    texts = request.app[TEMPLATES].js_texts(language)
    body = "window.consoleTexts = " + json.dumps(texts, ensure_ascii=False) + ";\n"
    return web.Response(text=body, content_type="text/javascript", headers={"Cache-Control": "no-cache"})


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
    chosen = request.query.get("lang")
    if is_language(chosen):
        assert chosen is not None
        security.set_cookie(response, LANGUAGE_COOKIE, chosen, max_age=365 * 86400)
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
    response = web.HTTPSeeOther("/setup" if account.setup else "/")
    security.set_cookie(response, security.SESSION_COOKIE, token)
    security.delete_cookie(response, security.LOGIN_COOKIE)
    if is_language(account.language):
        # After signing out, the login page stays in the language she chose.
        security.set_cookie(response, LANGUAGE_COOKIE, account.language, max_age=365 * 86400)
    raise response


@allow(*ALL_STAFF)
@security.during_setup
async def logout(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    await request.app[SESSIONS].end(staff)
    log.info("%s signed out", staff.name)
    response = web.HTTPSeeOther("/login")
    security.delete_cookie(response, security.SESSION_COOKIE)
    raise response


@allow(*ALL_STAFF)
@security.during_setup
async def set_language(request: web.Request) -> web.StreamResponse:
    """The member of staff chooses the console's language; it is kept on the account (every session)."""
    staff = staff_of(request)
    form = await request.post()
    chosen = form.get("language")
    if not is_language(chosen):
        raise web.HTTPBadRequest(text="choose one of: " + ", ".join(LANGUAGES))
    assert isinstance(chosen, str)
    await request.app[ACCOUNTS].set_language(staff.name, chosen)
    log.info("%s chose the console language %s", staff.name, chosen)
    response = web.HTTPSeeOther(_local_path(form.get("next")))
    security.set_cookie(response, LANGUAGE_COOKIE, chosen, max_age=365 * 86400)
    raise response


def _local_path(value: object) -> str:
    """Back to the page the choice was made on: a path of this console only (no open redirect)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@allow(*ALL_STAFF)
async def home(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    if staff.role in (Role.COUNSELLOR, Role.SUPERVISOR) and request.app.router.named_resources().get("queue"):
        raise web.HTTPSeeOther("/queue")
    return render(request, "home.html")
