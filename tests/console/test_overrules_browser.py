"""Overruling the guideline gate in Chromium, in Swedish: an editor's bubble gets a classifier warning; she
accepts it as fine for the blame rule with a reason; a second editor sees the accepted warning and its reason
in the review section as he approves. A blocking violation cannot be accepted over HTTP either. axe-core
finds nothing serious or critical on the draft page with the overrule form open, at desktop and phone widths."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.console.conftest import Console
from tests.console.test_a11y_browser import audited
from tests.console.test_browser import login

WARNED = "Tänk på vad du skickar."
REASON = "Ett allmänt råd om säkerhet, inte om det som hänt."
BLOCKING = "Du borde ha vetat."


async def test_an_editor_accepts_a_warning_and_the_reviewer_sees_it_when_approving(
    console: Console, tabs: Any, make_account: Any
) -> None:
    edith = await make_account("edith", "editor", language="sv")
    erik = await make_account("erik", "editor", language="sv")

    author = await tabs()
    page = author.page
    await login(author, console, edith, landing="**/")
    await page.goto(console.url + "/content")
    await page.click('#answer-anonymity button[type="submit"]')
    await page.wait_for_url("**/content/drafts/*")
    draft_url = page.url
    # A violation cannot be accepted, whatever a script sends: the server refuses it.
    await page.locator('textarea[name="bubble1"]').fill(BLOCKING)
    await page.click('form.draft-form button[type="submit"]')
    await page.wait_for_url(draft_url)
    refused = await page.request.post(
        draft_url + "/overrule",
        form={
            "answer": "anonymity",
            "sentence": BLOCKING,
            "rule": "blame",
            "kind": "accepted",
            "reason": "ok",
        },
        headers={
            "Accept": "application/json",
            "X-CSRF-Token": await page.locator('meta[name="csrf-token"]').get_attribute("content") or "",
        },
    )
    assert refused.status == 422 and (await refused.json())["error"] == "blocking"
    form = page.locator("#overrule-anonymity")
    await form.locator("summary").click()
    await form.locator('select[name="sentence"]').select_option(BLOCKING)
    await form.get_by_label("Skäl").fill("det är okej")
    await form.locator('button:text-is("Spara överkörningen")').click()
    await expect(form.locator("p.alert")).to_have_text(
        "Meningen bryter mot regeln och kan inte godkännas: ändra den. Bara varningar kan godkännas."
    )
    await expect(page.locator("#overrules")).to_have_count(0)
    await page.locator('textarea[name="bubble1"]').fill(WARNED)
    await page.click('form.draft-form button[type="submit"]')
    await page.wait_for_url(draft_url)
    await expect(page.locator('ul[data-findings="1"] li.warning')).to_contain_text("skuldbelägg mig inte")
    await expect(page.locator("#gate")).to_have_text("Riktlinjekontrollen godkänner utkastet.")

    await form.locator("summary").click()
    await audited(page, "draft with the overrule form")
    await form.locator('select[name="sentence"]').select_option(WARNED)
    await form.locator('select[name="rule"]').select_option("blame")
    await form.get_by_label("Varningen är fel: meningen är okej för den här regeln").check()
    await form.get_by_label("Skäl").fill(REASON)
    await form.locator('button:text-is("Spara överkörningen")').click()
    await page.wait_for_url(draft_url + "#overrules")
    accepted = page.locator('#overrules li[data-overrule="accepted"]')
    await expect(accepted).to_contain_text("varning godkänd")
    await expect(accepted).to_contain_text(f"edith skäl: {REASON}")

    await page.click('#review button:text-is("Skicka på granskning")')
    await expect(page.locator("#draft-status")).to_have_text("väntar på granskning")

    reviewer = await tabs()
    await login(reviewer, console, erik, landing="**/")
    await reviewer.page.goto(draft_url)
    seen = reviewer.page.locator('#review #overrules li[data-overrule="accepted"]')
    await expect(seen).to_contain_text(WARNED)
    await expect(seen).to_contain_text(REASON)
    await audited(reviewer.page, "draft under review with an overrule")
    await reviewer.page.click('#review button:text-is("Godkänn")')
    await expect(reviewer.page.locator("#draft-status")).to_have_text("godkänt")
    await expect(reviewer.page.locator("#overrules")).to_contain_text(REASON)
