"""The console in Swedish by default and in English by choice: complete catalogs, the choice kept on the
account (every session, and the login page after signing out), and no English left on a Swedish page."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from console.i18n import catalog_path
from console.messages_cli import extract_texts, problems
from tests.console.conftest import Console, StaffClient

LOCALES = Path(__file__).resolve().parents[2] / "locales"


def visible_text(page: str) -> str:
    """What a reader sees: the page without scripts, tags and attributes."""
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def english_left(page: str) -> list[str]:
    """English source texts (of two words or more, and translated differently) still on a Swedish page."""
    with catalog_path(LOCALES, "sv").open("rb") as source:
        swedish = read_po(source, locale="sv")
    text = " ".join(visible_text(page).split())
    left = []
    for message in swedish:
        english = str(message.id)
        if not message.id or " " not in english or message.string == english:
            continue
        plain = re.split(r"%\(\w+\)s|<[^>]+>", english)
        if all(part.strip() in text for part in plain if part.strip()) and len(english) > 8:
            left.append(english)
    return left


def test_every_console_text_has_a_current_swedish_translation() -> None:
    assert len([m for m in extract_texts() if m.id]) > 200  # templates and N_() texts are both found
    assert problems(LOCALES) == []


async def test_swedish_by_default_english_by_choice_kept_on_the_account(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    stranger: StaffClient = staff_factory()
    status, page = await stranger.get("/login")
    assert status == 200 and '<html lang="sv">' in page and "Logga in" in page and "Sign in" not in page

    sam = await make_account("sam", "supervisor", language="sv")
    first: StaffClient = staff_factory()
    assert await first.login(sam) == 303
    for path in ("/queue", "/overview", "/stats"):
        status, page = await first.get(path)
        assert status == 200 and '<html lang="sv">' in page, path
        assert english_left(page) == [], (path, english_left(page))
    _, page = await first.get("/overview")
    assert "Linjen är <strong>öppen</strong>." in page and "Öppettider" in page
    status, script = await first.get("/texts/sv.js")
    assert status == 200 and '"take": "Ta"' in script

    # She chooses English: this page and every session of hers, now and later, are in English.
    second: StaffClient = staff_factory()
    console.clock.advance(31)  # a TOTP code is good once: the next step's code
    assert await second.login(sam) == 303
    where = await first.redirected("/me/language", {"language": "en", "next": "/stats?period=week"})
    assert where == "/stats?period=week"
    for client in (first, second):
        _, page = await client.get("/overview")
        assert '<html lang="en">' in page and "The line is <strong>open</strong>." in page
    account = await console.accounts.account("sam")
    assert account is not None and account.language == "en"
    await first.redirected("/logout", {})
    _, page = await first.get("/login")
    assert "Sign in" in page  # the login page stays in her language after signing out
    third: StaffClient = staff_factory()
    console.clock.advance(31)
    assert await third.login(sam) == 303
    assert '<html lang="en">' in (await third.get("/queue"))[1]


async def test_a_language_choice_is_checked_and_returns_only_within_the_console(
    make_account: Any, staff_factory: Any
) -> None:
    anna = await make_account("anna", "counsellor", language="sv")
    client: StaffClient = staff_factory()
    assert await client.login(anna) == 303
    assert (await client.post("/me/language", {"language": "de"}))[0] == 400
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert await client.redirected("/me/language", {"language": "sv", "next": evil}) == "/"
    assert (await client.get("/texts/de.js"))[0] == 404
    # A page message made in Python is in her language too.
    _, page = await client.get("/queue?msg=saved")
    assert '<p class="notice" role="status">Sparat.</p>' in page
