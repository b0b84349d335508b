"""A new counsellor's first sign-in in Chromium, in Swedish, and an axe-core audit (WCAG 2.1 A/AA) of every
console page at desktop and phone widths: nothing serious or critical."""

from __future__ import annotations

import json
from typing import Any

from playwright.async_api import Page, expect
from redis.asyncio import Redis

from chatbot.store import keys as chat_keys
from tests.chatbot.widget.test_widget_a11y import audit
from tests.conftest import SCREENSHOTS
from tests.console.conftest import DESKTOP, PHONE, Console
from tests.console.test_first_sign_in import OWN_PASSWORD
from tests.console.test_live import queued_child


async def audited(page: Page, where: str) -> None:
    for size in (DESKTOP, PHONE):
        await page.set_viewport_size(size)
        violations = await audit(page)
        assert violations == [], f"{where} at {size['width']} px: " + json.dumps(violations, indent=1)
    await page.set_viewport_size(DESKTOP)


async def test_first_sign_in_in_swedish_and_every_page_passes_axe(
    console: Console,
    tabs: Any,
    make_account: Any,
    gateway_factory: Any,
    settings: Any,
    child_factory: Any,
    redis: Redis,
) -> None:
    made = await console.accounts.create("maja", "supervisor")
    tab = await tabs()
    page = tab.page
    await page.goto(console.url + "/login")
    await expect(page.locator("h1")).to_have_text("Logga in")
    await audited(page, "login")
    await page.fill('input[name="name"]', "maja")
    await page.fill('input[name="password"]', made.password)
    await page.click('button[type="submit"].primary')
    await page.wait_for_url("**/setup/password")
    await audited(page, "setup password")
    await page.fill('input[name="password"]', "qwertyuiop123")
    await page.fill('input[name="repeated"]', "qwertyuiop123")
    await page.click("#password-form button")
    await expect(page.locator("#setup-error")).to_contain_text("läckta lösenordslistor")
    await audited(page, "setup password, refused")
    await page.fill('input[name="password"]', OWN_PASSWORD)
    await page.fill('input[name="repeated"]', OWN_PASSWORD)
    await page.click("#password-form button")
    await page.wait_for_url("**/setup/authenticator")
    await expect(page.locator("svg.qr")).to_be_visible()
    await audited(page, "setup authenticator")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "console-first-sign-in-qr.png"), full_page=True)
    secret = (await page.locator("#totp-key").inner_text()).replace(" ", "")
    code = console.accounts.code_at(secret, int(console.clock.now().timestamp()))
    await page.fill('input[name="code"]', code)
    await page.click("#authenticator-form button")
    await page.wait_for_url("**/queue")
    await expect(page.locator("h1")).to_contain_text("Väntar")

    # A child waits, so the queue and conversation pages have their full content.
    gateway = await gateway_factory(settings, console.clock)
    child, conv_id = await queued_child(child_factory, gateway, redis, console)
    # The child lets the counsellor read along (without it, nothing before a counsellor joins is shown).
    await redis.hset(chat_keys.conversation(conv_id), "transcript_consent", "1")  # type: ignore[misc]
    # A live entry shows Stockholm time like the entries the page was rendered with (10:00, not 09:00 UTC).
    await page.goto(console.url + f"/conversations/{conv_id}")
    await child.say("hej, är det någon där?", client_id="live-1")
    live = page.locator("#transcript li.child").last
    await expect(live).to_contain_text("hej, är det någon där?", timeout=10_000)
    await expect(live.locator(".meta")).to_contain_text("10:00")
    for path, name in (
        ("/queue", "queue"),
        (f"/conversations/{conv_id}", "conversation"),
        ("/overview", "overview"),
        ("/overview?msg=bad_hours", "overview with an error"),
        ("/stats?period=week", "statistics"),
    ):
        await page.goto(console.url + path)
        await expect(page.locator("html")).to_have_attribute("lang", "sv")
        await audited(page, name)

    analyst = await make_account("ana", "analyst", language="sv")
    other = await tabs()
    await other.page.goto(console.url + "/login")
    await other.page.fill('input[name="name"]', "ana")
    await other.page.fill('input[name="password"]', analyst.account.password)
    code = console.accounts.code_at(analyst.secret, int(console.clock.now().timestamp()))
    await other.page.fill('input[name="code"]', code)
    await other.page.click('button[type="submit"].primary')
    await other.page.wait_for_url("**/")
    await audited(other.page, "home")
    await other.page.goto(console.url + "/cases")
    await audited(other.page, "cases")
    # The audit sees these pages: an unlabelled button is caught.
    await other.page.evaluate(
        "() => document.querySelector('main').appendChild(document.createElement('button'))"
    )
    assert "button-name" in [v["id"] for v in await audit(other.page)]
