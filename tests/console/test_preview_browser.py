"""The child's-eye preview in Chromium (issues 14 and 15): an editor changes a bubble and a button of a draft,
opens the preview at phone width and reads the new text in the widget's own code; tapping the button shows
the draft's target, not the published one; nothing reaches Redis as a conversation or a statistic. Arabic
is right-to-left; a translator previews her saved English; a counsellor is refused; axe-core finds nothing
serious or critical on the preview page at desktop and phone widths."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, FrameLocator, expect
from redis.asyncio import Redis

from chatbot.store.keys import PREFIX
from console.appkeys import WORKSPACE
from tests.browser import Tab, Tabs
from tests.conftest import SCREENSHOTS
from tests.console.conftest import Console
from tests.console.test_a11y_browser import DESKTOP, PHONE, audited
from tests.console.test_browser import login

NEW = "Bra att du skriver till oss. Det är aldrig ditt fel att den sprids. Den som sprider den gör fel."
PUBLISHED = (
    "Bra att du hör av dig. Det är inte ditt fel att den sprids. Den som sprider den gör fel, inte du."
)
FAKE = "En fejkad bild, eller en bild gjord med AI, kan kännas lika jobbig."
ENGLISH = "Good that you got in touch with us. It is never your fault that it spreads."


@pytest.fixture
async def tabs(browser: Browser) -> AsyncIterator[Tabs]:
    # The console's own CSP applies (the widget's Trusted Types and framing rules with it): no bypass.
    opened = Tabs(browser, viewport=PHONE, locale="sv-SE", timezone_id="UTC")
    yield opened
    await opened.close()


@pytest.fixture
async def audit_tabs(browser: Browser) -> AsyncIterator[Tabs]:
    # axe is injected by the test, so this context bypasses the CSP (see test_a11y_browser).
    opened = Tabs(browser, viewport=DESKTOP, locale="sv-SE", bypass_csp=True, timezone_id="UTC")
    yield opened
    await opened.close()


def widget(tab: Tab) -> FrameLocator:
    return tab.page.frame_locator("#preview-frame")


async def conversation_keys(redis: Redis) -> list[Any]:
    return [
        k
        for pattern in (f"{PREFIX}:log:*", f"{PREFIX}:sess:*", f"{PREFIX}:stats:*")
        for k in await redis.keys(pattern)
    ]


async def test_an_editor_previews_her_draft_in_the_widget_and_taps_through_the_draft(
    console: Console, tabs: Any, audit_tabs: Any, make_account: Any, redis: Redis
) -> None:
    edith = await make_account("edith", "editor", language="sv")
    tab: Tab = await tabs()
    page = tab.page
    await login(tab, console, edith, landing="**/")
    await page.goto(console.url + "/content")
    await page.click('#answer-takedown_help button[type="submit"]')
    await page.wait_for_url("**/content/drafts/*")
    draft_url = page.url
    # A new first bubble, and the Snapchat button now leads to the answer on fakes (in the draft only).
    await page.fill('textarea[name="bubble0"]', NEW)
    await page.select_option('select[name="target1"]', "goto:takedown_fake")
    await page.click('form.draft-form button[type="submit"]')
    await page.wait_for_url(draft_url)
    before = await conversation_keys(redis)

    await page.click("#preview-link")
    await page.wait_for_url("**/preview")
    await expect(page.locator("h1")).to_contain_text("Förhandsvisning av utkast")
    chat = widget(tab)
    # The widget starts as a child's does: the welcome, its buttons from the draft's graph.
    await expect(chat.locator("#log .msg--bot").first).to_contain_text("Hej!")
    # The frame is a phone's size, at most the window's height: all of it in view, as an editor sees it.
    await page.locator("#preview-frame").scroll_into_view_if_needed()
    await chat.locator('#replies button:text-is("Få bort en bild eller film")').click()
    await expect(chat.locator("#log .msg--child")).to_have_text("Du: Få bort en bild eller film")
    await expect(chat.locator("#log")).to_contain_text(NEW)
    await expect(chat.locator("#log")).not_to_contain_text(PUBLISHED)
    await chat.locator('#replies button:text-is("Snapchat")').click()
    await expect(chat.locator("#log .msg--bot").last).to_contain_text("Anmäl den också i appen.")
    await expect(chat.locator("#log")).to_contain_text(FAKE)
    # On a phone the frame fills the screen; on a desktop it is exactly a phone's size.
    box = await page.locator("#preview-frame").bounding_box()
    assert box is not None and box["width"] <= PHONE["width"] and box["height"] <= PHONE["height"]
    await page.set_viewport_size({"width": 1280, "height": 900})
    box = await page.locator("#preview-frame").bounding_box()
    assert box is not None and (box["width"], box["height"]) == (390, 844)

    # Starting from the edited answer; the published library is untouched and nothing was stored.
    await page.click('#preview-starts a:text-is("takedown_help")')
    await expect(chat.locator("#log .msg--bot").first).to_contain_text(NEW)
    assert await conversation_keys(redis) == before
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.locator("#preview-frame").screenshot(path=str(SCREENSHOTS / "content-preview.png"))

    # Arabic: right to left, the widget's Arabic strings; the changed answer shows in Swedish (its Arabic
    # translation is stale now), as it would for a child.
    await page.click('#preview-languages a[hreflang="ar"]')
    await expect(chat.locator("html")).to_have_attribute("dir", "rtl")
    await expect(chat.locator("html")).to_have_attribute("lang", "ar")
    await expect(page.locator('#preview-starts strong[aria-current="page"]')).to_have_text("takedown_help")
    await expect(chat.locator("#log .msg--bot").first).to_contain_text(NEW)
    await page.locator("#preview-frame").screenshot(path=str(SCREENSHOTS / "content-preview-rtl.png"))
    # The widget's own language menu switches the preview as it switches a child's chat.
    await chat.locator("#language").select_option("en")
    await expect(chat.locator("html")).to_have_attribute("dir", "ltr")
    await expect(chat.locator("#send")).to_have_text("Send")
    await chat.locator('#replies button:text-is("Snapchat")').click()
    await expect(chat.locator("#log .msg--bot").last).to_contain_text("Report it in the app too.")
    await expect(chat.locator("#log")).to_contain_text("A fake picture, or one made with AI")

    assert console.app is not None
    _version, published = await console.app[WORKSPACE].published()
    assert published.library().get("takedown_help").bubbles[0] == PUBLISHED

    auditor: Tab = await audit_tabs()
    await login(auditor, console, await make_account("erik", "editor", language="sv"), landing="**/")
    await auditor.page.goto(draft_url + "/preview?lang=ar&answer=takedown_help")
    await expect(widget(auditor).locator("#log .msg--bot").first).to_contain_text(NEW)
    await audited(auditor.page, "preview")


async def test_a_translator_previews_her_english_and_a_counsellor_is_refused(
    console: Console, tabs: Any, make_account: Any
) -> None:
    tove = await make_account("tove", "translator", language="sv")
    tab: Tab = await tabs()
    page = tab.page
    await login(tab, console, tove, landing=console.url + "/")
    await page.goto(console.url + "/translate/en/answers/takedown_help")
    row = page.locator('[data-key="takedown_help:bubble:0"]')
    await row.locator("textarea").fill(ENGLISH)
    await row.locator("button.save").click()
    await expect(page.locator('[data-key="takedown_help:bubble:0"] textarea')).to_have_value(ENGLISH)
    await page.click("#preview-link")
    await page.wait_for_url("**/preview")
    chat = widget(tab)
    await page.locator("#preview-frame").scroll_into_view_if_needed()
    await expect(chat.locator("html")).to_have_attribute("lang", "en")
    await expect(chat.locator("html")).to_have_attribute("dir", "ltr")
    await expect(chat.locator("#log .msg--bot").first).to_contain_text(ENGLISH)
    await expect(chat.locator("#replies button").nth(1)).to_have_text("Snapchat")
    await chat.locator('#replies button:text-is("Snapchat")').click()
    await expect(chat.locator("#log .msg--bot").last).to_be_visible()
    await expect(chat.locator("#log")).not_to_contain_text("fake")

    carl = await make_account("carl", "counsellor", language="sv")
    other: Tab = await tabs()
    await login(other, console, carl)
    for path in (
        "/translate/en/answers/takedown_help/preview",
        "/translate/en/answers/takedown_help/preview/chat",
        "/preview/widget/main.js",
    ):
        # The context's own requests (its session cookie), not a page: a refused page is not an error here.
        response = await other.context.request.get(console.url + path, max_redirects=0)
        assert response.status == 403, (path, response.status)
