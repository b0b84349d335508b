"""Fixtures for the widget's browser tests: the session's Chromium (tests/browser.py), and a gateway to embed.

An organisation's page that embeds the widget is served on its own port of `localhost` and loads the
widget from the gateway's port: another origin on the same site, the deployment docs/widget.md
recommends (e.g. www.example.org embedding chat.example.org), where browsers that block third-party
storage still give the chat its sessionStorage. The neutral page quick exit opens, `exit.test`, is answered by the browser's own request routing. Every context records its requests and errors, and the
test fails if the widget fetched anything from a third party, broke its CSP, or threw.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Frame, Page, Route

from chatbot.redis_server import free_port
from tests.browser import rgb_png
from tests.chatbot.upload.helpers import upload_settings
from tests.conftest import SCREENSHOTS, with_settings

EXIT_URL = "http://exit.test/weather"

HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Organisation</title>
<link rel="icon" href="data:,"></head><body><h1>An organisation's page</h1>
<p>Some text about the support line.</p><script src="{gateway}/widget.js" async></script></body></html>"""
START_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Start</title>
<link rel="icon" href="data:,"></head><body><p>A page the child read before.</p></body></html>"""
EXIT_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Weather</title>
<link rel="icon" href="data:,"></head><body><p>Sunny, 18 degrees.</p></body></html>"""


@pytest.fixture
async def host_site() -> AsyncIterator[Any]:
    """The organisation's site: `/` embeds the widget of `site.gateway`, `/start` is any other page."""

    class Site:
        gateway = ""
        port = free_port()
        url = f"http://localhost:{port}"

    async def home(request: web.Request) -> web.Response:
        return web.Response(text=HOST_PAGE.format(gateway=Site.gateway), content_type="text/html")

    async def start(request: web.Request) -> web.Response:
        return web.Response(text=START_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/start", start)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", Site.port).start()
    yield Site
    await runner.cleanup()


@pytest.fixture
async def widget_gateway(gateway_factory: Any, settings: Any, host_site: Any, tmp_path: Path) -> Any:
    """The gateway as deployed: the organisation's upload keys set, ciphertext under `settings.upload_dir`."""
    gateway = await gateway_factory(
        with_settings(
            upload_settings(settings, tmp_path / "uploads"),
            exit_url=EXIT_URL,
            frame_ancestors=("'self'", host_site.url),
        )
    )
    host_site.gateway = gateway.url.replace("127.0.0.1", "localhost")
    return gateway


@dataclass
class Session:
    """One browser context (a tab's world) with what it requested and what went wrong in it."""

    context: BrowserContext
    page: Page
    gateway_url: str
    host_url: str
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    """Substrings of console errors a test causes on purpose (e.g. a blocked socket)."""

    async def chat_frame(self) -> Frame:
        handle = await self.page.wait_for_selector("iframe[data-stodchat]", state="attached")
        frame = await handle.content_frame()
        assert frame is not None
        await frame.wait_for_selector("body.is-ready", state="attached")
        return frame

    async def open_chat(self) -> Frame:
        frame = await self.chat_frame()
        await frame.click("#launcher")
        await frame.wait_for_selector("#log .msg--bot")
        return frame

    async def session_storage(self, frame: Frame) -> dict[str, str]:
        result: dict[str, str] = await frame.evaluate(
            "() => Object.fromEntries(Object.keys(sessionStorage).map(k => [k, sessionStorage.getItem(k)]))"
        )
        return result

    def third_party_requests(self) -> list[str]:
        gateway = urlsplit(self.gateway_url)
        allowed = {gateway.netloc, f"localhost:{gateway.port}", urlsplit(self.host_url).netloc, "exit.test"}
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).netloc not in allowed
        ]


async def _fulfil(route: Route, body: str) -> None:
    await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)


@pytest.fixture
async def browse(
    browser: Browser, widget_gateway: Any, host_site: Any
) -> AsyncIterator[Callable[..., Awaitable[Session]]]:
    sessions: list[Session] = []

    async def make(**options: Any) -> Session:
        options.setdefault("locale", "sv-SE")
        context = await browser.new_context(**options)
        page = await context.new_page()
        session = Session(context, page, widget_gateway.url, host_site.url)
        await context.route(f"{EXIT_URL}", lambda route: _fulfil(route, EXIT_PAGE))
        context.on("request", lambda request: session.requests.append(request.url))
        context.on("weberror", lambda error: session.problems.append(f"error: {error.error}"))

        def on_console(message: Any) -> None:
            if "Content Security Policy" in message.text or (
                message.type == "error" and not any(part in message.text for part in session.expected)
            ):
                session.problems.append(f"console {message.type}: {message.text}")

        page.on("console", on_console)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        await session.context.close()
    for session in sessions:
        assert session.third_party_requests() == [], "the widget made a third-party request"
        assert session.problems == [], session.problems


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name


def png(width: int = 64, height: int = 48) -> bytes:
    """A real PNG (a coloured gradient) the browser can decode, so the image gets its PDQ hash."""
    pixels = bytes(
        v for y in range(height) for x in range(width) for v in (x * 4 % 256, y * 5 % 256, (x + y) % 256)
    )
    return rgb_png(width, height, pixels)


async def tap(frame: Frame, title: str) -> None:
    await frame.get_by_role("button", name=title, exact=True).click()


async def open_upload(frame: Frame) -> None:
    """The child's path from the welcome, two taps (guideline 5): get a picture removed → send it to us."""
    await tap(frame, "Få bort en bild eller film")
    await frame.wait_for_selector("#replies button:text-is('Skicka den till oss')")
    await tap(frame, "Skicka den till oss")
    await frame.wait_for_selector("#upload", state="visible")
    # The panel tells what is kept and for how long once the grant (with the retention) has come.
    await frame.wait_for_selector("#upload-keep:not([hidden])")
