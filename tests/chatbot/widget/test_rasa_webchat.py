"""The most used Rasa web chat client, `rasa-webchat` 1.0.1 from npm (Botfront), unchanged against the gateway.

Its bundle is served from node_modules by a host page on another loopback port (the gateway allows that
origin, as `ALLOWED_ORIGINS` would), in Chromium. It speaks Rasa 3.6's socket.io channel and asks for no
extensions; issue 17: it showed no bot message at all, only typing dots.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, expect

from chatbot.content.library import ContentLibrary
from chatbot.redis_server import free_port
from chatbot.settings import Settings
from tests.browser import Tabs
from tests.conftest import ROOT, with_settings

BUNDLE = ROOT / "node_modules" / "rasa-webchat" / "lib" / "index.js"
PAGE = """<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Rasa webchat</title>
<link rel="icon" href="data:,"></head><body><div id="webchat"></div>
<script src="/rasa-webchat.js"></script>
<script>
WebChat.default({{
  socketUrl: "{gateway}",
  socketPath: "/socket.io/",
  initPayload: "/get_started",
  customData: {{language: "sv"}},
  embedded: true,
  customMessageDelay: function () {{ return 0; }},
  params: {{storage: "session"}}
}}, document.getElementById("webchat"));
</script></body></html>"""


def answer_texts(answer_id: str) -> list[str]:
    settings = Settings()
    content = ContentLibrary.load(settings.content_dir, settings.locales_dir, settings.default_locale)
    return [r.text for r in content.get(answer_id).replies("sv", retention_days=7, next_open="")]


def buttons(answer_id: str) -> list[str]:
    settings = Settings()
    content = ContentLibrary.load(settings.content_dir, settings.locales_dir, settings.default_locale)
    replies = content.get(answer_id).replies("sv", retention_days=7, next_open="")
    return [q.title for r in replies for q in r.quick_replies]


@pytest.fixture
async def rasa_page(gateway_factory: Any, settings: Settings) -> AsyncIterator[str]:
    """The host page's URL; the gateway behind it allows the page's origin."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    gateway = await gateway_factory(with_settings(settings, allowed_origins=(origin,)))

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE.format(gateway=gateway.url), content_type="text/html")

    async def bundle(request: web.Request) -> web.FileResponse:
        return web.FileResponse(BUNDLE)

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/rasa-webchat.js", bundle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield origin + "/"
    await runner.cleanup()


async def test_rasa_webchat_renders_the_welcome_an_answer_its_buttons_and_a_tapped_answer(
    browser: Browser, rasa_page: str
) -> None:
    assert BUNDLE.is_file(), "rasa-webchat is a devDependency: run scripts/setup"
    tabs = Tabs(browser, timeout_ms=15000)
    tab = await tabs()
    # rasa-webchat's stylesheet asks Google for a font: answered here, so the test never leaves the machine.
    await tab.context.route(
        "https://fonts.googleapis.com/**", lambda route: route.fulfill(body="", content_type="text/css")
    )
    try:
        await tab.page.goto(rasa_page)
        responses = tab.page.locator(".rw-response")
        welcome = answer_texts("welcome")
        # The welcome, each bubble once (its init payload /get_started does not bring it twice).
        for text in welcome:
            await expect(responses.filter(has_text=text)).to_have_count(1)
        first = buttons("welcome")[0]
        await expect(tab.page.locator(".rw-reply", has_text=first)).to_be_visible()

        # Free text gets an answer, with its buttons; a tapped button gets that button's answer.
        await tab.page.fill(".rw-new-message", "min bild sprids på snap")
        await tab.page.keyboard.press("Enter")
        for text in answer_texts("takedown_help"):
            await expect(responses.filter(has_text=text)).to_have_count(1)
        snapchat = buttons("takedown_help")[1]
        reply = tab.page.locator(".rw-reply", has_text=snapchat)
        await expect(reply).to_be_visible()
        await reply.click()
        await expect(tab.page.locator(".rw-client", has_text=snapchat)).to_have_count(1)
        for text in answer_texts("takedown_snapchat"):
            await expect(responses.filter(has_text=text)).to_have_count(1)
        # Nothing twice, nothing else: the welcome, the answer and the tapped answer, bubble for bubble.
        total = sum(len(answer_texts(a)) for a in ("welcome", "takedown_help", "takedown_snapchat"))
        await expect(responses).to_have_count(total)
    finally:
        await tabs.close()
