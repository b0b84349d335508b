"""Scheduled, time-boxed publishing in Chromium, in Swedish: an editor's approved notice is scheduled from
the draft page in Stockholm time; moving the console's clock publishes it at the tick and a child connected
to a running gateway reads it; at the end of the box it reverts and the child reads the old text again.
axe-core finds nothing serious or critical on the draft page with its schedule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from playwright.async_api import expect
from redis.asyncio import Redis

from chatbot.domain.hours import STOCKHOLM
from tests.conftest import SCREENSHOTS
from tests.console.conftest import Console
from tests.console.test_a11y_browser import audited
from tests.console.test_browser import login
from tests.console.test_content_browser import _log, _served

NOTICE = "Vi har stängt över jul. Vi öppnar igen den 27 december."


async def _anonymity_texts(child: Any) -> list[str]:
    await child.drain()
    await child.say("/anonymity")
    texts = []
    for _ in range(3):
        texts.append((await child.expect("bot_uttered", timeout=10))["text"])
    return texts


async def test_an_editor_schedules_a_time_boxed_notice_a_child_reads_it_then_the_old_text(
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
    old = await _anonymity_texts(child)
    assert NOTICE not in old

    edith = await make_account("edith", "editor", language="sv")
    erik = await make_account("erik", "editor", language="sv")
    author = await tabs()
    page = author.page
    await login(author, console, edith, landing="**/")
    await page.goto(console.url + "/content")
    await page.click('#answer-anonymity button[type="submit"]')
    await page.wait_for_url("**/content/drafts/*")
    draft_url = page.url
    await page.locator('textarea[name="bubble2"]').fill(NOTICE)
    await page.click('form.draft-form button[type="submit"]')
    await page.wait_for_url(draft_url)
    await page.click('#review button:text-is("Skicka på granskning")')
    await expect(page.locator("#draft-status")).to_have_text("väntar på granskning")

    reviewer = await tabs()
    await login(reviewer, console, erik, landing="**/")
    await reviewer.page.goto(draft_url)
    await reviewer.page.click('#review button:text-is("Godkänn")')
    await expect(reviewer.page.locator("#draft-status")).to_have_text("godkänt")

    # Stockholm wall time in the form: from five minutes from now to ten.
    now = console.clock.now().astimezone(STOCKHOLM).replace(second=0, microsecond=0)
    start, end = now + timedelta(minutes=5), now + timedelta(minutes=10)
    await reviewer.page.fill('#schedule input[name="at"]', start.strftime("%Y-%m-%dT%H:%M"))
    await reviewer.page.fill('#schedule input[name="until"]', end.strftime("%Y-%m-%dT%H:%M"))
    await reviewer.page.click('#schedule button:text-is("Schemalägg")')
    await expect(reviewer.page.locator("#schedule-state")).to_have_text("väntar på att publiceras")
    await expect(reviewer.page.locator("#schedule")).to_contain_text(start.strftime("%Y-%m-%d %H:%M"))
    await audited(reviewer.page, "draft-scheduled")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await reviewer.page.screenshot(path=str(SCREENSHOTS / "content-schedule.png"), full_page=True)

    # The clock reaches the start: the console's own tick publishes it; the child reads the notice.
    console.clock.advance((start - console.clock.now()).total_seconds())
    await _served(gateway, 2)
    assert (await _anonymity_texts(child))[2] == NOTICE
    assert [e for e in await _log(redis, child) if e.answer == "anonymity"][-1].version == 2
    await reviewer.page.reload()
    await expect(reviewer.page.locator("#schedule-state")).to_have_text("publicerat, återgår vid slutet")

    # The end of the box: reverted as a new version; the child reads the old text again.
    console.clock.advance((end - console.clock.now()).total_seconds())
    await _served(gateway, 3)
    assert await _anonymity_texts(child) == old
    await reviewer.page.reload()
    await expect(reviewer.page.locator("#schedule-state")).to_have_text("klart")
    await expect(reviewer.page.locator("#schedule")).to_contain_text("Återställt som version 3.")
    await reviewer.page.goto(console.url + "/content/history")
    await expect(reviewer.page.locator("#v3")).to_contain_text("revert")
    await audited(reviewer.page, "history-scheduled")
