"""The encrypted upload through the real widget: a child opens the offer, picks an image and a video,
watches the progress, gets a case code, and asks for the status in the chat; the disk holds only ciphertext.

Real chromium under the chat's real CSP, the real gateway on loopback, the private Redis. A dropped
connection during the upload is part of the run: the panel must carry on by itself.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Route
from redis.asyncio import Redis

from chatbot.content.library import ContentLibrary
from chatbot.domain.sessions import session_hash
from chatbot.gateway.upload_views import CASES
from chatbot.settings import Settings
from chatbot.store import keys
from chatbot.upload import codes
from tests.chatbot.widget.conftest import Session, open_upload, png, screenshot_path, tap
from tests.upload.helpers import all_bytes_under

VIDEO_MARKER = b"VIDEO-PLAINTEXT-FRAME-"
STORAGE_KEY = "stodchat.session"

# Counts object URLs the page makes (there must be none for the child's files) before any script runs.
COUNT_OBJECT_URLS = """(() => { const made = URL.createObjectURL.bind(URL); window.__objectUrls = 0;
  URL.createObjectURL = (x) => { window.__objectUrls += 1; return made(x); }; })();"""
# Records what the upload panel says, as a screen reader and an eye would get it.
WATCH_PANEL = """() => { window.__said = []; window.__shown = new Set();
  new MutationObserver(() => {
    const said = document.querySelector('#upload-announce').textContent;
    if (said && window.__said[window.__said.length - 1] !== said) window.__said.push(said);
    document.querySelectorAll('.upload-file-status').forEach((n) => window.__shown.add(n.textContent));
  }).observe(document.querySelector('#upload'), {subtree: true, childList: true, characterData: true}); }"""


@pytest.fixture(scope="module")
def content() -> ContentLibrary:
    s = Settings()
    return ContentLibrary.load(s.content_dir, s.locales_dir, s.default_locale)


async def test_child_uploads_an_image_and_a_video_and_follows_the_case_in_the_chat(
    browse: Any, widget_gateway: Any, redis: Redis, content: ContentLibrary
) -> None:
    storage: Path = widget_gateway.settings.upload_dir
    tab: Session = await browse(viewport={"width": 1100, "height": 900})
    await tab.context.add_init_script(COUNT_OBJECT_URLS)
    image = png()
    video = VIDEO_MARKER * 12_000  # ~260 kB: more than one encrypted piece of 64 KiB
    drops = {"done": False}

    async def drop_once(route: Route) -> None:
        # The video's first piece reaches the server but its answer never reaches the child.
        if not drops["done"] and route.request.method == "PUT" and "files/1?offset=0" in route.request.url:
            drops["done"] = True
            await route.fetch()
            await route.abort("connectionreset")
            return
        await route.continue_()

    await tab.context.route("**/upload/v1/files/*", drop_once)
    tab.expected.append("ERR_CONNECTION_RESET")  # the dropped piece, caused on purpose
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    await open_upload(frame)
    assert await frame.evaluate("() => document.activeElement.id") == "upload-title"
    assert await frame.locator("#conversation").is_hidden()
    limits = await frame.text_content("#upload-limits")
    assert limits == "Högst 3 filer, högst 1 MB per fil."

    # Send before choosing: kind, specific problems, one at a time.
    await frame.click("#upload-send")
    assert await frame.text_content("#upload-problem") == "Välj hur gammal du var."
    await frame.check("input[name='upload-age'][value='13_15']")
    await frame.click("#upload-send")
    assert (
        await frame.text_content("#upload-problem")
        == "Kryssa i rutan om du vill att vi försöker få bort den."
    )
    await frame.check("#upload-consent")
    await frame.click("#upload-send")
    assert await frame.text_content("#upload-problem") == "Välj minst en bild eller film."

    # Too many and too big are caught before a byte is read.
    await frame.set_input_files(
        "#upload-files",
        [{"name": f"b{i}.png", "mimeType": "image/png", "buffer": image} for i in range(4)],
    )
    assert await frame.text_content("#upload-problem") == "Du kan skicka högst 3 filer på en gång."
    await frame.set_input_files(
        "#upload-files", [{"name": "stor.mp4", "mimeType": "video/mp4", "buffer": b"\0" * 500_000}]
    )
    assert await frame.text_content("#upload-problem") == "En fil är för stor. Högst 1 MB per fil."

    await frame.set_input_files(
        "#upload-files",
        [
            {"name": "skärmbild.png", "mimeType": "image/png", "buffer": image},
            {"name": "film.mp4", "mimeType": "video/mp4", "buffer": video},
        ],
    )
    assert await frame.locator("#upload-problem").is_hidden()
    await frame.evaluate("() => { document.querySelector('#upload').scrollTop = 0; }")
    await tab.page.screenshot(path=screenshot_path("widget-upload.png"))
    await frame.evaluate(WATCH_PANEL)
    await frame.click("#upload-send")
    await frame.wait_for_selector("#upload-done", state="visible", timeout=60_000)
    code = (await frame.text_content("#upload-code") or "").strip()
    assert codes.normalize(code) == code
    await tab.page.screenshot(path=screenshot_path("widget-upload-code.png"))

    said = await frame.evaluate("() => window.__said")
    shown = set(await frame.evaluate("() => [...window.__shown]"))
    assert said[0] == "Skickar 2 filer."
    assert "skärmbild.png: Förbereds …" in said and "film.mp4: Låses och skickas" in said
    assert "film.mp4: Anslutningen bröts. Vi försöker igen …" in said  # the drop, and it carried on
    assert said[-1] in ("skärmbild.png: Skickad", "film.mp4: Skickad")
    assert {"Förbereds …", "Låses och skickas … 0 %", "Skickad"} <= shown
    assert drops["done"]

    # On disk: only ciphertext. Neither file's bytes, nor a recognisable part of them, is anywhere.
    stored = all_bytes_under(storage)
    assert VIDEO_MARKER not in stored and image not in stored and image[16:80] not in stored
    assert list((storage / "partial").iterdir()) == []
    (case,) = await widget_gateway.app[CASES].list_cases()
    assert (case.age_band, case.topic, len(case.files)) == ("13_15", "takedown_help", 2)
    assert len(case.files[0].pdq) == 64 and case.files[1].pdq == ""

    # Written down: the panel closes, the code leaves the screen, and the device kept nothing.
    await frame.click("#upload-close")
    await frame.wait_for_selector("#upload", state="hidden")
    assert await frame.text_content("#upload-code") == ""
    assert await frame.evaluate("() => document.activeElement.id") == "input"
    device = await frame.evaluate(
        """async () => ({objectUrls: window.__objectUrls, session: Object.keys(sessionStorage),
            idb: (await indexedDB.databases()).length, caches: (await caches.keys()).length,
            files: document.querySelector('#upload-files').files.length})"""
    )
    assert device == {"objectUrls": 0, "session": [STORAGE_KEY], "idb": 0, "caches": 0, "files": 0}

    # The child asks how it is going, with the code, in the chat.
    await frame.fill("#input", f"status {code}")
    await frame.press("#input", "Enter")
    received = content.get("case_status_received").replies("sv", updated="")[0].text
    await frame.wait_for_selector(f"#log .msg--bot .bubble:text-is('{received}')")
    session_id = (await tab.session_storage(frame))[STORAGE_KEY]
    conv_id = (await redis.get(keys.session(session_hash(session_id)))).decode()
    log = b" ".join(await redis.lrange(keys.log(conv_id), 0, -1)).decode()
    assert code not in log and f"status {codes.MASK}" in log


async def test_cancel_before_and_during_the_upload_leaves_nothing_and_the_chat_usable(
    browse: Any, widget_gateway: Any
) -> None:
    tab: Session = await browse(viewport={"width": 1100, "height": 900})
    held: list[Route] = []

    async def hold(route: Route) -> None:
        # The video's piece never gets an answer: the child sees the upload under way, and stops it.
        if route.request.method == "PUT" and "files/1?" in route.request.url and not held:
            held.append(route)
            return
        await route.continue_()

    await tab.context.route("**/upload/v1/files/*", hold)
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    await open_upload(frame)
    await frame.set_input_files(
        "#upload-files", [{"name": "bild.png", "mimeType": "image/png", "buffer": png()}]
    )
    await frame.click("#upload-cancel")
    await frame.wait_for_selector("#upload", state="hidden")
    assert await frame.locator("#conversation").is_visible()
    assert await frame.evaluate("() => document.querySelector('#upload-files').files.length") == 0

    # The offer is still there to open again; a file of another kind is refused before anything is read.
    await tap(frame, "Skicka den till oss")
    await frame.check("input[name='upload-age'][value='under_13']")
    await frame.check("#upload-consent")
    await frame.set_input_files(
        "#upload-files", [{"name": "brev.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}]
    )
    assert await frame.text_content("#upload-problem") == "Välj bara bilder eller filmer."
    await frame.set_input_files(
        "#upload-files",
        [
            {"name": "bild.png", "mimeType": "image/png", "buffer": png()},
            {"name": "film.mp4", "mimeType": "video/mp4", "buffer": VIDEO_MARKER * 5000},
        ],
    )
    await frame.click("#upload-send")
    await frame.wait_for_selector(
        ".upload-file:has(.upload-file-name:text-is('film.mp4')) .upload-file-status:text-is('Låses och skickas … 0 %')"
    )
    partial = widget_gateway.settings.upload_dir / "partial"
    assert len(list(partial.iterdir())) == 1  # the image's ciphertext arrived
    await frame.click("#upload-stop")
    await frame.wait_for_selector("#upload", state="hidden")
    notice = "Uppladdningen avbröts. Det som hann skickas raderas."
    await frame.wait_for_selector(f"#log .msg--notice .bubble:text-is('{notice}')")
    # upload.js asked the server to discard the upload: nothing of it is left, and no case was made.
    for _ in range(50):
        if not list(partial.iterdir()):
            break
        await asyncio.sleep(0.1)
    assert list(partial.iterdir()) == []
    assert await widget_gateway.app[CASES].list_cases() == []
    await frame.fill("#input", "hej")
    await frame.press("#input", "Enter")
    await frame.wait_for_function("() => document.querySelectorAll('#log .is-pending').length === 0")


async def test_the_panel_follows_a_switch_of_language(browse: Any, widget_gateway: Any) -> None:
    tab: Session = await browse(viewport={"width": 1100, "height": 900})
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    await open_upload(frame)
    await frame.select_option("#language", "en")
    await frame.wait_for_selector("#upload-title:text-is('Send a picture or video safely')")
    assert await frame.text_content("#upload-limits") == "At most 3 files, at most 1 MB per file."
    keep = await frame.text_content("#upload-keep")
    assert keep is not None and keep.startswith("The file is deleted when the case is done, after 90 days")


async def test_a_full_upload_quota_gets_the_catalogs_kind_words(
    browse: Any, gateway_factory: Any, settings: Settings, host_site: Any, redis: Redis, tmp_path: Path
) -> None:
    from chatbot.gateway.upload_views import UPLOADS
    from chatbot.upload import crypto
    from tests.chatbot.widget.conftest import EXIT_URL
    from tests.conftest import with_settings
    from tests.upload.helpers import KEYS, file_entry, open_conversation, upload_settings

    blob = crypto.encrypt(b"x" * 1000, [k.public for k in KEYS])
    gateway = await gateway_factory(
        with_settings(
            upload_settings(settings, tmp_path / "uploads", upload_pending_quota=len(blob)),
            exit_url=EXIT_URL,
            frame_ancestors=("'self'", host_site.url),
        )
    )
    host_site.gateway = gateway.url.replace("127.0.0.1", "localhost")
    # Someone else's unfinished upload, alive (just started), holds the whole quota.
    await open_conversation(redis, "conv-other")
    grant = await gateway.app[UPLOADS].issue_grant("conv-other")
    await gateway.app[UPLOADS].start(
        grant.token, age_band="16_17", consent=True, files=[file_entry(blob, b"x" * 1000)]
    )

    tab: Session = await browse(viewport={"width": 1100, "height": 900})
    tab.gateway_url = gateway.url  # this test's own gateway (with the small quota) is first party
    await tab.page.goto(gateway.url + "/")
    frame = await tab.open_chat()
    await tap(frame, "Få bort en bild eller film")
    await frame.wait_for_selector("#replies button:text-is('Skicka den till oss')")
    await tap(frame, "Skicka den till oss")
    words = "Just nu skickar många samtidigt, så det finns inte plats. Försök igen om en stund."
    await frame.wait_for_selector(f"#upload-problem:has-text('{words}')")
