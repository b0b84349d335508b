"""The translators' workspace pages: dashboard, translate in context, review, glossary, .po exchange (thin)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from chatbot.clock import Clock
from chatbot.content.catalogs import normalize
from chatbot.domain.content_versions import CHECK_INTERVAL
from chatbot.store.translations import Conflict, TranslationStore
from chatbot.translation.checks import Finding, check, is_rtl
from chatbot.translation.exchange import ImportError_
from chatbot.translation.glossary import Term
from chatbot.translation.units import CONSOLE_SOURCE, DOMAINS, Domain, State, Unit
from chatbot.translation.workspace import Refused, Workspace
from console.appkeys import AUDIT, SETTINGS, TEMPLATES, TRANSLATIONS, VERSIONS
from console.domain.accounts import Role
from console.domain.translations import TranslationDesk, digest, plan_digest
from console.i18n import LANGUAGES, N_
from console.security import allow, large_body, staff_of
from console.views import render, tr

log = logging.getLogger(__name__)

EDIT = (Role.TRANSLATOR,)
VIEW = (Role.TRANSLATOR, Role.SUPERVISOR)
MAX_IMPORT_BYTES = 2_000_000

# What a finding of the checks says, by code (chatbot/translation/checks.py): never text from a request.
FINDINGS = {
    "empty": N_("Write a translation."),
    "placeholders": N_("Keep the placeholders of the source: %(expected)s (this has %(found)s)."),
    "number_script": N_("Write %(number)s as %(as_written)s: phones and the chat's links need these digits."),
    "number_missing": N_("The number %(number)s is missing: keep every number exactly as in the source."),
    "number_added": N_("The number %(number)s is not in the source."),
    "link_missing": N_("Keep the link %(link)s exactly as it is."),
    "markup": N_("Keep the markup of the source exactly (%(expected)s) and add none: no < or >."),
    "button_length": N_("A button has at most %(limit)s characters (this has %(length)s)."),
    "bubble_length": N_("Long for one bubble: %(words)s words (aim for at most %(limit)s)."),
    "kept_name": N_("Keep the name %(name)s as it is: it is never translated."),
    "glossary": N_("The glossary says %(term)s is %(target)s here."),
    "rtl_start": N_("Starts with a left-to-right word: put a right-to-left mark (U+200F) first."),
    "rtl_end": N_(
        "Ends with a left-to-right word before punctuation: put a right-to-left mark (U+200F) after it."
    ),
    "stray_marks": N_("Direction marks in a left-to-right language: remove them."),
}
MESSAGES = {
    "saved": N_("Saved. Children read it within seconds."),
    "reviewed": N_("Reviewed."),
    "checks": N_("Not saved: fix what the checks found."),
    "conflict": N_("A colleague changed this in the meantime. Read their version and try again."),
    "choose": N_("Not imported: choose for every entry changed both in the workspace and in the file."),
    "own": N_("A second translator reviews: you cannot review your own translation."),
    "already": N_("Already reviewed."),
    "not_current": N_("Only a current translation can be reviewed."),
    "source": N_("This is the source language."),
    "unknown": N_("No such string."),
    "started": N_(
        "The language is started. It reaches children only when safe-complete and switched on by a supervisor."
    ),
    "bad_locale": N_("Give a language code such as fa or so."),
    "exists": N_("That language already exists."),
    "not_safe_complete": N_("Not safe-complete yet: it cannot be switched on."),
    "switched": N_("Saved."),
    "imported": N_("Imported."),
    "unreadable": N_("That file is not a readable .po catalog."),
    "language": N_("That file is for another language (%(detail)s)."),
    "term_saved": N_("The glossary is saved."),
    "bad_term": N_("Give the Swedish term and how this language says it."),
}
STATE_LABELS = {
    "missing": N_("missing"),
    "stale": N_("stale"),
    "unreviewed": N_("awaiting review"),
    "reviewed": N_("reviewed"),
}
DOMAIN_LABELS = {"content": N_("Answers"), "widget": N_("Chat widget"), "console": N_("Console")}


def install(app: web.Application, redis: Redis, clock: Clock) -> None:
    """Put the translators' desk on the app (after the audit log), and follow the console strings."""
    settings = app[SETTINGS]
    app[TRANSLATIONS] = TranslationDesk(
        settings.content_dir,
        settings.locales_dir,
        TranslationStore(redis),
        app[AUDIT],
        clock,
        settings.offered_locales,
        app[VERSIONS],
    )


