"""Canned replies (kind `canned`, written by editors) listed by what they say in the child's language; without a
current translation the console says so before sending."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Dialog, expect
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.content.catalog_tools import write_catalog
from chatbot.content.catalogs import read_catalog
from chatbot.content.library import ContentLibrary
from chatbot.content.loading import load_library
from chatbot.domain.sessions import session_hash
from chatbot.model import to_ms
from chatbot.redis_server import RedisServer
from chatbot.settings import PROJECT_ROOT, Settings
from chatbot.store import keys as chat_keys
from chatbot.store.queue import QueueStore
from console.appkeys import CONTENT
from console.domain.canned import LABEL_CHARS, Canned, canned_replies, shorten
from tests.browser import Tabs
from tests.console.conftest import Console
from tests.console.test_a11y_browser import audited
from tests.console.test_browser import go_available, login

# "canned_still_here" has a stale Arabic translation in these tests (made fuzzy); "canned_hello" a current one.
STALE = "canned_still_here"
CURRENT = "canned_hello"


def _text(library: ContentLibrary, answer_id: str, locale: str) -> str:
    return " ".join(r.text for r in library.replies(answer_id, locale))


def stale_copy(root: Path) -> Path:
    locales = root / "locales"
    shutil.copytree(PROJECT_ROOT / "locales", locales)
    path = locales / "ar" / "LC_MESSAGES" / "content.po"
    catalog = read_catalog(path)
    for message in catalog:
        if message.context == f"{STALE}:bubble:0":
            message.flags.add("fuzzy")
    write_catalog(path, catalog)
    return locales


@pytest.fixture
def settings(redis_server: RedisServer, tmp_path: Path) -> Settings:
    return Settings(
        redis_url=redis_server.url, session_secret=Settings().session_secret, locales_dir=stale_copy(tmp_path)
    )


def test_canned_replies_are_in_the_childs_language_or_marked(tmp_path: Path) -> None:
    library = ContentLibrary.load(PROJECT_ROOT / "content", stale_copy(tmp_path))
    arabic = canned_replies(library, "ar")
    # Only the canned replies editors wrote, never the bot's answers.
    assert {c.answer_id for c in arabic} == {a.id for a in library.answers.values() if a.kind == "canned"}
    assert len(arabic) >= 5 and "greet" not in {c.answer_id for c in arabic}
    by_id = {c.answer_id: c for c in arabic}
    assert by_id[CURRENT].current and by_id[CURRENT].text == _text(library, CURRENT, "ar")
    assert not by_id[STALE].current and by_id[STALE].locale == "sv"
    assert by_id[STALE].text == " ".join(library.get(STALE).bubbles)
    # Current ones first, then by what they say.
    assert arabic[-1].answer_id == STALE
    english = {c.answer_id: c for c in canned_replies(library, "en_GB")}
    assert english[STALE].current and english[STALE].locale == "en"
    assert all(c.current for c in canned_replies(library, "sv"))


def test_a_canned_reply_is_labelled_by_what_it_says_shortened_at_a_word() -> None:
    short = Canned("canned_x", "Jag finns kvar här.", "sv", "sv")
    assert short.label == "Jag finns kvar här."
    long = "Vi kan hjälpa dig att be sidan ta bort bilden eller filmen. Vill du att vi gör det tillsammans?"
    label = Canned("canned_y", long, "sv", "sv").label
    assert label.endswith("…") and len(label) <= LABEL_CHARS and "canned_y" not in label
    assert long.startswith(label[:-1]) and long[len(label) - 1] == " "
    assert shorten("a" * 100).endswith("…") and len(shorten("a" * 100)) == LABEL_CHARS


async def test_the_console_falls_back_like_the_bot(
    console_factory: Any, redis_server: RedisServer, clock: FixedClock
) -> None:
    """The console loads the library as the gateway does (chatbot.content.loading): with DEFAULT_LOCALE
    English, a child in a language without translations gets English canned replies, marked as not theirs."""
    settings = Settings(
        redis_url=redis_server.url, session_secret=Settings().session_secret, default_locale="en"
    )
    console = await console_factory(settings, clock)
    library = console.app[CONTENT]
    by_id = {c.answer_id: c for c in canned_replies(library, "pl")}
    english = " ".join(r.text for r in load_library(settings).replies(STALE, "en"))
    assert by_id[STALE].locale == "en" and not by_id[STALE].current
    assert by_id[STALE].text == english != " ".join(library.get(STALE).bubbles)
    # A child with no language set reads the fallback, which is then theirs.
    unset = {c.answer_id: c for c in canned_replies(library, "")}
    assert unset[STALE].text == english and unset[STALE].current


@pytest.fixture
async def tabs(browser: Browser) -> AsyncIterator[Tabs]:
    # axe is injected by the test only, so these contexts bypass the console's CSP (see test_widget_a11y).
    opened = Tabs(browser, viewport={"width": 1200, "height": 800}, locale="en-GB", bypass_csp=True)
    yield opened
    await opened.close()


async def _claimed(
    console: Console,
    gateway: Any,
    settings: Settings,
    child_factory: Any,
    make_account: Any,
    tabs: Any,
    redis: Redis,
    locale: str,
) -> tuple[Any, Any, Any]:
    """A child in `locale` queued, and a counsellor who took the conversation: (child, tab, page)."""
    child = child_factory(gateway.url)
    await child.connect()
    await child.start(locale=locale)
    conv_id = (await redis.get(chat_keys.session(session_hash(child.session_id)))).decode()
    await QueueStore(redis).enqueue(
        conv_id, now_ms=to_ms(console.clock.now()), urgent=False, retention=settings.conversation_retention
    )
    anna = await make_account("anna", "counsellor")
    tab = await tabs()
    await login(tab, console, anna)
    await go_available(tab, "Sara")
    row = tab.page.locator("#queue-rows tr")
    await expect(row).to_have_count(1, timeout=10_000)
    await row.locator("button:has-text('Take')").click()
    await tab.page.wait_for_url(f"**/conversations/{conv_id}*")
    return child, tab, tab.page


async def _said(child: Any) -> list[dict[str, Any]]:
    for _ in range(100):
        said = [e for e in child.seen if e.get("role") == "counsellor"]
        if said:
            return said
        await child.drain(0.05)
    return []


async def test_a_counsellor_picks_a_canned_reply_by_its_text_and_an_english_child_receives_it(
    console: Console,
    gateway_factory: Any,
    settings: Settings,
    child_factory: Any,
    make_account: Any,
    tabs: Any,
    redis: Redis,
) -> None:
    gateway = await gateway_factory(settings, console.clock)
    library = ContentLibrary.load(settings.content_dir, settings.locales_dir)
    child, _tab, page = await _claimed(
        console, gateway, settings, child_factory, make_account, tabs, redis, "en"
    )
    labels = [(t or "").strip() for t in await page.locator("#canned option").all_text_contents()]
    # Listed by what they say, in English; never by id, and never the bot's answers.
    assert not any("canned_" in label for label in labels)
    english = _text(library, "canned_takedown", "en")
    assert english.startswith("We can help") and shorten(english) in labels
    assert shorten(_text(library, "greet", "en")) not in labels
    await page.select_option("#canned", label=shorten(english))
    await expect(page.locator("#reply-text")).to_have_value(english)
    await expect(page.locator("#canned-warning")).to_be_hidden()
    await page.click("#reply-form button[type=submit]")
    await expect(page.locator("#reply-text")).to_have_value("")
    said = await _said(child)
    assert said and said[0]["text"] == english
    await audited(page, "conversation with canned replies")


async def test_the_console_warns_before_sending_an_untranslated_canned_reply(
    console: Console,
    gateway_factory: Any,
    settings: Settings,
    child_factory: Any,
    make_account: Any,
    tabs: Any,
    redis: Redis,
) -> None:
    gateway = await gateway_factory(settings, console.clock)
    library = ContentLibrary.load(settings.content_dir, settings.locales_dir)
    child, tab, page = await _claimed(
        console, gateway, settings, child_factory, make_account, tabs, redis, "ar"
    )

    # A current Arabic translation goes in as Arabic, without a warning; it is picked by what it says.
    greet = _text(library, CURRENT, "ar")
    await page.select_option("#canned", label=shorten(greet))
    await expect(page.locator("#reply-text")).to_have_value(greet)
    await expect(page.locator("#canned-warning")).to_be_visible(visible=False)
    await page.fill("#reply-text", "")

    # No current translation: the option says so, and so does the page once it is in the box.
    swedish = " ".join(library.get(STALE).bubbles)
    option = page.locator("#canned option", has_text=shorten(swedish))
    assert "no current ar translation" in (await option.text_content() or "")
    await page.select_option("#canned", index=await option.evaluate("o => o.index"))
    await expect(page.locator("#canned-warning")).to_be_visible()
    await expect(page.locator("#canned-warning")).to_contain_text("no current ar translation")
    await expect(page.locator("#reply-text")).to_have_value(swedish)

    # Sending asks first; "no" sends nothing.
    asked: list[str] = []

    async def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.dismiss()

    page.once("dialog", dismiss)
    await page.click("#reply-form button[type=submit]")
    for _ in range(100):
        if asked:
            break
        await asyncio.sleep(0.05)
    assert "no current ar translation" in asked[0]
    # This dialog is the feature, not an XSS firing (tests/browser.py fails a test on any other dialog).
    tab.problems.remove(f"dialog: {asked[0]}")
    await expect(page.locator("#reply-text")).to_have_value(swedish)
    assert not [e for e in child.seen if e.get("role") == "counsellor"]

    # The greeting in Arabic is sent at once; it reaches the child as written.
    await page.fill("#reply-text", greet)
    await page.click("#reply-form button[type=submit]")
    await expect(page.locator("#reply-text")).to_have_value("")
    said = await _said(child)
    assert said and said[0]["text"] == greet
