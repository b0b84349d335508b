"""Analysts' pages over uploaded cases: list, case page, fresh-code step-up, ciphertext, actions, hash export.

Thin views over `chatbot.upload.cases.CaseService` (rules, statuses, the audited `open_ciphertext`) and
`console.domain.reauth.Reauth` (the fresh second factor). Plaintext never exists here: the server hands
the analyst's browser ciphertext, and the browser decrypts it with a key file the server never sees.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from pathlib import Path

from aiohttp import web
from redis.asyncio import Redis

from chatbot.clock import Clock
from chatbot.upload import errors
from chatbot.upload.values import ACTIONS, Case, CaseStatus
from chatbot.upload.wiring import build_uploads
from console import security
from console.appkeys import ACCOUNTS, AUDIT, CASES, CLOCK, REAUTH, SESSIONS, SETTINGS
from console.domain.accounts import LoginRefused, Role
from console.domain.reauth import Reauth, StepUpEnded
from console.i18n import N_
from console.security import allow, public, staff_of
from console.store.reauth import ReauthStore
from console.views import render, tr

log = logging.getLogger(__name__)

CASE_ROLES = (Role.ANALYST,)
_CASE_ID = re.compile(r"^[0-9a-f]{24}$")
_FILE_ID = re.compile(r"^file-\d{3}$")
READ_BYTES = 1024 * 1024
UPLOAD_STATIC = Path(__file__).resolve().parent.parent / "chatbot" / "static" / "upload"
# The analyst's half of the format, served by the console itself (CSP script-src 'self'): viewer.js
# imports ./crypto.js, so both live under /upload/ as on the gateway. Static code, no secrets.
VIEWER_ASSETS = {name: UPLOAD_STATIC / name for name in ("viewer.js", "crypto.js")}

ACTION_LABELS: dict[str, str] = {
    "reviewed": N_("Reviewed"),
    "reported_platform": N_("Reported to the platform"),
    "reported_police": N_("Reported to the police"),
    "reported_hotline": N_("Reported to a partner hotline"),
    "hashes_shared": N_("Hashes shared"),
    "removed": N_("Removed"),
    "closed": N_("Closed"),
}
AGE_LABELS = {"under_13": N_("under 13"), "13_15": N_("13–15"), "16_17": N_("16–17")}
# What the case page says after an action, by code: never text that came from a request.
MESSAGES = {
    "confirmed": N_("Code confirmed. You can open this case's files for a few minutes."),
    "bad_code": N_("That code was wrong or already used. Wait for the next code and try again."),
    "recorded": N_("The action is recorded."),
    "bad_action": N_("Choose one of the actions."),
}


def install(app: web.Application, redis: Redis, clock: Clock) -> None:
    """Put the case services on the app (after its settings and accounts)."""
    settings = app[SETTINGS]
    uploads = build_uploads(settings, redis, clock)
    app[AUDIT] = uploads.audit
    app[CASES] = uploads.cases
    app[REAUTH] = Reauth(
        app[ACCOUNTS], ReauthStore(redis), clock, app[SESSIONS], window_s=settings.console_reauth_window
    )


def _case_id(request: web.Request) -> str:
    case_id = request.match_info["case_id"]
    if not _CASE_ID.match(case_id):
        raise web.HTTPNotFound(text="no such case")
    return case_id


def _file_id(request: web.Request) -> str:
    file_id = request.match_info["file_id"]
    if not _FILE_ID.match(file_id):
        raise web.HTTPNotFound(text="no such file")
    return file_id


async def _case(request: web.Request) -> Case:
    try:
        return await request.app[CASES].get(_case_id(request))
    except errors.UnknownCase:
        raise web.HTTPNotFound(text="no such case") from None


def _status_filter(value: object) -> str:
    return value if isinstance(value, str) and value in {s.value for s in CaseStatus} else ""


def _newest_first(cases: list[Case], status: str) -> list[Case]:
    chosen = [c for c in cases if c.status.value == status] if status else cases
    return sorted(chosen, key=lambda c: c.created, reverse=True)


def _translated(request: web.Request, texts: dict[str, str]) -> dict[str, str]:
    return {code: tr(request, text) for code, text in texts.items()}


def _message(request: web.Request) -> str:
    found = MESSAGES.get(request.query.get("msg", ""))
    return tr(request, found) if found else ""


def _error(code: str, detail: str, status: int) -> web.Response:
    return web.json_response({"error": code, "detail": detail}, status=status)


@allow(*CASE_ROLES)
async def case_list(request: web.Request) -> web.Response:
    status = _status_filter(request.query.get("status"))
    every = await request.app[CASES].list_cases()
    counts = Counter(c.status.value for c in every)
    return render(
        request,
        "cases.html",
        cases=_newest_first(every, status),
        chosen=status,
        statuses=[s.value for s in CaseStatus],
        counts=counts,
        total=len(every),
        ages=_translated(request, AGE_LABELS),
    )


@allow(*CASE_ROLES)
async def case_page(request: web.Request) -> web.Response:
    staff = staff_of(request)
    case = await _case(request)
    entries = await request.app[AUDIT].entries(case_id=case.case_id)
    fresh_until = await request.app[REAUTH].fresh_until(staff)
    now = request.app[CLOCK].now()
    response = render(
        request,
        "case.html",
        case=case,
        entries=list(reversed(entries)),
        actions=_translated(request, ACTION_LABELS),
        results={name: status.value for name, status in ACTIONS.items()},
        ages=_translated(request, AGE_LABELS),
        fresh_until=fresh_until,
        fresh_seconds=int((fresh_until - now).total_seconds()) if fresh_until else 0,
        message=_message(request),
    )
    # Only this page shows decrypted media, so only it may load blob: images and videos.
    response.headers["Content-Security-Policy"] = security.VIEWER_CSP
    return response


@allow(*CASE_ROLES)
async def reauth(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    case_id = _case_id(request)
    form = await request.post()
    try:
        await request.app[REAUTH].confirm(staff, form.get("code"))
    except StepUpEnded:
        # The session is over (a stolen one gets no more guesses); the analyst signs in again.
        response = web.HTTPSeeOther("/login?why=step_up")
        security.delete_cookie(response, security.SESSION_COOKIE)
        raise response from None
    except LoginRefused:
        raise web.HTTPSeeOther(f"/cases/{case_id}?msg=bad_code") from None
    log.info("%s confirmed a code to open case files", staff.name)
    raise web.HTTPSeeOther(f"/cases/{case_id}?msg=confirmed#files")


@allow(*CASE_ROLES)
async def ciphertext(request: web.Request) -> web.StreamResponse:
    """One file's ciphertext for the viewer (POST: it writes the audit entry, so it carries the CSRF token)."""
    staff = staff_of(request)
    case_id, file_id = _case_id(request), _file_id(request)
    if await request.app[REAUTH].fresh_until(staff) is None:
        return _error("reauth_required", "enter a new code from your authenticator first", 403)
    try:
        stream = await request.app[CASES].open_ciphertext(staff.name, case_id, file_id)
    except errors.UnknownCase as exc:
        return _error(exc.code, str(exc), 404)
    log.info("%s opened %s of case %s", staff.name, file_id, case_id)
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'attachment; filename="{file_id}.scup"',
        }
    )
    # Streamed, chunked: no length promised from the record, as the bytes on disk may have been cut short
    # (the viewer then says "truncated"). The headers go out at prepare, before the middleware sees them.
    security.harden(response)
    with stream:
        await response.prepare(request)
        while chunk := await asyncio.to_thread(stream.read, READ_BYTES):
            await response.write(chunk)
    await response.write_eof()
    return response


