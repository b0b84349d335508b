"""Analysts work cases in real Chromium: the case list, a fresh code, decryption in the browser with the key
file, blurred media revealed one at a time, actions, the viewer's plain errors; and issue 6 end to end,
from a child's upload in the chat widget to the child reading the status the analyst set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from chatbot.content.library import ContentLibrary
from chatbot.gateway.upload_views import UPLOADS
from chatbot.redis_server import RedisServer
from chatbot.settings import Settings
from chatbot.upload import codes, crypto
from chatbot.upload.store import UploadStore
from chatbot.upload.values import CaseStatus
from console.appkeys import CASES
from tests.browser import Tab, Tabs
from tests.chatbot.upload.helpers import (
    KEYS,
    all_bytes_under,
    file_entry,
    open_conversation,
    services,
    upload_settings,
)
from tests.chatbot.upload.test_viewer_browser import tiny_png
from tests.chatbot.widget.conftest import open_upload, png
from tests.console.conftest import Console, Credentials
from tests.console.test_browser import SCREENSHOTS, child_frame, login

PASSPHRASE = "analyst browser passphrase"
HIDDEN = "blur(28px) grayscale(1)"
VIDEO_MARKER = b"VIDEO-PLAINTEXT-FRAME-"

# The child's side: the real upload client, an image drawn on a canvas (a PNG the browser can decode).
CHILD = """async (grant) => {
  const up = await import("/upload/upload.js");
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 120;
  const g = canvas.getContext("2d");
  g.fillStyle = "#c33"; g.fillRect(0, 0, 120, 120);
  g.fillStyle = "#36c"; g.fillRect(20, 30, 60, 50);
  const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const image = new File([png], "skärmbild.png", {type: "image/png"});
  const {caseCode} = await up.uploadFiles(grant, [image], {ageBand: "13_15", consent: true});
  const bytes = new Uint8Array(await png.arrayBuffer());
  return {caseCode, head: Array.from(bytes.subarray(0, 64))};
}"""


@pytest.fixture
def settings(redis_server: RedisServer, tmp_path: Path) -> Settings:
    base = Settings(redis_url=redis_server.url, session_secret=Settings().session_secret)
    return upload_settings(base, tmp_path / "uploads")


@pytest.fixture
async def tabs(browser: Browser) -> AsyncIterator[Tabs]:
    # Bounds, not speed checks: the shared 2-core machine can be slow; a broken page still fails.
    opened = Tabs(browser, timeout_ms=60_000, viewport={"width": 1280, "height": 900})
    expect.set_options(timeout=30_000)
    yield opened
    expect.set_options(timeout=5_000)  # Playwright's default, for the other modules in this process
    await opened.close()


async def sign_in(tab: Tab, console: Console, creds: Credentials) -> None:
    """Analysts land on the start page, not the queue."""
    await login(tab, console, creds, landing=console.url + "/")


async def viewer_ready(tab: Tab) -> None:
    """After the code confirmation: the viewer's page has loaded, and with it its module (case.js), which
    binds the buttons. `#viewer` shows as soon as the new page is parsed, before the module runs: a click
    then did nothing on a loaded machine."""
    await expect(tab.page.locator("#viewer")).to_be_visible()
    await tab.page.wait_for_load_state("load")


async def filter_of(tab: Tab, selector: str) -> str:
    return str(await tab.page.locator(selector).evaluate("(el) => getComputedStyle(el).filter"))


async def test_analyst_opens_a_case_decrypts_blurred_reveals_and_reports(
    console: Console, gateway_factory: Any, make_account: Any, tabs: Any, redis: Redis, settings: Settings
) -> None:
    gateway = await gateway_factory(settings)
    await open_conversation(redis, "conv-analyst-browser")
    grant = await gateway.app[UPLOADS].issue_grant("conv-analyst-browser", topic="image_spreading")

    child = await tabs()
    await child.page.goto(gateway.url + "/")
    uploaded = await child.page.evaluate(CHILD, grant.token)
    await child.context.close()
    code = uploaded["caseCode"]
    case_id = await UploadStore(redis).case_id_for(codes.code_hash(code))
    assert case_id is not None
    assert bytes(uploaded["head"]) not in all_bytes_under(settings.upload_dir)  # ciphertext only

    ana = await make_account("ana", "analyst")
    tab = await tabs()
    page = tab.page
    await sign_in(tab, console, ana)
    await page.click("header nav a:has-text('Cases')")
    row = page.locator(f'#cases tr[data-case="{case_id}"]')
    await expect(row).to_contain_text("received")
    await expect(row).to_contain_text("image spreading")
    await expect(row.locator("td.count")).to_have_text("1")
    await row.locator("a").click()
    await page.wait_for_url(f"**/cases/{case_id}")

    # A fresh code first; the one used to sign in is spent. The authenticator's next code works.
    assert await page.locator("#viewer").count() == 0
    await page.fill(
        '#reauth input[name="code"]',
        console.accounts.code_at(ana.secret, int(console.clock.now().timestamp())),
    )
    await page.click("#reauth button")
    await expect(page.locator("#message")).to_contain_text("wrong or already used")
    console.clock.advance(30)
    await page.fill(
        '#reauth input[name="code"]',
        console.accounts.code_at(ana.secret, int(console.clock.now().timestamp())),
    )
    await page.click("#reauth button")
    await viewer_ready(tab)

    key_file = {
        "name": "upload-key.json",
        "mimeType": "application/json",
        "buffer": crypto.dump_key_file(KEYS, PASSPHRASE),
    }
    await page.set_input_files("#key-file", key_file)
    await page.fill("#passphrase", "not the passphrase")
    await page.click("#open-key")
    await expect(page.locator("#viewer-error")).to_contain_text(
        "passphrase does not open this key file", timeout=60_000
    )
    assert await page.locator("button.view-file").first.is_disabled()

    await page.fill("#passphrase", PASSPHRASE)
    await page.click("#open-key")
    await expect(page.locator("#viewer-status")).to_contain_text("key is open", timeout=60_000)
    assert await page.locator("#passphrase").input_value() == ""  # not left in the page
    await page.click('button.view-file[data-file="file-000"]')
    image = page.locator('.preview[data-file="file-000"] img')
    await expect(image).to_be_visible(timeout=60_000)
    await page.wait_for_function(
        "() => { const i = document.querySelector('.preview img'); return i && i.complete && i.naturalWidth === 120; }",
        timeout=60_000,
    )
    assert (await image.get_attribute("src") or "").startswith("blob:")
    assert await filter_of(tab, '.preview[data-file="file-000"] img') == HIDDEN
    await expect(page.locator(".preview figcaption")).to_contain_text("skärmbild.png")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "console-case.png"), full_page=True)

    await page.click('.preview[data-file="file-000"] button.reveal')
    await expect(page.locator('.preview[data-file="file-000"] button.reveal')).to_have_text("Hide")
    assert await filter_of(tab, '.preview[data-file="file-000"] img') == "none"
    await page.click('.preview[data-file="file-000"] button.reveal')
    assert await filter_of(tab, '.preview[data-file="file-000"] img') == HIDDEN

    # Close: the preview goes and its object URL is revoked (the page's CSP would block a fetch of a
    # blob: URL either way, so the revocation is watched where it happens).
    src = await image.get_attribute("src")
    await page.evaluate(
        """() => { window.__revoked = []; const revoke = URL.revokeObjectURL.bind(URL);
                   URL.revokeObjectURL = (u) => { window.__revoked.push(u); revoke(u); }; }"""
    )
    await page.click('.preview[data-file="file-000"] button.close')
    await expect(page.locator(".preview")).to_have_count(0)
    assert await page.evaluate("window.__revoked") == [src]

    await page.click("#actions button[value='reported_platform']")
    await expect(page.locator("#message")).to_have_text("The action is recorded.")
    await expect(page.locator("#case-status")).to_have_text("reported")
    await expect(page.locator("#audit")).to_contain_text("file.viewed file-000")

    assert await console.audit_trail(case_id) == [
        ("child", "case.received", ""),
        ("ana", "file.viewed", "file-000"),
        ("ana", "file.revealed", "file-000"),
        ("ana", "action.reported_platform", ""),
    ]
    assert console.app is not None
    assert (await console.app[CASES].child_status(code)).status is CaseStatus.REPORTED


async def test_viewer_errors_are_plain_and_the_window_running_out_hides_everything(
    console: Console, make_account: Any, tabs: Any, redis: Redis, settings: Settings
) -> None:
    svc = services(redis, settings)
    public = [k.public for k in KEYS]
    png = tiny_png(40, 30)
    blobs = [crypto.encrypt(png, public, name=f"bild-{i}.png", type="image/png") for i in range(3)]
    await open_conversation(redis, "conv-viewer-errors")
    grant = await svc.uploads.issue_grant("conv-viewer-errors")
    started = await svc.uploads.start(
        grant.token, age_band="16_17", consent=True, files=[file_entry(b, png) for b in blobs]
    )
    for index, blob in enumerate(blobs):
        await svc.uploads.write(started.token, index, 0, blob)
    case_id = await UploadStore(redis).case_id_for(codes.code_hash(await svc.uploads.finish(started.token)))
    assert case_id is not None
    # Someone with the disk alters one file and cuts another short.
    folder = settings.upload_dir / "cases" / case_id
    altered = bytearray((folder / "file-001.scup").read_bytes())
    altered[-5] ^= 0x01
    (folder / "file-001.scup").write_bytes(bytes(altered))
    (folder / "file-002.scup").write_bytes((folder / "file-002.scup").read_bytes()[:-40])

    ana = await make_account("ana", "analyst")
    tab = await tabs()
    page = tab.page
    await sign_in(tab, console, ana)
    console.clock.advance(30)
    await page.goto(f"{console.url}/cases/{case_id}")
    code = console.accounts.code_at(ana.secret, int(console.clock.now().timestamp()))
    await page.fill('#reauth input[name="code"]', code)
    await page.click("#reauth button")
    await viewer_ready(tab)
    error = page.locator("#viewer-error")

    await page.click("#open-key")
    await expect(error).to_have_text("Choose the private key file first.")
    other = [crypto.PrivateKey.generate(crypto.Kem.X25519)]
    await page.set_input_files("#key-file", key_file(crypto.dump_key_file(other, PASSPHRASE)))
    await page.fill("#passphrase", PASSPHRASE)
    await page.click("#open-key")
    await expect(page.locator("#viewer-status")).to_contain_text("key is open", timeout=60_000)
    await page.click('button.view-file[data-file="file-000"]')
    await expect(error).to_contain_text("not encrypted to the keys in this key file", timeout=60_000)
    await page.set_input_files("#key-file", key_file(b'{"format": "something else"}'))
    await page.click("#open-key")
    await expect(error).to_contain_text("not an upload key file")

    await page.set_input_files("#key-file", key_file(crypto.dump_key_file(KEYS, PASSPHRASE)))
    await page.fill("#passphrase", PASSPHRASE)
    await page.click("#open-key")
    await expect(page.locator("#viewer-status")).to_contain_text("key is open", timeout=60_000)
    await page.click('button.view-file[data-file="file-001"]')
    await expect(error).to_contain_text("altered or damaged", timeout=60_000)
    await page.click('button.view-file[data-file="file-002"]')
    await expect(error).to_contain_text("incomplete (cut short)", timeout=60_000)
    assert await page.locator(".preview").count() == 0  # nothing shown from a file that failed
    await page.click('button.view-file[data-file="file-000"]')
    await expect(page.locator('.preview[data-file="file-000"] img')).to_be_visible(timeout=60_000)
    await page.click("#forget")
    await expect(page.locator(".preview")).to_have_count(0)
    assert await page.locator('button.view-file[data-file="file-000"]').is_disabled()

    # The server refuses once the window has passed, and the page says what to do.
    await page.set_input_files("#key-file", key_file(crypto.dump_key_file(KEYS, PASSPHRASE)))
    await page.fill("#passphrase", PASSPHRASE)
    await page.click("#open-key")
    await expect(page.locator("#viewer-status")).to_contain_text("key is open", timeout=60_000)
    console.clock.advance(settings.console_reauth_window)
    await page.click('button.view-file[data-file="file-000"]')
    await expect(error).to_contain_text("confirmation has run out", timeout=60_000)
    # Chromium reports the refused fetch on its console; that one is expected here, nothing else is.
    tab.problems.remove(
        "console: Failed to load resource: the server responded with a status of 403 (Forbidden)"
    )

    # A page loaded near the end of its window hides everything when the window ends, on its own.
    console.clock.advance(30)
    code = console.accounts.code_at(ana.secret, int(console.clock.now().timestamp()))
    await page.goto(f"{console.url}/cases/{case_id}")
    await page.fill('#reauth input[name="code"]', code)
    await page.click("#reauth button")
    console.clock.advance(settings.console_reauth_window - 2)
    await page.goto(f"{console.url}/cases/{case_id}")
    assert await page.locator("#viewer").get_attribute("data-fresh-seconds") == "2"
    await expect(error).to_contain_text("the files are hidden and the key forgotten", timeout=60_000)
    assert await page.locator('button.view-file[data-file="file-000"]').is_disabled()

    views = [
        (action, file_id) for actor, action, file_id in await console.audit_trail(case_id) if actor == "ana"
    ]
    # Every fetch the server answered is in the log, also those that then failed to decrypt.
    assert views == [
        ("file.viewed", "file-000"),
        ("file.viewed", "file-001"),
        ("file.viewed", "file-002"),
        ("file.viewed", "file-000"),
    ]


def key_file(data: bytes) -> dict[str, Any]:
    return {"name": "upload-key.json", "mimeType": "application/json", "buffer": data}


async def test_issue_6_end_to_end_widget_upload_analyst_view_and_the_child_reads_the_status(
    console: Console,
    gateway_factory: Any,
    make_account: Any,
    tabs: Any,
    browser: Browser,
    redis: Redis,
    settings: Settings,
) -> None:
    """A child uploads an image and a video through the chat widget; the disk holds only ciphertext; an
    analyst opens the case, decrypts in the browser and sees the media blurred; the audit log has the
    views; the child reads the new status with the case code, in the chat."""
    gateway = await gateway_factory(settings)
    image, video = png(), VIDEO_MARKER * 12_000

    child_context = await browser.new_context(viewport={"width": 1100, "height": 900}, locale="sv-SE")
    child_context.set_default_timeout(60_000)
    child = Tab(child_context, await child_context.new_page())
    await child.page.goto(gateway.url + "/")
    frame = await child_frame(child)
    await open_upload(frame)
    await frame.check("input[name='upload-age'][value='16_17']")
    await frame.check("#upload-consent")
    await frame.set_input_files(
        "#upload-files",
        [
            {"name": "skärmbild.png", "mimeType": "image/png", "buffer": image},
            {"name": "film.mp4", "mimeType": "video/mp4", "buffer": video},
        ],
    )
    await frame.click("#upload-send")
    await frame.wait_for_selector("#upload-done", state="visible", timeout=60_000)
    code = (await frame.text_content("#upload-code") or "").strip()
    await frame.click("#upload-close")

    stored = all_bytes_under(settings.upload_dir)
    assert VIDEO_MARKER not in stored and image not in stored and image[16:80] not in stored
    case_id = await UploadStore(redis).case_id_for(codes.code_hash(code))
    assert case_id is not None

    ana = await make_account("ana", "analyst")
    tab = await tabs()
    page = tab.page
    await sign_in(tab, console, ana)
    await page.goto(console.url + "/cases")
    row = page.locator(f'#cases tr[data-case="{case_id}"]')
    await expect(row.locator("td.count")).to_have_text("2")
    await expect(row).to_contain_text("16–17")
    await row.locator("a").click()
    console.clock.advance(30)
    await page.fill(
        '#reauth input[name="code"]',
        console.accounts.code_at(ana.secret, int(console.clock.now().timestamp())),
    )
    await page.click("#reauth button")
    await viewer_ready(tab)
    await page.set_input_files("#key-file", key_file(crypto.dump_key_file(KEYS, PASSPHRASE)))
    await page.fill("#passphrase", PASSPHRASE)
    await page.click("#open-key")
    await expect(page.locator("#viewer-status")).to_contain_text("key is open", timeout=60_000)
    for file_id, kind in (("file-000", "img"), ("file-001", "video")):
        await page.click(f'button.view-file[data-file="{file_id}"]')
        media = page.locator(f'.preview[data-file="{file_id}"] {kind}')
        await expect(media).to_be_attached(timeout=60_000)
        assert await filter_of(tab, f'.preview[data-file="{file_id}"] {kind}') == HIDDEN
    await expect(page.locator('.preview[data-file="file-000"] figcaption')).to_contain_text("skärmbild.png")
    await expect(page.locator('.preview[data-file="file-001"] figcaption')).to_contain_text("film.mp4")
    await page.wait_for_function(
        "() => { const i = document.querySelector('.preview img'); return i && i.complete && i.naturalWidth > 0; }",
        timeout=60_000,
    )
    await page.click("#actions button[value='removed']")
    await expect(page.locator("#case-status")).to_have_text("removed")

    assert await console.audit_trail(case_id) == [
        ("child", "case.received", ""),
        ("ana", "file.viewed", "file-000"),
        ("ana", "file.viewed", "file-001"),
        ("ana", "action.removed", ""),
    ]

    # The child comes back to the chat and asks with the code.
    await frame.fill("#input", f"Hur går det? {code}")
    await frame.press("#input", "Enter")
    library = ContentLibrary.load(settings.content_dir, settings.locales_dir)
    first = library.get("case_status_removed").replies("sv", updated="")[0].text.split(" Ärendet")[0]
    await expect(frame.locator("#log")).to_contain_text(first, timeout=60_000)
    await child_context.close()
    assert not child.problems, child.problems
