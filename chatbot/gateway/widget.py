"""The children's widget over HTTP: loader script, chat page for the iframe, its assets and strings, exit beacon.

Everything the widget needs comes from this gateway (no CDN, no fonts, no third party): the socket.io
client is served from the project's node_modules. The chat page carries a strict Content-Security-Policy
whose `frame-ancestors` lists the sites allowed to embed it, so no other site can frame it (clickjacking)
and the host page cannot read it (the iframe is another origin).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from chatbot.domain import errors
from chatbot.gateway import protocol
from chatbot.gateway.appkeys import ASSETS, CATALOGS, SERVICE, SETTINGS, SIO
from chatbot.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "static"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SOCKETIO_CLIENT = PROJECT_ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"

CHAT_PATH = "/chat"
END_PATH = "/session/end"
CATALOG_PATH = "/locales/widget/{locale}.json"
STORAGE_KEY = "stodchat.session"
UPLOAD_MODULE = "/upload/upload.js"  # served by upload_views, same origin (the CSP's script-src 'self')

# A session id is 43 characters; a beacon body far bigger than that is not our widget.
MAX_BEACON_BYTES = 512

_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
# url path -> (file, content type, may other sites load it). Only the loader is for other sites' pages.
# The chat's script is ES modules (static/chat/*.js, entry main.js), each at /chat/<name>.js: every file of
# the folder is served, so a new module needs no line here, and nothing outside the folder is.
CHAT_DIR = STATIC / "chat"
CHAT_MODULES = tuple(f"/chat/{path.name}" for path in sorted(CHAT_DIR.glob("*.js")))
_ASSET_FILES: dict[str, tuple[Path, str, bool]] = {
    "/widget.js": (STATIC / "widget.js", _JS, True),
    **{url: (STATIC / "chat" / url.removeprefix("/chat/"), _JS, False) for url in CHAT_MODULES},
    "/chat/chat.css": (STATIC / "chat" / "chat.css", _CSS, False),
    "/demo.css": (STATIC / "demo.css", _CSS, False),
    "/vendor/socket.io.min.js": (SOCKETIO_CLIENT, _JS, False),
}
ASSET_PATHS = tuple(_ASSET_FILES)

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(?::\d{1,5})?$")

# Nothing in the chat needs a device feature; deny them so a compromised script could not ask either.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    cross_origin: bool


class WidgetAssets:
    """The widget's files, read once at start-up so a missing one fails the start, not a child's chat."""

    def __init__(self, files: dict[str, Asset], chat_template: jinja2.Template) -> None:
        self.files = files
        self.chat_template = chat_template

    @classmethod
    def load(cls) -> WidgetAssets:
        files: dict[str, Asset] = {}
        for url, (path, content_type, cross_origin) in _ASSET_FILES.items():
            if not path.is_file():
                hint = (
                    " (run scripts/setup to install the npm packages)" if "node_modules" in path.parts else ""
                )
                raise FileNotFoundError(f"widget asset {url} is missing: {path}{hint}")
            files[url] = Asset(path.read_bytes(), content_type, cross_origin)
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
        )
        return cls(files, env.get_template("widget/chat.html"))


def chat_csp(settings: Settings, host: str) -> str:
    """The chat page's policy: only this gateway's own scripts, styles and sockets; framed only by allowed sites."""
    connect = "'self'"
    if _HOST.match(host):
        # 'self' covers ws(s): in current browsers; naming them keeps older ones working.
        connect += f" ws://{host} wss://{host}"
    ancestors = " ".join(settings.frame_ancestors) or "'none'"
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"connect-src {connect}",
            "img-src 'self' data:",
            f"frame-ancestors {ancestors}",
            "base-uri 'none'",
            "form-action 'none'",
            # No string reaches an HTML sink: the widget builds the DOM with textContent only.
            "require-trusted-types-for 'script'",
            "trusted-types 'none'",
        )
    )


def host_origin(value: str | None) -> str | None:
    """The embedding page's origin as the loader reports it; the chat posts only to it, never to '*'."""
    return value if value and len(value) <= 200 and _ORIGIN.match(value) else None


