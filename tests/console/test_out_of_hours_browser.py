"""Out of hours, in real Chromium on both sides with the real gateway, console and Redis: a child leaves the
chat for the counsellors on a Friday evening and quick-exits; on Monday the line opens, the conversation is
in the queue by itself, a counsellor answers a child who is not there; the child comes back with the code
in a new browser context, reads the answer, and ends the chat, and the code dies with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.async_api import Browser, Route, expect

from chatbot.settings import Settings
from tests.browser import Tabs
from tests.conftest import SCREENSHOTS, with_settings
from tests.console.conftest import Console
from tests.console.test_browser import child_frame, login

EXIT_URL = "http://exit.test/weather"
EXIT_PAGE = "<!doctype html><title>Weather</title><p>Sunny, 18 degrees.</p>"
FRIDAY_EVENING = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # 19:00 in Stockholm: closed until Monday 09:00
MONDAY_BEFORE_OPENING = datetime(2026, 11, 30, 7, 58, tzinfo=UTC)  # 08:58 in Stockholm
MONDAY_OPEN = datetime(2026, 11, 30, 8, 0, 1, tzinfo=UTC)


@pytest.fixture
async def tabs(browser: Browser) -> AsyncIterator[Tabs]:
    opened = Tabs(browser, viewport={"width": 1200, "height": 800}, locale="sv-SE")
    yield opened
    await opened.close()


async def weather(route: Route) -> None:
    await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=EXIT_PAGE)


async def test_left_on_friday_answered_on_monday_read_on_another_device(
    console: Console, gateway_factory: Any, settings: Settings, make_account: Any, tabs: Any
) -> None:
    console.clock.set(FRIDAY_EVENING)
    gateway = await gateway_factory(with_settings(settings, exit_url=EXIT_URL), console.clock)

    # Friday evening: the child asks for a person, hears when we open, and leaves the chat for us.
    child = await tabs()
    await child.context.route(EXIT_URL, weather)
    await child.page.goto(gateway.url + "/")
    frame = await child_frame(child)
    await frame.fill("#input", "Någon hotar att sprida en bild på mig")
    await frame.press("#input", "Enter")
    await expect(frame.locator("#log")).to_contain_text("Det är inte ditt fel", timeout=10_000)
    await frame.fill("#input", "kan jag prata med en människa")
    await frame.press("#input", "Enter")
    leave = frame.locator("#replies button", has_text="Lämna chatten till kuratorerna")
    await expect(leave).to_be_visible(timeout=10_000)
    await leave.click()
    # The code, once, with what it does and who can read the chat; nothing of it in storage.
    await expect(frame.locator("#return-panel")).to_be_visible()
    code = (await frame.locator("#return-code").text_content() or "").strip()
    assert len(code) == 24
    await expect(frame.locator("#return-panel")).to_contain_text("Den som har koden kan läsa chatten.")
    await expect(frame.locator("#return-panel")).to_contain_text("Då slutar koden att fungera.")
    stored = await frame.evaluate("() => JSON.stringify(Object.assign({}, window.sessionStorage))")
    assert code not in stored and code.replace("-", "") not in stored
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await child.page.screenshot(path=str(SCREENSHOTS / "widget-return-code.png"))
    await frame.click("#return-close")
    await expect(frame.locator("#return-code")).to_have_text("")
    await expect(frame.locator("#log")).to_contain_text("Nu väntar chatten på kuratorerna.")
    # Quick exit: the device keeps nothing, the chat waits for the counsellors.
    await frame.click("#quick-exit")
    await child.page.wait_for_url(EXIT_URL)

    # Monday before opening: the counsellor sees it in the out-of-hours list, not in the queue.
    console.clock.set(MONDAY_BEFORE_OPENING)
    anna = await make_account("anna", "counsellor")
    counsellor = await tabs()
    await login(counsellor, console, anna)
    page = counsellor.page
    await page.check('input[name="status"][value="available"]')
    await page.fill('input[name="display"]', "Sara")
    await page.click('#status-form button[type="submit"]')
    await expect(page.locator("p.notice[role=status]")).to_have_text("Saved.")
    await expect(page.locator("#held-rows tr")).to_have_count(1)
    await expect(page.locator("#queue-rows tr")).to_have_count(0)
    await expect(page.locator("#held-rows tr")).to_contain_text("sextortion")

    # The line opens: the console's tick moves it into the queue by itself.
    console.clock.set(MONDAY_OPEN)
    row = page.locator("#queue-rows tr")
    await expect(row).to_have_count(1, timeout=10_000)
    await expect(page.locator("#held-rows tr")).to_have_count(0)
    await row.locator("button:has-text('Take')").click()
    await page.wait_for_url("**/conversations/*")
    await expect(page.locator("#held-note")).to_be_visible()
    await page.fill("#reply-text", "Hej, jag heter Sara. Det är inte ditt fel. Vi kan hjälpa dig.")
    await page.press("#reply-text", "Enter")
    await expect(page.locator("#transcript li.counsellor")).to_have_count(1)
    await page.reload()
    await expect(page.locator("#held-read")).to_have_text("Not read yet.")

    # The child comes back on another device (a new browser context) with the code.
    again = await tabs()
    await again.page.goto(gateway.url + "/")
    frame2 = await child_frame(again)
    await frame2.click("#return-open")
    await expect(frame2.locator("#resume")).to_be_visible()
    await frame2.fill("#resume-input", code.lower())
    await frame2.click("#resume-send")
    await expect(frame2.locator("#log .msg--counsellor")).to_contain_text(
        "Hej, jag heter Sara.", timeout=10_000
    )
    await expect(frame2.locator("#log")).to_contain_text("Någon hotar att sprida en bild på mig")
    await page.reload()
    await expect(page.locator("#held-read")).to_have_text("Read by the child.")

    # A wrong code, somewhere else: a typed answer that says nothing about how near it was.
    stranger = await tabs()
    await stranger.page.goto(gateway.url + "/")
    frame3 = await child_frame(stranger)
    await frame3.click("#return-open")
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    await frame3.fill("#resume-input", wrong)
    await frame3.click("#resume-send")
    await expect(frame3.locator("#resume-problem")).to_have_text(
        "Det finns ett skrivfel i koden. Titta på den igen."
    )

    # The child ends the chat: the code dies with it.
    await frame2.click("#end")
    await frame2.click("#confirm-yes")
    await expect(frame2.locator("#ended")).to_be_visible()
    await frame3.fill("#resume-input", code)
    await frame3.click("#resume-send")
    await expect(frame3.locator("#resume-problem")).to_have_text(
        "Ingen chatt väntar med den koden. Den kan ha avslutats eller raderats."
    )
