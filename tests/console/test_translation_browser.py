"""The translators' workspace in Chromium, in Swedish: a stale English answer, its diff, a refused
placeholder, a second translator's review; axe-core finds nothing serious or critical on any of its
pages at desktop and phone widths."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser import Tab
from tests.console.conftest import Console
from tests.console.test_a11y_browser import audited
from tests.console.test_browser import login
from tests.console.test_translation_pages import NEW
from tests.console.test_translation_pages import settings as settings  # the edited answers and catalogs

ROW = '[data-key="thanks:bubble:0"]'


async def translator(tabs: Any, console: Console, make_account: Any, name: str) -> Tab:
    tab: Tab = await tabs()
    await login(
        tab, console, await make_account(name, "translator", language="sv"), landing=console.url + "/"
    )
    return tab


async def test_a_stale_answer_is_translated_checked_reviewed_and_every_page_passes_axe(
    console: Console, tabs: Any, make_account: Any
) -> None:
    tina = await translator(tabs, console, make_account, "tina")
    page = tina.page
    await page.click("nav >> text=Översättning")
    await expect(page.locator("h1")).to_have_text("Översättning")
    await expect(page.locator("#lang-en .in-swedish")).to_contain_text("thanks")
    await audited(page, "translation dashboard")

    await page.click("#lang-en >> text=en")
    await expect(page.locator('[data-answer="thanks"]')).to_have_attribute("data-state", "stale")
    await audited(page, "language page")
    await page.click('a[href="/translate/en/answers/thanks"]')
    row = page.locator(ROW)
    await expect(row).to_have_attribute("data-state", "stale")
    await expect(row.locator(".diff del").first).to_have_text(" själv")
    await expect(row.locator(".diff ins").first).to_have_text("Skönt")
    await expect(page.locator("#editor-note")).to_be_visible()
    await expect(page.locator("#graph")).to_contain_text("welcome")
    await audited(page, "translate in context")

    # A wrong placeholder: the check says so as she types, and saving is refused.
    await page.goto(console.url + "/translate/en/answers/handoff_queued")
    queued = page.locator('[data-key="handoff_queued:bubble:0"]')
    await queued.locator("textarea").fill("You are number {place} in the queue.")
    await expect(queued.locator('.findings [data-code="placeholders"]')).to_contain_text("{position}")
    await queued.locator("button.save").click()
    await expect(
        page.locator('[data-key="handoff_queued:bubble:0"] .findings [data-code="placeholders"]')
    ).to_be_visible()
    await expect(page.locator('[data-key="handoff_queued:bubble:0"]')).not_to_have_attribute(
        "data-state", "unreviewed"
    )
    # The refusal is a 422 page, which Chromium reports on its console: expected here, and only here.
    refused = [p for p in tina.problems if "422" in p]
    assert len(refused) == 1
    tina.problems.remove(refused[0])

    await page.goto(console.url + "/translate/en/answers/thanks")
    await page.locator(ROW).locator("textarea").fill("Thanks! Good that you wrote to us.")
    await page.locator(ROW).locator("button.save").click()
    await expect(page.locator("#message")).to_contain_text("Sparat")
    await expect(page.locator(ROW)).to_have_attribute("data-state", "unreviewed")

    for path, where in (
        ("/translate/ar/answers/crisis", "right-to-left answer"),
        ("/translate/en/review", "review queue"),
        ("/translate/ar/glossary", "glossary"),
        ("/translate/en/exchange", "export and import"),
        ("/translate/ar/strings/widget?state=unreviewed", "widget strings"),
    ):
        await page.goto(console.url + path)
        await audited(page, where)
    await expect(page.locator("textarea").first).to_have_attribute("dir", "rtl")

    rami = await translator(tabs, console, make_account, "rami")
    await rami.page.goto(console.url + "/translate/en/review")
    await rami.page.locator(ROW).locator("button.review").click()
    await expect(rami.page.locator("#message")).to_contain_text("Granskad")
    await rami.page.goto(console.url + "/translate/en/answers/thanks")
    await expect(rami.page.locator(ROW)).to_have_attribute("data-state", "reviewed")
    await expect(rami.page.locator(ROW + " .source")).to_have_text(NEW)
