"""The console and the child's widget in real chromium, side by side: login with TOTP, queue, claim,
chat both ways, the offer of the secure upload, transfer, end, satisfaction, categorisation and
statistics; a child's XSS stays text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Frame, expect

from tests.browser import Tab, Tabs
from tests.conftest import SCREENSHOTS
from tests.console.conftest import Console, Credentials

XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


@pytest.fixture
async def tabs(browser: Browser) -> AsyncIterator[Tabs]:
    # Swedish, the source language of the answers the test clicks through.
    opened = Tabs(browser, viewport={"width": 1200, "height": 800}, locale="sv-SE")
    yield opened
    await opened.close()


async def login(tab: Tab, console: Console, creds: Credentials, landing: str = "**/queue*") -> None:
    """Sign in with password and TOTP; `landing` is where the role lands (counsellors: the queue)."""
    await tab.page.goto(console.url + "/login")
    await tab.page.fill('input[name="name"]', creds.name)
    await tab.page.fill('input[name="password"]', creds.account.password)
    code = console.accounts.code_at(creds.secret, int(console.clock.now().timestamp()))
    await tab.page.fill('input[name="code"]', code)
    await tab.page.click('button[type="submit"].primary')
    await tab.page.wait_for_url(landing)


async def go_available(tab: Tab, display: str) -> None:
    await tab.page.check('input[name="status"][value="available"]')
    await tab.page.fill('input[name="display"]', display)
    await tab.page.click('#status-form button[type="submit"]')
    await expect(tab.page.locator("p.notice")).to_have_text("Saved.")


async def child_frame(tab: Tab) -> Frame:
    handle = await tab.page.wait_for_selector("iframe[data-stodchat]", state="attached")
    frame = await handle.content_frame()
    assert frame is not None
    await frame.wait_for_selector("body.is-ready", state="attached")
    await frame.click("#launcher")
    await frame.wait_for_selector("#log .msg--bot")
    return frame


async def test_counsellor_and_child_side_by_side(
    console: Console, gateway_factory: Any, settings: Any, make_account: Any, tabs: Any
) -> None:
    # The gateway shares the console's clock: a Tuesday morning, the line is open.
    gateway = await gateway_factory(settings, console.clock)
    anna = await make_account("anna", "counsellor")
    bertil = await make_account("bertil", "counsellor")
    sam = await make_account("sam", "supervisor")

    counsellor = await tabs()
    await login(counsellor, console, anna)
    await go_available(counsellor, "Sara")

    # The child asks for a person in the widget and is told their place and an honest wait.
    child = await tabs()
    await child.page.goto(gateway.url + "/")
    frame = await child_frame(child)
    await frame.click("#replies button:has-text('Prata med en människa')")
    await frame.click("#replies button:has-text('Ja, ställ mig i kön')")
    await expect(frame.locator("#log")).to_contain_text("nummer 1 i kön")

    # The counsellor's queue shows the child live, without a reload, and they take the chat.
    row = counsellor.page.locator("#queue-rows tr")
    await expect(row).to_have_count(1, timeout=10_000)
    await row.locator("button:has-text('Take')").click()
    await counsellor.page.wait_for_url("**/conversations/*")
    await expect(frame.locator("#log .msg--system", has_text="Sara har kommit in")).to_have_count(1)

    # Chat both ways. What the child writes is shown as text: no markup, no script runs.
    await frame.fill("#input", XSS)
    await frame.press("#input", "Enter")
    child_line = counsellor.page.locator("#transcript li.child").last
    await expect(child_line).to_contain_text(XSS, timeout=10_000)
    assert await counsellor.page.locator("#transcript img").count() == 0
    assert await counsellor.page.evaluate("() => window.__pwned === undefined")
    await counsellor.page.fill("#reply-text", "Hej, jag heter Sara. Jag läser det du skriver.")
    await counsellor.page.press("#reply-text", "Enter")
    await expect(frame.locator("#log .msg--counsellor").last).to_contain_text("Jag läser det du skriver")
    await expect(counsellor.page.locator("#transcript li.counsellor").last).to_contain_text("Jag läser")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await counsellor.page.screenshot(path=str(SCREENSHOTS / "console-conversation.png"))

    # The counsellor offers the secure upload: the child's message has a button that opens the panel,
    # and what the counsellor was writing stays in the reply box.
    await counsellor.page.fill("#reply-text", "Halvskrivet")
    await counsellor.page.click("#offer-upload-form button:has-text('Offer secure upload')")
    offer = frame.locator("#log .msg--system", has_text="skicka bilden eller filmen till oss")
    await expect(offer).to_have_count(1, timeout=10_000)
    notice = counsellor.page.locator("#transcript li.system").last
    await expect(notice).to_contain_text("skicka bilden eller filmen till oss")
    await expect(counsellor.page.locator("#reply-text")).to_have_value("Halvskrivet")
    await counsellor.page.fill("#reply-text", "")
    await expect(frame.locator("#upload")).to_be_hidden()
    await offer.locator("button:has-text('Skicka filen säkert')").click()
    await expect(frame.locator("#upload")).to_be_visible()
    await frame.click("#upload-cancel")
    await expect(frame.locator("#upload")).to_be_hidden()

    # Transfer to a colleague with a note; the child is told who is there now.
    colleague = await tabs()
    await login(colleague, console, bertil)
    await go_available(colleague, "Bertil")
    await counsellor.page.reload()
    await counsellor.page.select_option('select[name="to"]', "bertil")
    await counsellor.page.fill('input[name="note"] >> nth=0', "Vill ha hjälp att anmäla")
    await counsellor.page.click("button:has-text('Transfer') >> nth=-1")
    await counsellor.page.wait_for_url("**/queue*")
    await expect(frame.locator("#log .msg--system", has_text="Bertil har kommit in")).to_have_count(1)
    await colleague.page.reload()
    await colleague.page.click("#my-chats a")
    await expect(colleague.page.locator("p.notice")).to_contain_text("Vill ha hjälp att anmäla")
    # The transcript from before the transfer is there: nothing is lost in the move.
    await expect(colleague.page.locator("#transcript li.counsellor")).to_contain_text("Jag läser")

    # End; the child gets the satisfaction question; the counsellor categorises.
    # Ending asks first, in the page: the first click only opens the question.
    await expect(colleague.page.locator("#end-form button")).to_be_hidden()
    await colleague.page.click("#end-confirm summary")
    await expect(colleague.page.locator("#end-form")).to_contain_text("The child is told the chat has ended")
    await colleague.page.click("#end-form button")
    await colleague.page.wait_for_url("**/done*")
    await expect(frame.locator("#log")).to_contain_text("Fick du den hjälp du behövde?")
    await frame.click("#replies button:has-text('Ja')")
    await expect(frame.locator("#log")).to_contain_text("Tack för att du svarade")
    await colleague.page.select_option('select[name="topic"]', "sextortion")
    await colleague.page.select_option('select[name="age"]', "13-15")
    await colleague.page.select_option('select[name="handled"]', "takedown_started")
    await colleague.page.click("#categorise-form button")
    await expect(colleague.page.locator("p.notice")).to_contain_text("categorisation is saved")

    # The supervisor's statistics count it all, as aggregates.
    supervisor = await tabs()
    await login(supervisor, console, sam)
    await supervisor.page.goto(console.url + "/stats?period=week")
    await expect(supervisor.page.locator('[data-counter="handed_off"]')).to_have_text("1")
    await expect(supervisor.page.locator('[data-counter="transferred"]')).to_have_text("1")
    await expect(supervisor.page.locator('td[data-key="sextortion"]')).to_have_text("1")
    await expect(supervisor.page.locator("#satisfaction")).to_have_text("1 / 0")
    await supervisor.page.screenshot(path=str(SCREENSHOTS / "console-statistics.png"), full_page=True)

    # The supervisor's overview follows the shift live: a colleague going away shows without a reload.
    await supervisor.page.goto(console.url + "/overview")
    bertil_row = supervisor.page.locator("#on-shift tr", has_text="bertil")
    await expect(bertil_row).to_contain_text("available")
    await colleague.page.goto(console.url + "/queue")
    await colleague.page.check('input[name="status"][value="away"]')
    await colleague.page.click('#status-form button[type="submit"]')
    await expect(bertil_row).to_contain_text("away", timeout=10_000)
