"""The translators' pages over HTTP: stale diff, refused placeholder, second-person review, glossary,
.po export and previewed import, a new language switched on by a supervisor, and the audit of it all."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from chatbot.cli import main
from chatbot.gateway.appkeys import CONTENT_FOLLOWER
from chatbot.redis_server import RedisServer
from chatbot.settings import PROJECT_ROOT, Settings
from tests.console.conftest import Console, StaffClient

OLD = "Tack själv! Vad bra att du hörde av dig."
NEW = "Tack! Skönt att du skrev till oss."


def edited_tree(tmp_path: Path) -> tuple[Path, Path]:
    """The real answers and catalogs, with one Swedish answer just changed by an editor (and updated)."""
    content, locales = tmp_path / "content", tmp_path / "locales"
    shutil.copytree(PROJECT_ROOT / "content", content)  # answers, guidelines, the intent model's data
    shutil.copytree(PROJECT_ROOT / "locales", locales)
    path = content / "answers" / "thanks.yml"
    path.write_text(path.read_text(encoding="utf-8").replace(OLD, NEW), encoding="utf-8")
    assert main(["content", "update", "--content-dir", str(content), "--locales-dir", str(locales)]) == 0
    return content, locales


@pytest.fixture
def settings(redis_server: RedisServer, tmp_path: Path) -> Settings:
    content, locales = edited_tree(tmp_path)
    return Settings(
        redis_url=redis_server.url,
        session_secret=Settings().session_secret,
        content_dir=content,
        locales_dir=locales,
    )


async def signed_in(make_account: Any, staff_factory: Any, name: str, role: str) -> StaffClient:
    client: StaffClient = staff_factory()
    assert await client.login(await make_account(name, role)) == 303
    return client


def field(page: str, row_key: str, name: str) -> str:
    row = page[page.index(f'data-key="{row_key}"') :]
    found = re.search(rf'name="{name}" value="([^"]*)"', row)
    assert found
    return found.group(1)


async def english_child_reads(child: Any, expected: str) -> None:
    """An English-speaking child asks for the thanks answer; its first bubble is `expected`."""
    await child.drain(0.3)
    await child.say("/thanks", client_id=f"t{expected[:4]}")
    said = await child.expect("bot_uttered")
    assert said["text"] == expected


async def adopted(gateway: Any, version: int, timeout: float = 3.0) -> float:
    """Seconds until the running gateway serves content version `version` (or more)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while (gateway.app[CONTENT_FOLLOWER].live.version or 0) < version:
        assert loop.time() - started < timeout, "the gateway did not adopt the new version"
        await asyncio.sleep(0.02)
    return loop.time() - started


async def test_stale_answer_diff_refused_placeholder_then_second_person_review(
    console: Console,
    make_account: Any,
    staff_factory: Any,
    gateway_factory: Any,
    child_factory: Any,
    settings: Settings,
) -> None:
    gateway = await gateway_factory(settings)
    child = child_factory(gateway.url)
    await child.connect()
    await child.start(locale="en")
    await child.expect("history")
    # The English translation is stale: the English-speaking child reads the new Swedish, never old English.
    await english_child_reads(child, NEW)
    tina = await signed_in(make_account, staff_factory, "tina", "translator")
    status, page = await tina.get("/translate")
    assert status == 200 and 'id="lang-en"' in page and "thanks" in page  # read in Swedish now
    status, page = await tina.get("/translate/en/answers/thanks")
    assert status == 200
    assert "<del> själv</del>" in page and "<ins>Skönt</ins>" in page  # the diff of old and new Swedish
    assert 'data-key="thanks:bubble:0" data-domain="content" data-state="stale"' in page
    seen = field(page, "thanks:bubble:0", "seen")
    back = "/translate/en/answers/thanks"

    # A wrong placeholder elsewhere is refused, with the finding worded, and nothing saved.
    status, page = await tina.get("/translate/en/answers/handoff_queued")
    queued_seen = field(page, "handoff_queued:bubble:0", "seen")
    status, page = await tina.post(
        "/translate/en/save",
        {
            "domain": "content",
            "key": "handoff_queued:bubble:0",
            "text": "You are number {place}.",
            "seen": queued_seen,
            "back": "/translate/en/answers/handoff_queued",
        },
    )
    assert status == 422 and 'data-code="placeholders"' in page and "{position}" in page
    assert "You are number {place}." in page  # what was typed is kept

    location = await tina.redirected(
        "/translate/en/save",
        {
            "domain": "content",
            "key": "thanks:bubble:0",
            "text": "Thanks! Good that you wrote to us.",
            "seen": seen,
            "back": back,
        },
    )
    assert location.startswith(back + "?msg=saved")
    status, page = await tina.get(back)
    assert 'data-key="thanks:bubble:0" data-domain="content" data-state="unreviewed"' in page
    # Live in the running gateway within seconds (a new content version), without a restart.
    assert await adopted(gateway, 2) < 3
    await english_child_reads(child, "Thanks! Good that you wrote to us.")
    # The same translator cannot review her own.
    assert "msg=own" in await tina.redirected(
        "/translate/en/review", {"domain": "content", "key": "thanks:bubble:0", "back": back}
    )

    rami = await signed_in(make_account, staff_factory, "rami", "translator")
    status, page = await rami.get("/translate/en/review")
    assert 'data-key="thanks:bubble:0"' in page
    assert "msg=reviewed" in await rami.redirected(
        "/translate/en/review",
        {"domain": "content", "key": "thanks:bubble:0", "back": "/translate/en/review"},
    )
    status, page = await rami.get(back)
    assert 'data-key="thanks:bubble:0" data-domain="content" data-state="reviewed"' in page
    actions = [(e.actor, e.action) for e in await console.audit.entries()]
    assert ("tina", "translation.saved.en.content.thanks:bubble:0") in actions
    assert ("rami", "translation.reviewed.en.content.thanks:bubble:0") in actions


