"""The translators' whole story in Chromium, ending in the real widget on a running gateway: the stale English
of a changed answer is never shown, a translator reads the diff and translates it (a wrong placeholder
refused), a second one reviews it, and the English-speaking child reads it; a language reaches the widget's
menu only when safe-complete and switched on, without a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from chatbot.redis_server import RedisServer
from chatbot.settings import Settings
from tests.browser import Tab, Tabs
from tests.console.conftest import Console
from tests.console.test_a11y_browser import PHONE, audited
from tests.console.test_browser import login
from tests.console.test_translation_pages import NEW, edited_tree

ROW = '[data-key="thanks:bubble:0"]'
TRANSLATED = "Thanks! Good that you wrote to us."
STALE = "Thank you too"


@pytest.fixture
def settings(redis_server: RedisServer, tmp_path: Path) -> Settings:
    # The edited answers and catalogs; Arabic (safe-complete) is not in this deployment's OFFERED_LOCALES.
    content, locales = edited_tree(tmp_path)
    return Settings(
        redis_url=redis_server.url,
        session_secret=Settings().session_secret,
        content_dir=content,
        locales_dir=locales,
        offered_locales=("sv", "en"),
    )


@pytest.fixture
async def children(browser: Browser) -> AsyncIterator[Tabs]:
    # The child's phone, in English, with the chat page's own Content-Security-Policy in force.
    opened = Tabs(browser, viewport=PHONE, locale="en-US", timezone_id="Europe/Stockholm")
    yield opened
    await opened.close()


async def signed_in(tabs: Any, console: Console, make_account: Any, name: str, role: str) -> Tab:
    tab: Tab = await tabs()
    landing = console.url + "/" if role == "translator" else "**/queue*"
    await login(tab, console, await make_account(name, role, language="sv"), landing=landing)
    return tab


async def open_chat(tab: Tab, url: str) -> Page:
    await tab.page.goto(url + "/chat")
    await tab.page.wait_for_selector("#log .msg--bot")
    return tab.page


async def asks_thanks(page: Page, expected: str) -> None:
    """The child writes; a bot bubble says `expected`, and never the stale English."""
    await page.fill("#input", "/thanks")
    await page.press("#input", "Enter")
    await expect(page.locator("#log .msg--bot", has_text=expected).last).to_be_visible(timeout=10000)
    await expect(page.locator("#log .msg--bot", has_text=STALE)).to_have_count(0)


async def menu(page: Page) -> list[str]:
    codes: list[str] = await page.eval_on_selector_all("#language option", "els => els.map(e => e.value)")
    return codes


async def test_a_stale_answer_translated_and_reviewed_reaches_the_english_child_in_the_real_widget(
    console: Console, gateway_factory: Any, tabs: Any, children: Any, make_account: Any, settings: Settings
) -> None:
    gateway = await gateway_factory(settings)
    child = await children()
    chat = await open_chat(child, gateway.url)
    await expect(chat.locator("html")).to_have_attribute("lang", "en")
    # The editors just changed the Swedish: the stale English is never shown, the new Swedish is.
    await asks_thanks(chat, NEW)

    tina = await signed_in(tabs, console, make_account, "tina", "translator")
    page = tina.page
    await page.goto(console.url + "/translate/en/answers/thanks")
    row = page.locator(ROW)
    await expect(row).to_have_attribute("data-state", "stale")
    await expect(row.locator(".diff del").first).to_have_text(" själv")
    await expect(row.locator(".diff ins").first).to_have_text("Skönt")
    # A wrong placeholder is refused.
    await page.goto(console.url + "/translate/en/answers/handoff_queued")
    queued = page.locator('[data-key="handoff_queued:bubble:0"]')
    await queued.locator("textarea").fill("You are number {place} in the queue.")
    await queued.locator("button.save").click()
    await expect(
        page.locator('[data-key="handoff_queued:bubble:0"] .findings [data-code="placeholders"]')
    ).to_be_visible()
    refused = [p for p in tina.problems if "422" in p]
    assert len(refused) == 1
    tina.problems.remove(refused[0])
    await page.goto(console.url + "/translate/en/answers/thanks")
    await page.locator(ROW).locator("textarea").fill(TRANSLATED)
    await page.locator(ROW).locator("button.save").click()
    await expect(page.locator("#message")).to_contain_text("Sparat")

    rami = await signed_in(tabs, console, make_account, "rami", "translator")
    await rami.page.goto(console.url + "/translate/en/review")
    await rami.page.locator(ROW).locator("button.review").click()
    await expect(rami.page.locator("#message")).to_contain_text("Granskad")

    # The same open chat, no reload and no restart: the child reads the reviewed translation.
    await asks_thanks(chat, TRANSLATED)
    for tab in (child, tina, rami):
        assert tab.problems == []


async def test_a_language_reaches_the_widget_menu_only_when_safe_complete_and_switched_on(
    console: Console, gateway_factory: Any, tabs: Any, children: Any, make_account: Any, settings: Settings
) -> None:
    gateway = await gateway_factory(settings)
    child = await children()
    chat = await open_chat(child, gateway.url)
    assert await menu(chat) == ["sv", "en"]

    tina = await signed_in(tabs, console, make_account, "tina", "translator")
    await tina.page.goto(console.url + "/translate")
    await tina.page.fill('#start-language input[name="locale"]', "fa")
    await tina.page.click('#start-language button[type="submit"]')
    await tina.page.wait_for_url("**/translate/fa?msg=started")

    sara = await signed_in(tabs, console, make_account, "sara", "supervisor")
    page = sara.page
    await page.goto(console.url + "/translate")
    await expect(page.locator("#lang-fa .offer")).to_contain_text("inte säkert komplett")
    await page.locator("#lang-fa .switch-on").click()  # refused: not safe-complete
    await expect(page.locator("#message")).to_contain_text("säkert komplett")
    await audited(page, "translation dashboard (supervisor)")
    await chat.reload()
    await chat.wait_for_selector("#log .msg--bot")
    assert await menu(chat) == ["sv", "en"]

    # Arabic is safe-complete: switched on, it is in the menu at the widget's next load, no restart.
    await page.locator("#lang-ar .switch-on").click()
    await expect(page.locator("#lang-ar .offered")).to_have_text("erbjuds")
    for _ in range(50):
        await chat.reload()
        await chat.wait_for_selector("#log .msg--bot")
        if "ar" in await menu(chat):
            break
    assert await menu(chat) == ["sv", "ar", "en"]
    await chat.select_option("#language", "ar")
    await expect(chat.locator("html")).to_have_attribute("dir", "rtl")
    await expect(chat.locator("html")).to_have_attribute("lang", "ar")
    for tab in (child, tina, sara):
        assert tab.problems == []


async def test_an_import_conflict_is_chosen_side_by_side_and_the_preview_passes_axe(
    console: Console, tabs: Any, make_account: Any
) -> None:
    tina = await signed_in(tabs, console, make_account, "tina", "translator")
    response = await tina.page.request.get(console.url + "/translate/en/export/content.po")
    data = (await response.body()).decode()
    rami = await signed_in(tabs, console, make_account, "rami", "translator")
    await rami.page.goto(console.url + "/translate/en/answers/greet")
    greet = rami.page.locator('[data-key="greet:bubble:0"]')
    await greet.locator("textarea").fill("Hi there! Good that you are writing.")
    await greet.locator("button.save").click()
    await expect(rami.page.locator("#message")).to_contain_text("Sparat")

    changed = data.replace(
        'msgstr "Hi! Good that you\'re writing."', 'msgstr "Hello! Good that you write."', 1
    )
    page = tina.page
    await page.goto(console.url + "/translate/en/exchange")
    await page.select_option('#import-form select[name="domain"]', "content")
    await page.set_input_files(
        '#import-form input[type="file"]',
        {"name": "en-content.po", "mimeType": "text/x-gettext-translation", "buffer": changed.encode()},
    )
    await page.click('#import-form button[type="submit"]')
    conflict = page.locator('fieldset.conflict[data-key="greet:bubble:0"]')
    await expect(conflict.locator(".theirs")).to_have_text("Hi there! Good that you are writing.")
    await expect(conflict.locator(".ours")).to_have_text("Hello! Good that you write.")
    await audited(page, "import preview with a conflict")
    await conflict.locator('input[value="file"]').check()
    await page.click("#apply")
    await expect(page.locator("#message")).to_contain_text("Importerat")
    await page.goto(console.url + "/translate/en/answers/greet")
    await expect(page.locator('[data-key="greet:bubble:0"] textarea')).to_have_value(
        "Hello! Good that you write."
    )
    for tab in (tina, rami):
        assert tab.problems == []
