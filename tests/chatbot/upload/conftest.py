"""Fixtures for the upload tests: the services on the private Redis, and the session's Chromium (tests/browser.py)
on a page served from loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page
from redis.asyncio import Redis

from chatbot.settings import Settings
from tests.chatbot.upload.helpers import Services, open_conversation, services, upload_settings
from tests.conftest import served

STATIC = Path(__file__).resolve().parents[3] / "chatbot" / "static"

# Helpers every crypto test page has: bytes to and from base64 (how Python and the page swap bytes).
PAGE = """<!doctype html><meta charset="utf-8"><title>upload crypto test</title>
<script type="module">
  window.crypto_js = await import("/static/upload/crypto.js");
  window.toB64 = (bytes) => { let s = ""; for (let i = 0; i < bytes.length; i += 0x8000)
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)); return btoa(s); };
  window.fromB64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  window.ready = true;
</script>"""


@pytest.fixture
async def svc(redis: Redis, settings: Settings, tmp_path: Path) -> Services:
    await open_conversation(redis, "conv1")
    return services(redis, upload_settings(settings, tmp_path / "uploads"))


@pytest.fixture(scope="session")
async def static_server() -> AsyncIterator[str]:
    """The static files and a blank test page, served on loopback (WebCrypto needs a secure context)."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_static("/static/", STATIC)
    async with served(app) as url:
        yield url


@pytest.fixture(scope="module")
async def crypto_page(browser: Browser, static_server: str) -> AsyncIterator[Page]:
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))
    await page.goto(static_server + "/")
    await page.wait_for_function("window.ready === true")
    yield page
    await context.close()
    assert not errors, errors