async def test_a_colleagues_save_in_between_is_not_overwritten(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    tina = await signed_in(make_account, staff_factory, "tina", "translator")
    _, page = await tina.get("/translate/en/answers/thanks")
    seen = field(page, "thanks:bubble:0", "seen")
    form = {
        "domain": "content",
        "key": "thanks:bubble:0",
        "seen": seen,
        "back": "/translate/en/answers/thanks",
    }
    assert "msg=saved" in await tina.redirected("/translate/en/save", {**form, "text": "Thanks!"})
    assert "msg=conflict" in await tina.redirected("/translate/en/save", {**form, "text": "Thank you!"})


async def test_checks_as_one_types_and_the_glossary(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    tina = await signed_in(make_account, staff_factory, "tina", "translator")
    await tina.get("/translate/ar/glossary")
    assert "msg=term_saved" in await tina.redirected(
        "/translate/ar/glossary", {"source": "kurator", "target": "مستشار", "note": ""}
    )
    _, page = await tina.get("/translate/ar/glossary")
    assert 'data-term="kurator"' in page and "مستشار" in page and 'data-term="Stödlinjen"' in page
    async with tina.http.post(
        "/translate/ar/check",
        data={"domain": "content", "key": "crisis:bubble:2", "text": "هل تريد التحدث مع شخص هنا أيضاً؟"},
        headers={"X-CSRF-Token": tina.csrf},
    ) as response:
        found = (await response.json())["findings"]
    assert [f["code"] for f in found] == ["glossary"] and "مستشار" in found[0]["text"]


async def test_export_reimports_with_no_change_and_an_import_is_previewed_before_it_applies(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    tina = await signed_in(make_account, staff_factory, "tina", "translator")
    await tina.get("/translate/en/exchange")
    async with tina.http.get("/translate/en/export/content.po") as response:
        assert response.status == 200
        data = await response.read()
    status, page = await tina.post(
        "/translate/en/import", {"domain": "content", "data": __import__("base64").b64encode(data).decode()}
    )
    assert status == 200 and 'id="preview-summary"' in page and 'id="apply"' not in page
    assert re.search(r"0 (changes|ändringar)", page)
    changed = data.decode().replace(
        'msgstr "You\'re welcome! Good that you got in touch."', 'msgstr "Cheers!"', 1
    )
    # The stale entry stays fuzzy in the file: the import leaves it out; a current one changes.
    changed = changed.replace(
        'msgstr "Hi! Good that you\'re writing."', 'msgstr "Hello! Good that you write."', 1
    )
    b64 = __import__("base64").b64encode(changed.encode()).decode()
    status, page = await tina.post("/translate/en/import", {"domain": "content", "data": b64})
    assert 'data-key="greet:bubble:0"' in page and 'id="apply"' in page
    digest = re.search(r'name="digest" value="([^"]+)"', page)
    assert digest
    location = await tina.redirected(
        "/translate/en/import", {"domain": "content", "data": b64, "digest": digest.group(1), "apply": "1"}
    )
    assert location.endswith("msg=imported")
    _, page = await tina.get("/translate/en/answers/greet")
    assert "Hello! Good that you write." in page


async def test_a_new_language_is_started_and_only_a_supervisor_switches_it_on(
    console: Console, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    tina = await signed_in(make_account, staff_factory, "tina", "translator")
    await tina.get("/translate")
    assert (await tina.redirected("/translate/languages", {"locale": "fa"})).startswith(
        "/translate/fa?msg=started"
    )
    _, page = await tina.get("/translate")
    assert 'id="lang-fa"' in page and "switch-on" not in page  # a translator cannot switch it on
    status, _ = await tina.post("/translate/fa/switch", {"on": "1"})
    assert status == 403
    sara = await signed_in(make_account, staff_factory, "sara", "supervisor")
    await sara.get("/translate")
    assert "msg=not_safe_complete" in await sara.redirected("/translate/fa/switch", {"on": "1"})
    counsellor = await signed_in(make_account, staff_factory, "cole", "counsellor")
    status, _ = await counsellor.get("/translate")
    assert status == 403
