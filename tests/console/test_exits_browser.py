"""Quick exit while a counsellor chats, in real Chromium on both sides: the child presses the button (or
Esc twice) in the widget, and the counsellor's open conversation says at once that the child has left,
the chat leaves her load, and she categorises it as "the child left"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Route, expect

from chatbot.settings import Settings
from tests.browser import Tabs
from tests.conftest import SCREENSHOTS, with_settings
from tests.console.conftest import Console
from tests.console.test_browser import child_frame, go_available, login

EXIT_URL = "http://exit.test/weather"
EXIT_PAGE = "<!doctype html><title>Weather</title><p>Sunny, 18 degrees.</p>"


@pytest.fixture
async def tabs(browser: Browser) -> AsyncIterator[Tabs]:
    opened = Tabs(browser, viewport={"width": 1200, "height": 800}, locale="sv-SE")
    yield opened
    await opened.close()


async def weather(route: Route) -> None:
    await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=EXIT_PAGE)


@pytest.mark.parametrize("how", ["button", "escape_twice"])
async def test_quick_exit_while_a_counsellor_chats_is_seen_on_her_screen(
    how: str,
    console: Console,
    gateway_factory: Any,
    settings: Settings,
    make_account: Any,
    tabs: Any,
) -> None:
    gateway = await gateway_factory(with_settings(settings, exit_url=EXIT_URL), console.clock)
    anna = await make_account("anna", "counsellor")
    counsellor = await tabs()
    await login(counsellor, console, anna)
    await go_available(counsellor, "Sara")
    page = counsellor.page
    await page.fill('input[name="capacity"]', "1")
    await page.click('#status-form button[type="submit"]')
    await expect(page.locator("#my-load")).to_contain_text("0 of 1")

    child = await tabs()
    await child.context.route(EXIT_URL, weather)
    await child.page.goto(gateway.url + "/")
    frame = await child_frame(child)
    await frame.click("#replies button:has-text('Prata med en människa')")
    await frame.click("#replies button:has-text('Ja, ställ mig i kön')")
    row = page.locator("#queue-rows tr")
    await expect(row).to_have_count(1, timeout=10_000)
    await row.locator("button:has-text('Take')").click()
    await page.wait_for_url("**/conversations/*")
    await expect(frame.locator("#log .msg--system", has_text="Sara har kommit in")).to_have_count(1)
    await page.fill("#reply-text", "Hej, jag heter Sara.")
    await page.press("#reply-text", "Enter")
    await expect(frame.locator("#log .msg--counsellor").last).to_contain_text("jag heter Sara")
    await expect(page.locator("#child-left")).to_be_hidden()
    # A crisis while she chats: the child gets the numbers (and no offer of another counsellor), and
    # her console shows it at once where she cannot miss it.
    await frame.fill("#input", "jag vill inte leva längre")
    await frame.press("#input", "Enter")
    await expect(frame.locator("#log .msg--bot").last).to_contain_text("Kuratorn i chatten ser det du skrev.")
    await expect(page.locator("#alert")).to_contain_text("may be in danger", timeout=5_000)
    await expect(page.locator("#urgent-mark")).to_be_visible()
    assert (await page.title()).startswith("(!) ")

    # The child leaves in one step: the widget ends the chat and the page becomes the neutral site.
    if how == "button":
        await frame.click("#quick-exit")
    else:
        await frame.press("#input", "Escape")
        await frame.press("#input", "Escape")
    await child.page.wait_for_url(EXIT_URL)

    # Her open conversation says so at once, without a reload; nothing she writes could reach the child.
    await expect(page.locator("#child-left")).to_be_visible(timeout=5_000)
    await expect(page.locator("#child-left")).to_contain_text("The child has left.")
    await expect(page.locator("#alert")).to_have_text("The child has left.")
    await expect(page.locator("#reply-form")).to_be_hidden()
    await expect(page.locator("#end-form")).to_be_hidden()
    await expect(page.locator("#transcript li.system").nth(-2)).to_contain_text("Chatten är avslutad.")
    if how == "button":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "console-child-left.png"))

    # She categorises it as "the child left"; the chat is no longer in her load.
    await page.click("#child-left-categorise")
    await page.wait_for_url("**/done*")
    await page.select_option('select[name="topic"]', "other")
    await page.select_option('select[name="age"]', "unknown")
    await page.select_option('select[name="handled"]', "child_left")
    await page.click("#categorise-form button")
    await expect(page.locator("p.notice")).to_contain_text("categorisation is saved")
    await expect(page.locator("#my-load")).to_contain_text("0 of 1")
    await expect(page.locator("#my-chats-none")).to_be_visible()


async def test_my_chats_says_at_once_that_the_child_left(
    console: Console, gateway_factory: Any, settings: Settings, make_account: Any, tabs: Any
) -> None:
    """Her queue page (My chats, her load) follows a child who leaves, while she looks at it."""
    gateway = await gateway_factory(with_settings(settings, exit_url=EXIT_URL), console.clock)
    anna = await make_account("anna", "counsellor")
    counsellor = await tabs()
    await login(counsellor, console, anna)
    await go_available(counsellor, "Sara")
    page = counsellor.page
    child = await tabs()
    await child.context.route(EXIT_URL, weather)
    await child.page.goto(gateway.url + "/")
    frame = await child_frame(child)
    await frame.click("#replies button:has-text('Prata med en människa')")
    await frame.click("#replies button:has-text('Ja, ställ mig i kön')")
    row = page.locator("#queue-rows tr")
    await expect(row).to_have_count(1, timeout=10_000)
    await row.locator("button:has-text('Take')").click()
    await page.wait_for_url("**/conversations/*")
    await page.goto(console.url + "/queue")
    await expect(page.locator("#my-load")).to_contain_text("1 of 2")

    # End chat this time (the widget's own button and its confirmation).
    await frame.click("#end")
    await frame.click("#confirm-yes")
    mine = page.locator("#my-chats li.left")
    await expect(mine).to_contain_text("The child has left.", timeout=5_000)
    await expect(mine.locator("a:has-text('Categorise')")).to_be_visible()
    await expect(page.locator("#my-load")).to_contain_text("0 of 2")