async def asset(request: web.Request) -> web.Response:
    found = request.app[ASSETS].files.get(request.path)
    if found is None:
        raise web.HTTPNotFound()
    response = web.Response(body=found.body, headers={"Content-Type": found.content_type})
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin" if found.cross_origin else "same-origin"
    # Static code, no secrets in it: compressing is safe and cuts ~100 KB to ~30 KB on a phone network.
    response.enable_compression()
    return response


async def chat_page(request: web.Request) -> web.Response:

    settings = request.app[SETTINGS]
    catalogs = request.app[CATALOGS]
    locale = catalogs.negotiate(request.headers.get("Accept-Language"))
    strings = catalogs.as_json(locale)
    config: dict[str, Any] = {
        "locale": locale,
        "defaultLocale": catalogs.default_locale,
        "catalog": strings,
        "hostOrigin": host_origin(request.query.get("host")),
        "exitUrl": settings.exit_url,
        "maxChars": settings.max_message_chars,
        "storageKey": STORAGE_KEY,
        "socketPath": "/" + protocol.SOCKETIO_PATH,
        "endUrl": END_PATH,
        "catalogUrl": CATALOG_PATH,
        "uploadUrl": UPLOAD_MODULE,
        "uploadPayload": protocol.UPLOAD_START_PAYLOAD,
        "leavePayload": protocol.LEAVE_PAYLOAD,
    }
    html = request.app[ASSETS].chat_template.render(
        locale=locale,
        direction=strings["dir"],
        config=config,
        modules=CHAT_MODULES,
        stylesheet="/chat/chat.css",
        transport="/vendor/socket.io.min.js",
        entry="/chat/main.js",
    )
    response = web.Response(text=html, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = chat_csp(settings, request.host)
    response.headers["Permissions-Policy"] = PERMISSIONS_POLICY
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    return response


async def catalog(request: web.Request) -> web.Response:
    catalogs = request.app[CATALOGS]
    locale = request.match_info["locale"]
    if locale not in catalogs:
        return web.json_response(
            {"code": errors.UnsupportedLocale.code, "available": list(catalogs.available)}, status=404
        )
    return web.json_response(catalogs.as_json(locale))


async def end_session(request: web.Request) -> web.Response:
    """POST the session id (text, as `navigator.sendBeacon` sends it): ends that conversation.

    The quick exit's path when the socket is down. The id is a 256-bit bearer secret, so knowing it is
    the only authority needed; the answer is 204 whether or not it named a live conversation.
    """

    if request.content_length is not None and request.content_length > MAX_BEACON_BYTES:
        return _bad_request(errors.MalformedPayload("body too large"))
    raw = await request.content.read(MAX_BEACON_BYTES + 1)
    if len(raw) > MAX_BEACON_BYTES:
        return _bad_request(errors.MalformedPayload("body too large"))
    try:
        session_id = _beacon_session_id(raw)
        conv_id = await request.app[SERVICE].end_by_session_id(session_id)
    except errors.ChatError as exc:
        return _bad_request(exc)
    if conv_id is not None:
        # Any socket still on this conversation (another tab of the same session) learns it ended.
        await request.app[SIO].emit(protocol.SESSION_ENDED, {}, room=conv_id, namespace=protocol.NAMESPACE)
        log.info("conversation %s ended by beacon", conv_id)
    return web.Response(status=204)


def _beacon_session_id(raw: bytes) -> object:
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise errors.MalformedPayload("body must be UTF-8 text") from None
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise errors.MalformedPayload("body is not valid JSON") from None
        return data.get("session_id") if isinstance(data, dict) else None
    return text


def _bad_request(exc: errors.ChatError) -> web.Response:
    return web.json_response({"code": exc.code, "detail": exc.detail}, status=400)
