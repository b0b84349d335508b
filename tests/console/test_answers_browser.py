"""Editors create and remove answers in Chromium, in Swedish: a new answer is drafted, the gate's findings
stand in Swedish beside its bubble, a button of another answer leads to it in the same draft, a second
editor approves and publishes, and a child connected to a running gateway taps through to the new answer
with no restart; removing an answer that the dialogue or another answer's button still leads to is refused
with a clear message. axe-core finds nothing serious or critical on the changed pages (desktop and phone)."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.conftest import SCREENSHOTS
from tests.console.conftest import Console
from tests.console.test_a11y_browser import audited
from tests.console.test_browser import login
from tests.console.test_content_browser import _served

BLAME = "Du borde inte ha svarat honom."
NEW = "Det händer också i spel och i chattar. Den vuxne har ansvaret, inte du."
LABEL = "I spel och chattar"


async def test_a_new_answer_reaches_a_child_through_a_button_and_a_referenced_one_cannot_be_removed(
    console: Console, tabs: Any, make_account: Any, gateway_factory: Any, settings: Any, child_factory: Any
) -> None:
    gateway = await gateway_factory(settings, console.clock)
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    edith = await make_account("edith", "editor", language="sv")
    erik = await make_account("erik", "editor", language="sv")

    author = await tabs()
    page = author.page
    await login(author, console, edith, landing="**/")
    await page.goto(console.url + "/content")

    # Removing what the dialogue or another answer's button leads to is refused, saying why.
    await page.select_option('select[name="delete"]', "grooming_signs")
    await page.click('form.delete-answer-form button[type="submit"]')
    await expect(page.locator("#content-error")).to_have_text(
        "Knappar i de här svaren leder dit: grooming. Ändra de knapparna först (i samma utkast) och ta "
        "sedan bort det."
    )
    await page.select_option('select[name="delete"]', "welcome")
    await page.click('form.delete-answer-form button[type="submit"]')
    await expect(page.locator("#content-error")).to_contain_text("Dialogen visar welcome med dess namn")
    await audited(page, "content with a refusal")

    # A new answer: alone it is unreachable and offers no person, and the gate says so in Swedish.
    form = page.locator("#new-answer form.new-answer-form")
    await form.locator('input[name="new_id"]').fill("grooming_games")
    await form.locator('textarea[name="bubble"]').fill(NEW)
    await form.locator('button[type="submit"]').click()
    await page.wait_for_url("**/content/drafts/*")
    draft_url = page.url
    section = page.locator("#edit-grooming_games")
    await expect(section.locator("h2")).to_contain_text("nytt")
    await expect(page.locator("#gate")).to_contain_text("Riktlinjekontrollen")
    await expect(page.locator("main")).to_contain_text(
        "erbjuder ingen väg till en människa: lägg till en knapp till ask_human"
    )
    await expect(page.locator("main")).to_contain_text(
        "svaret 'grooming_games' går inte att nå: ingen knapp eller avsikt leder dit"
    )
    # The finding beside the bubble, in Swedish, as she types.
    bubble = section.locator('textarea[name="bubble0"]')
    await bubble.fill(BLAME)
    beside = section.locator('ul[data-findings="0"] li.violation')
    await expect(beside).to_contain_text("Tro på mig, skuldbelägg mig inte (riktlinje 1)", timeout=10_000)
    await expect(beside).to_contain_text(
        "bubbla 1: 'Du borde inte ha svarat' säger vad barnet borde ha gjort: det lägger skulden på barnet"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "content-new-answer.png"), full_page=True)
    await bubble.fill(NEW)
    await expect(beside).to_have_count(0, timeout=10_000)
    await section.locator('input[name="label0"]').fill("Prata med en människa")
    await section.locator('select[name="target0"]').select_option("intent:ask_human")
    await section.locator('form.draft-form button[type="submit"]').click()
    await page.wait_for_url(draft_url)

    # In the same draft, a button of grooming leads to it.
    await page.select_option('#more select[name="answer"] >> nth=0', "grooming")
    await page.click('#more form[action$="/add"] button[type="submit"]')
    await page.wait_for_url(draft_url)
    grooming = page.locator("#edit-grooming")
    await grooming.locator('input[name="label4"]').fill(LABEL)
    await grooming.locator('select[name="target4"]').select_option("goto:grooming_games")
    await grooming.locator('form.draft-form button[type="submit"]').click()
    await page.wait_for_url(draft_url)
    await expect(page.locator("#gate")).to_have_text("Riktlinjekontrollen godkänner utkastet.")
    await audited(page, "draft with a new answer")
    await page.click('#review button:text-is("Skicka på granskning")')
    await expect(page.locator("#draft-status")).to_have_text("väntar på granskning")

    reviewer = await tabs()
    await login(reviewer, console, erik, landing="**/")
    await reviewer.page.goto(draft_url)
    await reviewer.page.click('#review button:text-is("Godkänn")')
    await expect(reviewer.page.locator("#draft-status")).to_have_text("godkänt")
    await reviewer.page.click('#review button:has-text("Publicera")')
    await reviewer.page.wait_for_url("**/content/history*")
    await expect(reviewer.page.locator("#v2")).to_contain_text("grooming, grooming_games")
    await audited(reviewer.page, "history")

    # The child, on the gateway that was running all along, taps through to the new answer.
    await _served(gateway, 2)
    await child.drain()
    await child.say("/grooming")
    replies: list[dict[str, Any]] = []
    for _ in range(3):
        replies.append(await child.expect("bot_uttered", timeout=10))
    buttons = {b["title"]: b["payload"] for b in replies[-1].get("quick_replies", [])}
    assert buttons.get(LABEL) == "/grooming_games", replies[-1]
    await child.drain()
    await child.say("/grooming_games")
    assert (await child.expect("bot_uttered", timeout=10))["text"] == NEW