@allow(*CASE_ROLES)
async def revealed(request: web.Request) -> web.Response:
    """The viewer took the blur off one file: logged before the browser shows it (see docs)."""
    staff = staff_of(request)
    case = await _case(request)
    file_id = _file_id(request)
    if file_id not in {f.file_id for f in case.files}:
        return _error("unknown_case", "no such file in this case", 404)
    await request.app[AUDIT].append(staff.name, "file.revealed", case_id=case.case_id, file_id=file_id)
    return web.json_response({"ok": True})


@allow(*CASE_ROLES)
async def case_action(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    case_id = _case_id(request)
    form = await request.post()
    action = form.get("action")
    try:
        case = await request.app[CASES].record_action(staff.name, case_id, str(action))
    except errors.BadAction:
        raise web.HTTPSeeOther(f"/cases/{case_id}?msg=bad_action") from None
    except errors.UnknownCase:
        raise web.HTTPNotFound(text="no such case") from None
    log.info("%s recorded %s on case %s (now %s)", staff.name, action, case_id, case.status.value)
    raise web.HTTPSeeOther(f"/cases/{case_id}?msg=recorded")


@allow(*CASE_ROLES)
async def export_hashes(request: web.Request) -> web.Response:
    """Hashes for a hash-sharing submission: one case (`case`) or the list as filtered (`status`)."""
    staff = staff_of(request)
    form = await request.post()
    fmt = form.get("format")
    if fmt not in ("csv", "json"):
        raise web.HTTPBadRequest(text="format must be csv or json")
    assert isinstance(fmt, str)
    one = form.get("case")
    if one:
        if not isinstance(one, str) or not _CASE_ID.match(one):
            raise web.HTTPNotFound(text="no such case")
        try:
            case_ids = [(await request.app[CASES].get(one)).case_id]
        except errors.UnknownCase:
            raise web.HTTPNotFound(text="no such case") from None
    else:
        every = await request.app[CASES].list_cases()
        case_ids = [c.case_id for c in _newest_first(every, _status_filter(form.get("status")))]
    audit = request.app[AUDIT]
    for case_id in case_ids:
        # Before the hashes leave: every case whose hashes went out says so in its own trail.
        await audit.append(staff.name, f"hashes.exported.{fmt}", case_id=case_id)
    body = await request.app[CASES].export_hashes(fmt, case_ids)
    log.info("%s exported the hashes of %d cases as %s", staff.name, len(case_ids), fmt)
    day = request.app[CLOCK].now().strftime("%Y-%m-%d")
    return web.Response(
        text=body,
        content_type="text/csv" if fmt == "csv" else "application/json",
        headers={"Content-Disposition": f'attachment; filename="case-hashes-{day}.{fmt}"'},
    )


@public
async def viewer_asset(request: web.Request) -> web.Response:
    path = VIEWER_ASSETS.get(request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound()
    return web.Response(
        body=path.read_bytes(),
        content_type="text/javascript",
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )
