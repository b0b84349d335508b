"""The editors' workspace in Chromium, in Swedish: an editor drafts a change to the crisis answer, sees the
violation beside the bubble as she types and fixes it; she cannot approve her own draft; a second editor
approves the content and a supervisor child safety; it publishes, and a child connected to a running
gateway reads the new text on the next answer with the new version in the log; a rollback restores the old
text. axe-core finds nothing serious or critical on the pages at desktop and phone widths."""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import expect
from redis.asyncio import Redis

from chatbot.domain.sessions import session_hash
from chatbot.gateway.appkeys import CONTENT_FOLLOWER
from chatbot.model import Entry
from chatbot.store import keys
from tests.conftest import SCREENSHOTS
from tests.console.conftest import Console
from tests.console.test_a11y_browser import audited
from tests.console.test_browser import login

OLD = "Det är bra att du skriver. Du ska inte vara ensam med det här."
BLAME = "Du borde inte ha skickat bilden."
NEW = "Bra att du skriver till oss. Du ska inte vara ensam med det här."


async def _crisis_texts(child: Any) -> list[str]:
    await child.drain()
    await child.say("/crisis")
    texts = []
    for _ in range(3):
        texts.append((await child.expect("bot_uttered", timeout=10))["text"])
    return texts


async def _log(redis: Redis, child: Any) -> list[Entry]:
    conv_id = (await redis.get(keys.session(session_hash(child.session_id)))).decode()
    return [Entry.from_json(r, i + 1) for i, r in enumerate(await redis.lrange(keys.log(conv_id), 0, -1))]


async def _served(gateway: Any, number: int) -> None:
    for _ in range(100):
        if gateway.app[CONTENT_FOLLOWER].live.version == number:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the gateway does not serve version {number}")


async def test_draft_gate_two_sign_offs_publish_to_a_live_child_and_roll_back(
    console: Console,
    tabs: Any,
    make_account: Any,
    gateway_factory: Any,
    settings: Any,
    child_factory: Any,
    redis: Redis,
) -> None:
    gateway = await gateway_factory(settings, console.clock)
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    assert (await _crisis_texts(child))[1] == OLD

    edith = await make_account("edith", "editor", language="sv")
    erik = await make_account("erik", "editor", language="sv")
    sara = await make_account("sara", "supervisor", language="sv")

    author = await tabs()
    page = author.page
    await login(author, console, edith, landing="**/")
    await page.goto(console.url + "/content")
    await expect(page.locator("h1")).to_have_text("Det boten säger")
    await expect(page.locator("#answer-takedown_help td").nth(1)).to_have_text("1")
    await audited(page, "content")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "content-browse.png"))
    await page.click('#answer-crisis button[type="submit"]')
    await page.wait_for_url("**/content/drafts/*")
    draft_url = page.url
    await expect(page.locator("body")).to_contain_text("säkerhetskritiskt")

    # The gate runs as she types; the finding appears beside bubble 2 and goes when she fixes it.
    bubble = page.locator('textarea[name="bubble1"]')
    beside = page.locator('ul[data-findings="1"]')
    await bubble.fill(BLAME)
    await expect(beside.locator("li.violation")).to_contain_text(
        "Tro på mig, skuldbelägg mig inte (riktlinje 1)", timeout=10_000
    )
    await expect(beside.locator("li.violation")).to_contain_text("det lägger skulden på barnet")
    await expect(page.locator('ul[data-findings="0"] li.violation')).to_have_count(0)
    await page.screenshot(path=str(SCREENSHOTS / "content-draft-violation.png"), full_page=True)
    await bubble.fill(NEW)
    await expect(beside.locator("li.violation")).to_have_count(0, timeout=10_000)
    await page.click('form.draft-form button[type="submit"]')
    await page.wait_for_url(draft_url)
    await expect(page.locator("table.diff ins").first).to_have_text(NEW)
    await expect(page.locator("#gate")).to_have_text("Riktlinjekontrollen godkänner utkastet.")
    await audited(page, "draft")
    await page.click('#review button:text-is("Skicka på granskning")')
    await expect(page.locator("#draft-status")).to_have_text("väntar på granskning")
    # The author cannot approve her own draft.
    await page.click('#review button:text-is("Godkänn")')
    await expect(page.locator("main")).to_contain_text(
        "Du skrev utkastet: en annan person måste granska det."
    )

    reviewer = await tabs()
    await login(reviewer, console, erik, landing="**/")
    await reviewer.page.goto(draft_url)
    await reviewer.page.click('#review button:text-is("Godkänn")')
    await expect(reviewer.page.locator("main")).to_contain_text("erik godkände innehållet.")
    await expect(reviewer.page.locator("#draft-status")).to_have_text("väntar på granskning")

    supervisor = await tabs()
    await login(supervisor, console, sara, landing="**/queue*")
    await supervisor.page.goto(draft_url)
    await supervisor.page.click('#review button:text-is("Godkänn")')
    await expect(supervisor.page.locator("#draft-status")).to_have_text("godkänt")
    await supervisor.page.screenshot(path=str(SCREENSHOTS / "content-draft-approved.png"), full_page=True)
    await supervisor.page.click('#review button:has-text("Publicera")')
    await supervisor.page.wait_for_url("**/content/history*")
    await expect(supervisor.page.locator("#v2")).to_contain_text("erik, sara")
    await audited(supervisor.page, "history")

    # The child, mid-conversation, reads the new text on the next answer; the log names version 2.
    await _served(gateway, 2)
    assert (await _crisis_texts(child))[1] == NEW
    shown = [e for e in await _log(redis, child) if e.answer == "crisis"]
    assert shown[-2].text == NEW and shown[-2].version == 2 and shown[0].version == 1

    # A supervisor rolls back at once: the old text again, as version 3.
    await supervisor.page.click('#v1 button:has-text("Återställ")')
    await expect(supervisor.page.locator("#v3")).to_contain_text("rollback to version 1")
    await supervisor.page.screenshot(path=str(SCREENSHOTS / "content-history.png"), full_page=True)
    await _served(gateway, 3)
    assert (await _crisis_texts(child))[1] == OLD
    assert [e for e in await _log(redis, child) if e.answer == "crisis"][-2].version == 3
