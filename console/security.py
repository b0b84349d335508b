"""Middlewares that close the console to everyone else: staff sessions, role checks, CSRF and headers.

Default deny: a route is reachable only if its handler says who may use it (`allow(...)` or `public`);
a handler that says nothing is refused to everyone, so a forgotten check cannot open a page.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from chatbot.domain import floods
from console.domain.accounts import Role, Staff

log = logging.getLogger(__name__)

SESSION_COOKIE = "__Host-staff"
LOGIN_COOKIE = "__Host-login"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
STAFF_KEY = web.RequestKey("staff", Staff)
ROLES_ATTR = "console_roles"
SETUP_ATTR = "console_setup"
PUBLIC = frozenset({"*public*"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# socket.io's HTTP endpoint checks for itself: the /staff namespace refuses a connect without a staff session.
PUBLIC_PREFIXES = ("/socket.io/",)

# Scripts and styles only from the console itself, no inline code: an injected <script> cannot run.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The case page alone shows media the analyst's browser decrypted into blob: URLs (see case_pages.py).
VIEWER_CSP = CSP.replace("img-src 'self' data:;", "img-src 'self' data: blob:; media-src blob:;")
# The child's-eye preview (preview_pages.py): its page frames the widget's page from this console, and
# only this console may frame that one; the widget's own rules hold inside (no HTML sink takes a string).
PREVIEW_PAGE_CSP = CSP + "; frame-src 'self'"
PREVIEW_FRAME_CSP = (
    CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'").replace(
        "form-action 'self'", "form-action 'none'"
    )
    + "; require-trusted-types-for 'script'; trusted-types 'none'"
)
_LOOSENED = frozenset({VIEWER_CSP, PREVIEW_PAGE_CSP, PREVIEW_FRAME_CSP})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Callable[..., Any])


def allow(*roles: Role) -> Callable[[H], H]:
    """Mark a handler as usable by these roles (and nobody else)."""

    def mark(handler: H) -> H:
        setattr(handler, ROLES_ATTR, frozenset(roles))
        return handler

    return mark


LARGE_BODY_ATTR = "console_large_body"


def large_body(limit: int) -> Callable[[H], H]:
    """Let this handler (and only it, for the roles it allows) read a body up to `limit` bytes: a .po
    catalog is larger than the console's usual cap on a request."""

    def mark(handler: H) -> H:
        setattr(handler, LARGE_BODY_ATTR, limit)
        return handler

    return mark


def during_setup(handler: H) -> H:
    """Mark a handler as usable by a session still in its first sign-in (own password, authenticator)."""
    setattr(handler, SETUP_ATTR, True)
    return handler


def public(handler: H) -> H:
    setattr(handler, ROLES_ATTR, PUBLIC)
    return handler


def roles_of(handler: object) -> frozenset[Any]:
    found = getattr(handler, ROLES_ATTR, None)
    return found if isinstance(found, frozenset) else frozenset()


def staff_of(request: web.Request) -> Staff:
    """The signed-in staff member of a handler that `allow` guards (the middleware made sure)."""
    staff = request.get(STAFF_KEY)
    if not isinstance(staff, Staff):
        raise web.HTTPUnauthorized(text="sign in first")
    return staff


def set_cookie(response: web.StreamResponse, name: str, value: str, *, max_age: int | None = None) -> None:
    # __Host- makes the browser insist on Secure, Path=/ and no Domain: no subdomain can plant it.
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="Strict")


def delete_cookie(response: web.StreamResponse, name: str) -> None:
    response.set_cookie(name, "", max_age=0, path="/", secure=True, httponly=True, samesite="Strict")


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
        _harden(response)
        raise
    _harden(response)
    return response


def harden(response: web.StreamResponse) -> None:
    """Set the headers now: a streamed response sends them at prepare, before the middleware sees it."""
    _harden(response)


def _harden(response: web.StreamResponse) -> None:
    # A handler may loosen the policy to exactly the viewer's or the preview's, never to anything else.
    if response.headers.get("Content-Security-Policy") not in _LOOSENED:
        response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on our own form posts.
    response.headers["Referrer-Policy"] = "same-origin"
    framed = response.headers.get("Content-Security-Policy") == PREVIEW_FRAME_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if framed else "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers.setdefault("Cache-Control", "no-store")


def sessions_middleware(resolve: Callable[[str | None], Awaitable[Staff | None]]) -> Any:
    @web.middleware
    async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
        staff = await resolve(request.cookies.get(SESSION_COOKIE))
        if staff is not None:
            request[STAFF_KEY] = staff
        return await handler(request)

    return sessions


@web.middleware
async def authorise(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route
    if request.match_info.http_exception is not None:
        return await handler(request)
    roles = roles_of(route.handler)
    if roles == PUBLIC or request.path.startswith(PUBLIC_PREFIXES):
        return await handler(request)
    staff = request.get(STAFF_KEY)
    if not isinstance(staff, Staff):
        if request.method in SAFE_METHODS and not request.path.startswith("/api/"):
            raise web.HTTPSeeOther("/login")
        raise web.HTTPUnauthorized(text="sign in first")
    if staff.stage and not getattr(route.handler, SETUP_ATTR, False):
        # A first sign-in (one-time password, no own password or authenticator yet) opens nothing else.
        if request.method in SAFE_METHODS:
            raise web.HTTPSeeOther("/setup")
        raise web.HTTPForbidden(text="finish your first sign-in first")
    if staff.role not in roles:
        where = route.resource.canonical if route.resource else "?"
        log.warning("%s (%s) refused %s %s", staff.name, staff.role.value, request.method, where)
        raise web.HTTPForbidden(text="your role cannot use this page")
    return await handler(request)


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every state change carries the session's token (forms) or header (scripts); login a cookie pair."""
    if request.method in SAFE_METHODS or request.path.startswith(PUBLIC_PREFIXES):
        return await handler(request)
    # Runs after `authorise`: only staff whose role the handler allows get the larger cap.
    limit = getattr(request.match_info.route.handler, LARGE_BODY_ATTR, None)
    if isinstance(limit, int) and request.get(STAFF_KEY) is not None:
        request = request.clone(client_max_size=limit)
    origin = request.headers.get("Origin")
    if origin is not None and origin not in (f"https://{request.host}", f"http://{request.host}"):
        raise web.HTTPForbidden(text="cross-site request refused")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if request.path == "/login":
        expected = request.cookies.get(LOGIN_COOKIE)
    else:
        staff = request.get(STAFF_KEY)
        expected = staff.csrf if isinstance(staff, Staff) else None
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise web.HTTPForbidden(text="the form was stale or forged; reload the page and try again")
    return await handler(request)


def client_address(request: web.Request, trusted_proxies: tuple[str, ...]) -> str:
    """The address the login limit counts against (hashed, never stored): the peer, or, when the peer is
    a trusted proxy, the nearest X-Forwarded-For hop that is not one. Behind a proxy the peer is the proxy
    for everyone, so without this every member of staff would share one failure counter and one locked-out
    attacker would lock out the whole shift. The rule is the gateway's too (chatbot.domain.floods)."""
    return floods.client_address(
        request.remote or "unknown", request.headers.getall("X-Forwarded-For", []), trusted_proxies
    )