async def follow_console_strings(app: web.Application) -> AsyncIterator[None]:
    """Console strings saved in the workspace reach this console process within seconds, no restart: a
    wake-up on every change (any console process), a check every few seconds for a missed one."""
    desk, templates = app[TRANSLATIONS], app[TEMPLATES]
    wake, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        while True:
            try:
                for language in LANGUAGES:
                    if language != CONSOLE_SOURCE and templates.adopt(
                        language, await desk.console_strings(language)
                    ):
                        log.info("console strings in %s adopted from the workspace", language)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("console strings check failed; retrying", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), CHECK_INTERVAL)
            wake.clear()

    listener = asyncio.create_task(desk.listen(wake.set, stop))
    task = asyncio.create_task(run())
    yield
    stop.set()
    task.cancel()
    await asyncio.wait([task, listener], timeout=2.0)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/translate", dashboard, name="translate")
    router.add_post("/translate/languages", start_language, name="translate_start")
    router.add_get("/translate/{locale}", language_page, name="translate_language")
    router.add_post("/translate/{locale}/switch", switch, name="translate_switch")
    router.add_post("/translate/{locale}/serving", serving, name="translate_serving")
    router.add_get("/translate/{locale}/answers/{answer}", answer_page, name="translate_answer")
    router.add_get("/translate/{locale}/strings/{domain}", strings_page, name="translate_strings")
    router.add_post("/translate/{locale}/save", save, name="translate_save")
    router.add_post("/translate/{locale}/check", check_json, name="translate_check")
    router.add_get("/translate/{locale}/review", review_page, name="translate_review")
    router.add_post("/translate/{locale}/review", review, name="translate_review_post")
    router.add_get("/translate/{locale}/glossary", glossary_page, name="translate_glossary")
    router.add_post("/translate/{locale}/glossary", glossary_change, name="translate_glossary_post")
    router.add_get("/translate/{locale}/exchange", exchange_page, name="translate_exchange")
    router.add_get("/translate/{locale}/export/{domain}.po", export, name="translate_export")
    router.add_post("/translate/{locale}/import", import_po, name="translate_import")


def _locale(request: web.Request, ws: Workspace) -> str:
    locale = normalize(request.match_info["locale"])
    if locale not in ws.locales:
        raise web.HTTPNotFound(text="no such language")
    return locale


def _message(request: web.Request) -> str:
    code = request.query.get("msg", "")
    if code not in MESSAGES:
        return ""
    if "%(detail)s" in MESSAGES[code]:
        return tr(request, MESSAGES[code], detail=request.query.get("detail", "")[:20])
    return tr(request, MESSAGES[code])


def findings_text(request: web.Request, findings: list[Finding]) -> list[dict[str, str]]:
    return [
        {"code": f.code, "severity": f.severity, "text": tr(request, FINDINGS[f.code], **f.params)}
        for f in findings
        if f.code in FINDINGS
    ]


