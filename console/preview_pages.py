"""The child's-eye preview pages (issues 14 and 15): a draft, or a language's translations, in the real widget.

The page frames the widget's own page (chatbot/templates/widget/chat.html) and modules
(chatbot/static/chat/*.js), served here as they are, at phone size. Instead of socket.io the widget gets
the preview's transport (console/static/preview/), which plays back the graph console.domain.preview
computes from the library the draft (or the translator's catalog) would produce. No conversation is
opened, nothing is stored or counted, and the gateway is not needed. Staff only, like every console page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from chatbot.content.catalogs import normalize
from chatbot.content.library import ContentLibrary
from chatbot.domain import payloads
from chatbot.translation.exchange import export_po
from console import security
from console.appkeys import CLOCK, DESK, PREVIEW, SETTINGS, TRANSLATIONS, WORKSPACE
from console.domain import preview
from console.domain.accounts import Role
from console.domain.editing import EditingError
from console.i18n import N_
from console.preview_assets import BASE, ENTRY, PreviewAssets
from console.security import allow, public
from console.views import render, tr

ROLES = (Role.EDITOR, Role.SUPERVISOR, Role.TRANSLATOR)
STORAGE_KEY = "stodchat.preview"
PHONE = (390, 844)


def install(app: web.Application) -> None:
    settings = app[SETTINGS]
    app[PREVIEW] = PreviewAssets.load(settings.locales_dir, settings.default_locale)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/content/drafts/{draft_id}/preview", draft_preview, name="content_preview")
    router.add_get("/content/drafts/{draft_id}/preview/chat", draft_chat, name="content_preview_chat")
    router.add_get(
        "/translate/{locale}/answers/{answer}/preview", translation_preview, name="translate_preview"
    )
    router.add_get(
        "/translate/{locale}/answers/{answer}/preview/chat", translation_chat, name="translate_preview_chat"
    )
    router.add_get(BASE + "/locales/{locale}.json", catalog, name="preview_catalog")
    router.add_get(BASE + "/{name}", asset, name="preview_asset")


@allow(*ROLES)
async def asset(request: web.Request) -> web.Response:
    found = request.app[PREVIEW].files.get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound()
    body, content_type = found
    return web.Response(body=body, headers={"Content-Type": content_type, "Cache-Control": "no-cache"})


@public
async def catalog(request: web.Request) -> web.Response:
    """The widget's strings of one language, as the gateway serves them to anyone: the widget fetches them
    without credentials when the language menu changes (strings.js), so a staff session cannot be asked."""
    catalogs = request.app[PREVIEW].catalogs
    locale = request.match_info["locale"]
    if locale not in catalogs.locales:
        raise web.HTTPNotFound()
    return web.json_response(catalogs.as_json(locale))


def _language(request: web.Request) -> str:
    catalogs = request.app[PREVIEW].catalogs
    wanted = normalize(request.query.get("lang", "") or request.app[SETTINGS].default_locale)
    if wanted not in catalogs.locales:
        raise web.HTTPNotFound(text="no such language")
    return wanted


async def _draft_library(request: web.Request) -> tuple[str, ContentLibrary]:
    workspace = request.app[WORKSPACE]
    try:
        draft = await workspace.get(request.match_info["draft_id"])
        snapshot = await workspace.snapshot_of(draft)
        return draft.id, snapshot.library(request.app[SETTINGS].default_locale)
    except EditingError as exc:
        raise web.HTTPNotFound(text=exc.code) from None


async def _translation_library(request: web.Request, locale: str) -> ContentLibrary:
    """The published answers with this language's saved translations, reviewed or not (what the
    translator wrote); a stale one still falls back, as it would for a child."""
    desk = request.app[TRANSLATIONS]
    ws = await desk.workspace()
    if locale not in ws.locales:
        raise web.HTTPNotFound(text="no such language")
    try:
        _version, snapshot = await request.app[WORKSPACE].published()
    except EditingError as exc:
        raise web.HTTPNotFound(text=exc.code) from None
    text = export_po(ws, locale, "content", request.app[CLOCK].now()).decode("utf-8")
    return snapshot.with_catalogs({locale: text}).library(request.app[SETTINGS].default_locale)


@allow(*ROLES)
async def draft_preview(request: web.Request) -> web.Response:
    draft_id, library = await _draft_library(request)
    workspace = request.app[WORKSPACE]
    draft = await workspace.get(draft_id)
    start = request.query.get("answer", "")
    return _page(
        request,
        title=tr(request, N_("Preview of draft %(id)s"), id=draft_id),
        lead=tr(
            request,
            N_(
                "The draft as a child would see it, in the chat widget itself at phone size. Its buttons lead "
                "through the draft; a written message gets the fallback answer. Nothing is stored or counted."
            ),
        ),
        here=f"/content/drafts/{draft_id}/preview",
        back=f"/content/drafts/{draft_id}",
        starts=("welcome", *draft.edits),
        start=start if start in library else "welcome",
        languages=request.app[PREVIEW].catalogs.locales,
    )


@allow(*ROLES)
async def draft_chat(request: web.Request) -> web.Response:
    draft_id, library = await _draft_library(request)
    return await _chat(request, library, back=f"/content/drafts/{draft_id}")


@allow(*ROLES)
async def translation_preview(request: web.Request) -> web.Response:
    locale = normalize(request.match_info["locale"])
    library = await _translation_library(request, locale)
    answer = request.match_info["answer"]
    if answer not in library:
        raise web.HTTPNotFound(text="no such answer")
    base = f"/translate/{locale}/answers/{answer}"
    return _page(
        request,
        title=tr(request, N_("Preview of %(answer)s"), answer=answer),
        lead=tr(
            request,
            N_(
                "The answer with your saved translations, reviewed or not, in the chat widget itself at phone "
                "size. A stale translation shows what a child would see instead. Nothing is stored or counted."
            ),
        ),
        here=base + "/preview",
        back=base,
        starts=("welcome", answer),
        start=wanted if (wanted := request.query.get("answer", answer)) in library else answer,
        languages=(locale,),
    )


@allow(*ROLES)
async def translation_chat(request: web.Request) -> web.Response:
    locale = normalize(request.match_info["locale"])
    library = await _translation_library(request, locale)
    return await _chat(request, library, back=f"/translate/{locale}/answers/{request.match_info['answer']}")


def _page(
    request: web.Request,
    *,
    title: str,
    lead: str,
    here: str,
    back: str,
    starts: tuple[str, ...],
    start: str,
    languages: tuple[str, ...],
) -> web.Response:
    catalogs = request.app[PREVIEW].catalogs
    locale = request.query.get("lang", "") or (languages[0] if len(languages) == 1 else "")
    locale = normalize(locale or request.app[SETTINGS].default_locale)
    if locale not in catalogs.locales:
        raise web.HTTPNotFound(text="no such language")
    names = {code: catalogs.as_json(code)["messages"].get("language.name", code) for code in catalogs.locales}
    response = render(
        request,
        "content_preview.html",
        title=title,
        lead=lead,
        here_url=here,
        back=back,
        starts=starts if start in starts else (*starts, start),
        start=start,
        preview_languages=languages,
        names=names,
        locale=locale,
        frame=f"{here}/chat?" + urlencode({"lang": locale, "answer": start}),
        phone=PHONE,
    )
    response.headers["Content-Security-Policy"] = security.PREVIEW_PAGE_CSP
    return response


async def _chat(request: web.Request, library: ContentLibrary, back: str) -> web.Response:
    assets = request.app[PREVIEW]
    settings = request.app[SETTINGS]
    locale = _language(request)
    line = preview.Line(
        (await request.app[DESK].opening.in_force()).hours,
        request.app[CLOCK].now(),
        max(1, settings.conversation_retention // 86400),
    )
    start = request.query.get("answer", preview.WELCOME)
    strings = assets.catalogs.as_json(locale)
    config: dict[str, Any] = {
        "locale": locale,
        "defaultLocale": settings.default_locale,
        "catalog": strings,
        "hostOrigin": None,
        # Quick exit in the preview leaves for the page the editor came from.
        "exitUrl": back,
        "maxChars": settings.max_message_chars,
        "storageKey": STORAGE_KEY,
        "socketPath": "",
        "endUrl": "",
        "catalogUrl": BASE + "/locales/{locale}.json",
        "uploadUrl": "",
        "uploadPayload": payloads.UPLOAD_START,
        "leavePayload": payloads.LEAVE_FOR_COUNSELLOR,
        "preview": {
            "locale": locale,
            "graphs": {code: preview.graph(library, code, line, start) for code in assets.catalogs.locales},
        },
    }
    html = assets.page.render(
        locale=locale,
        direction=strings["dir"],
        config=config,
        modules=assets.modules,
        stylesheet=f"{BASE}/chat.css",
        transport="",
        entry=f"{BASE}/{ENTRY}",
    )
    response = web.Response(text=html, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = security.PREVIEW_FRAME_CSP
    return response