def _form_text(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _back(locale: str, form: Any) -> str:
    back = _form_text(form, "back")
    # Only our own pages: a form field never sends anyone off the console.
    return back if back.startswith(f"/translate/{locale}") and "//" not in back else f"/translate/{locale}"


def _with_msg(path: str, code: str, anchor: str = "") -> str:
    path = path.split("#")[0]
    glue = "&" if "?" in path else "?"
    return f"{path}{glue}msg={code}" + (f"#{anchor}" if anchor else "")


# -- the dashboard --------------------------------------------------------------------------------


@allow(*VIEW)
async def dashboard(request: web.Request) -> web.Response:
    desk = request.app[TRANSLATIONS]
    ws = await desk.workspace()
    figures = [ws.figures(code) for code in ws.locales if code != "sv"]
    return render(
        request,
        "translate.html",
        figures=figures,
        swedish=ws.figures("sv"),
        domains=DOMAINS,
        domain_labels=DOMAIN_LABELS,
        message=_message(request),
        problems={f.locale: f.status.problems() for f in figures},
    )


@allow(*EDIT)
async def start_language(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        locale = await request.app[TRANSLATIONS].start_language(
            _form_text(form, "locale"), staff_of(request).name
        )
    except Refused as exc:
        raise web.HTTPSeeOther(f"/translate?msg={exc.code}") from None
    raise web.HTTPSeeOther(f"/translate/{locale}?msg=started")


@allow(Role.SUPERVISOR)
async def switch(request: web.Request) -> web.StreamResponse:
    desk = request.app[TRANSLATIONS]
    locale = _locale(request, await desk.workspace())
    form = await request.post()
    try:
        await desk.switch(locale, _form_text(form, "on") == "1", staff_of(request).name)
    except Refused as exc:
        raise web.HTTPSeeOther(f"/translate?msg={exc.code}#lang-{locale}") from None
    raise web.HTTPSeeOther(f"/translate?msg=switched#lang-{locale}")


@allow(Role.SUPERVISOR)
async def serving(request: web.Request) -> web.StreamResponse:
    desk = request.app[TRANSLATIONS]
    locale = _locale(request, await desk.workspace())
    form = await request.post()
    await desk.set_serving(locale, _form_text(form, "serve_unreviewed") == "1", staff_of(request).name)
    raise web.HTTPSeeOther(f"/translate?msg=switched#lang-{locale}")


# -- one language ---------------------------------------------------------------------------------


@allow(*VIEW)
async def language_page(request: web.Request) -> web.Response:
    ws = await request.app[TRANSLATIONS].workspace()
    locale = _locale(request, ws)
    answers = []
    for answer_id in sorted(ws.library.answers):
        states = [ws.state(locale, u) for u in ws.answer_units(answer_id)]
        worst = min(states, key=lambda s: list(State).index(s)) if states else State.REVIEWED
        answers.append({"id": answer_id, "state": worst.value, "kind": ws.library.get(answer_id).kind})
    order = {"missing": 0, "stale": 1, "unreviewed": 2, "reviewed": 3}
    answers.sort(key=lambda a: (order[a["state"]], a["id"]))
    return render(
        request,
        "translate_language.html",
        locale=locale,
        figures=ws.figures(locale),
        answers=answers,
        domains=DOMAINS,
        domain_labels=DOMAIN_LABELS,
        state_labels=STATE_LABELS,
        message=_message(request),
    )


def _row(
    request: web.Request, ws: Workspace, locale: str, unit: Unit, typed: dict[str, Any]
) -> dict[str, Any]:
    translation = ws.translation(locale, unit.domain, unit.key)
    state = ws.state(locale, unit)
    mine = typed.get("key") == unit.key and typed.get("domain") == unit.domain
    return {
        "unit": unit,
        "anchor": "u-" + digest_key(unit),
        "translation": translation,
        "text": typed["text"] if mine else (translation.text if translation else ""),
        "state": state.value,
        "diff": ws.stale_diff(locale, unit),
        "seen": digest(translation),
        "suggestions": ws.suggestions(locale, unit.source, exclude=(unit.domain, unit.key), limit=3),
        "findings": typed.get("findings", []) if mine else [],
    }


def digest_key(unit: Unit) -> str:
    return hashlib.sha256(f"{unit.domain}\x1f{unit.key}".encode()).hexdigest()[:10]


async def _answer_view(
    request: web.Request, typed: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    ws = await request.app[TRANSLATIONS].workspace()
    locale = _locale(request, ws)
    answer_id = request.match_info["answer"]
    if answer_id not in ws.library:
        raise web.HTTPNotFound(text="no such answer")
    answer = ws.library.get(answer_id)
    units = ws.answer_units(answer_id)
    reached_from = sorted(
        {
            other.id
            for other in ws.library.answers.values()
            for b in other.buttons
            if b.name == answer_id or (b.via == "intent" and ws.library.for_intent(b.name) is answer)
        }
    )
    leads_to = [
        (b.label, b.name if b.name in ws.library else getattr(ws.library.for_intent(b.name), "id", b.name))
        for b in answer.buttons
    ]
    return render(
        request,
        "translate_answer.html",
        status=status,
        locale=locale,
        rtl=is_rtl(locale),
        answer=answer,
        note=units[0].note if units else "",
        where=units[0].where.rsplit(":", 1)[0] if units else "",
        reached_from=reached_from,
        leads_to=leads_to,
        rows=[_row(request, ws, locale, u, typed or {}) for u in units],
        state_labels=STATE_LABELS,
        back=request.path,
        message=_message(request),
    )


@allow(*VIEW)
async def answer_page(request: web.Request) -> web.Response:
    return await _answer_view(request)


@allow(*VIEW)
async def strings_page(
    request: web.Request, typed: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    ws = await request.app[TRANSLATIONS].workspace()
    locale = _locale(request, ws)
    domain = request.match_info["domain"]
    if domain not in ("widget", "console"):
        raise web.HTTPNotFound(text="no such catalog")
    units = ws.in_domain(domain)
    only = request.query.get("state", "")
    if only in STATE_LABELS:
        units = [u for u in units if ws.state(locale, u).value == only]
    return render(
        request,
        "translate_strings.html",
        status=status,
        locale=locale,
        rtl=is_rtl(locale),
        domain=domain,
        domain_label=DOMAIN_LABELS[domain],
        only=only,
        rows=[_row(request, ws, locale, u, typed or {}) for u in units],
        state_labels=STATE_LABELS,
        back=request.path_qs,
        message=_message(request),
    )


@allow(*EDIT)
async def save(request: web.Request) -> web.StreamResponse:
    desk = request.app[TRANSLATIONS]
    ws = await desk.workspace()
    locale = _locale(request, ws)
    form = await request.post()
    domain, key, text = _form_text(form, "domain"), _form_text(form, "key"), _form_text(form, "text")
    back = _back(locale, form)
    unit = ws.units.get((domain, key))
    if unit is None:
        raise web.HTTPSeeOther(_with_msg(back, "unknown"))
    anchor = "u-" + digest_key(unit)
    try:
        await desk.save(
            locale, domain, key, text.replace("\r\n", "\n"), staff_of(request).name, _form_text(form, "seen")
        )
    except Refused as exc:
        if exc.code != "checks":
            raise web.HTTPSeeOther(_with_msg(back, exc.code, anchor)) from None
        # The page again with what was typed and what the checks found, nothing saved.
        typed = {"domain": domain, "key": key, "text": text, "findings": findings_text(request, exc.findings)}
        request.match_info["answer"] = unit.answer
        if unit.domain == "content":
            return await _answer_view(request, typed, status=422)
        request.match_info["domain"] = unit.domain
        return await strings_page(request, typed, status=422)
    except Conflict:
        raise web.HTTPSeeOther(_with_msg(back, "conflict", anchor)) from None
    raise web.HTTPSeeOther(_with_msg(back, "saved", anchor))


@allow(*EDIT)
async def check_json(request: web.Request) -> web.Response:
    """The checks as the translator types (console.js posts the field); nothing is saved."""
    desk = request.app[TRANSLATIONS]
    ws = await desk.workspace()
    locale = _locale(request, ws)
    form = await request.post()
    unit = ws.units.get((_form_text(form, "domain"), _form_text(form, "key")))
    if unit is None:
        raise web.HTTPNotFound(text="no such string")
    found = check(
        unit.source,
        _form_text(form, "text"),
        locale=locale,
        kind=unit.kind,
        glossary=await desk.glossary(locale),
    )
    return web.json_response({"findings": findings_text(request, found)})


# -- review -----------------------------------------------------------------------------------------


@allow(*VIEW)
async def review_page(request: web.Request) -> web.Response:
    ws = await request.app[TRANSLATIONS].workspace()
    locale = _locale(request, ws)
    figures = ws.figures(locale)
    name = staff_of(request).name
    rows = []
    for domain, key in figures.awaiting_review[:200]:
        unit = ws.units[(domain, key)]
        translation = ws.translation(locale, domain, key)
        rows.append(
            {
                "unit": unit,
                "translation": translation,
                "mine": translation is not None and translation.translated_by == name,
            }
        )
    return render(
        request,
        "translate_review.html",
        locale=locale,
        rtl=is_rtl(locale),
        rows=rows,
        total=len(figures.awaiting_review),
        domain_labels=DOMAIN_LABELS,
        message=_message(request),
    )


@allow(*EDIT)
async def review(request: web.Request) -> web.StreamResponse:
    desk = request.app[TRANSLATIONS]
    locale = _locale(request, await desk.workspace())
    form = await request.post()
    back = _back(locale, form)
    try:
        await desk.review(locale, _form_text(form, "domain"), _form_text(form, "key"), staff_of(request).name)
    except Refused as exc:
        raise web.HTTPSeeOther(_with_msg(back, exc.code)) from None
    except Conflict:
        raise web.HTTPSeeOther(_with_msg(back, "conflict")) from None
    raise web.HTTPSeeOther(_with_msg(back, "reviewed"))


# -- glossary -----------------------------------------------------------------------------------------


@allow(*VIEW)
async def glossary_page(request: web.Request) -> web.Response:
    desk = request.app[TRANSLATIONS]
    locale = _locale(request, await desk.workspace())
    return render(
        request,
        "translate_glossary.html",
        locale=locale,
        rtl=is_rtl(locale),
        glossary=await desk.glossary(locale),
        message=_message(request),
    )


@allow(*EDIT)
async def glossary_change(request: web.Request) -> web.StreamResponse:
    desk = request.app[TRANSLATIONS]
    locale = _locale(request, await desk.workspace())
    form = await request.post()
    source, target = _form_text(form, "source").strip(), _form_text(form, "target").strip()
    if _form_text(form, "delete") == "1" and source:
        await desk.delete_term(locale, source, staff_of(request).name)
        raise web.HTTPSeeOther(f"/translate/{locale}/glossary?msg=term_saved")
    if not source or not target or len(source) > 60 or len(target) > 60:
        raise web.HTTPSeeOther(f"/translate/{locale}/glossary?msg=bad_term")
    note = _form_text(form, "note").strip()[:200]
    await desk.set_term(locale, Term(source, target, note), staff_of(request).name)
    raise web.HTTPSeeOther(f"/translate/{locale}/glossary?msg=term_saved")


# -- .po export and import ---------------------------------------------------------------------------


@allow(*VIEW)
async def exchange_page(request: web.Request) -> web.Response:
    locale = _locale(request, await request.app[TRANSLATIONS].workspace())
    return render(
        request,
        "translate_exchange.html",
        locale=locale,
        domains=DOMAINS,
        domain_labels=DOMAIN_LABELS,
        plan=None,
        message=_message(request),
    )


def _domain(request: web.Request) -> Domain:
    domain = request.match_info.get("domain", "")
    for known in DOMAINS:
        if known == domain:
            return known
    raise web.HTTPNotFound(text="no such catalog")


@allow(*VIEW)
async def export(request: web.Request) -> web.Response:
    desk = request.app[TRANSLATIONS]
    locale = _locale(request, await desk.workspace())
    domain = _domain(request)
    data = await desk.export(locale, domain)
    return web.Response(
        body=data,
        content_type="text/x-gettext-translation",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{locale}-{domain}.po"'},
    )


@allow(*EDIT)
@large_body(3 * MAX_IMPORT_BYTES)
async def import_po(request: web.Request) -> web.StreamResponse:
    """First the preview (what would change, what the checks refuse); then apply exactly that."""
    desk = request.app[TRANSLATIONS]
    locale = _locale(request, await desk.workspace())
    form = await request.post()
    domain_field = _form_text(form, "domain")
    domain = next((d for d in DOMAINS if d == domain_field), None)
    if domain is None:
        raise web.HTTPSeeOther(f"/translate/{locale}/exchange?msg=unreadable")
    upload = form.get("file")
    if upload is not None and hasattr(upload, "file"):
        data = upload.file.read(MAX_IMPORT_BYTES + 1)
    else:
        try:
            data = base64.b64decode(_form_text(form, "data"), validate=True)
        except (binascii.Error, ValueError):
            data = b""
    if not data or len(data) > MAX_IMPORT_BYTES:
        raise web.HTTPSeeOther(f"/translate/{locale}/exchange?msg=unreadable")
    try:
        if _form_text(form, "apply") == "1":
            choices = {
                int(name.removeprefix("choice-")): (str(value), _form_text(form, f"text-{name[7:]}"))
                for name, value in form.items()
                if name.startswith("choice-") and name[7:].isdigit()
            }
            plan = await desk.apply(
                locale, domain, data, staff_of(request).name, _form_text(form, "digest"), choices
            )
            raise web.HTTPSeeOther(f"/translate/{locale}/exchange?msg=imported")
        plan = await desk.plan(locale, domain, data)
    except ImportError_ as exc:
        if exc.code == "language":
            raise web.HTTPSeeOther(f"/translate/{locale}/exchange?msg=language&detail={exc.detail}") from None
        raise web.HTTPSeeOther(f"/translate/{locale}/exchange?msg=unreadable") from None
    except Refused as exc:
        raise web.HTTPSeeOther(f"/translate/{locale}/exchange?msg={exc.code}") from None
    return render(
        request,
        "translate_exchange.html",
        locale=locale,
        domains=DOMAINS,
        domain_labels=DOMAIN_LABELS,
        domain=domain,
        plan=plan,
        refused=[(key, findings_text(request, found)) for key, found in plan.refused],
        digest=plan_digest(plan),
        data=base64.b64encode(data).decode(),
        rtl=is_rtl(locale),
        message="",
    )
