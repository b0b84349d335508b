"""viewer.js in Chromium: decrypted media start blurred and greyscale, one revealed at a time, URLs revoked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page

from chatbot.upload import crypto
from tests.browser import rgb_png
from tests.chatbot.upload.conftest import PAGE, STATIC
from tests.chatbot.upload.helpers import KEYS
from tests.conftest import served

PASSPHRASE = "viewer test passphrase"


def tiny_png(width: int = 8, height: int = 6) -> bytes:
    """A plain red PNG."""
    return rgb_png(width, height, b"\xcc\x22\x22" * width * height)


FILES: dict[str, bytes] = {}


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[str]:
    public = [k.public for k in KEYS]
    FILES["image"] = crypto.encrypt(tiny_png(), public, name="bild.png", type="image/png")
    FILES["video"] = crypto.encrypt(
        b"\x1aE\xdf\xa3 not really a video", public, name="v.webm", type="video/webm"
    )
    tampered = bytearray(FILES["image"])
    tampered[-3] ^= 1
    FILES["tampered"] = bytes(tampered)

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def ciphertext(request: web.Request) -> web.Response:
        found = FILES.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(body=found, content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/ct/{name}", ciphertext)
    app.router.add_static("/static/", STATIC)
    async with served(app) as url:
        yield url


@pytest.fixture
async def page(browser: Browser, server: str) -> AsyncIterator[Page]:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(server + "/")
    await page.wait_for_function("window.ready === true")
    await page.evaluate(
        """async ({keyFile, passphrase}) => {
          const v = await import("/static/upload/viewer.js");
          window.viewer = v;
          window.keys = await v.openKeys(new File([keyFile], "upload-key.json"), passphrase);
          window.box = document.body.appendChild(document.createElement("div"));
        }""",
        {"keyFile": crypto.dump_key_file(KEYS, PASSPHRASE).decode(), "passphrase": PASSPHRASE},
    )
    yield page
    await context.close()


async def test_blurred_by_default_revealed_one_at_a_time(page: Page, tmp_path: Path) -> None:
    state = await page.evaluate(
        """async () => {
          const a = await viewer.showCaseFile({url: "/ct/image", keys, container: box});
          const b = await viewer.showCaseFile({url: "/ct/video", keys, container: box});
          window.shown = [a, b];
          await new Promise((resolve) => a.element.complete ? resolve() : a.element.addEventListener("load", resolve));
          const filters = () => shown.map((v) => v.element.style.filter);
          const start = filters();
          a.reveal(); const first = filters();
          b.reveal(); const second = filters();
          return {start, first, second, tags: shown.map((v) => v.element.tagName), width: a.element.naturalWidth,
                  metas: shown.map((v) => v.meta), hidden: viewer.HIDDEN_FILTER};
        }"""
    )
    hidden = state["hidden"]
    assert "blur" in hidden and "grayscale(1)" in hidden
    assert state["start"] == [hidden, hidden]
    assert state["first"] == ["none", hidden]
    assert state["second"] == [hidden, "none"]
    assert state["tags"] == ["IMG", "VIDEO"]
    assert state["width"] == 8  # the decrypted bytes are a real, decodable image
    assert state["metas"][0] == {"name": "bild.png", "type": "image/png", "size": len(tiny_png())}
    await page.evaluate("shown[1].hide(); shown[0].element.style.width = '240px'")
    await page.screenshot(path=str(tmp_path / "viewer.png"))

    revoked = await page.evaluate(
        """async () => {
          const url = shown[0].element.src;
          viewer.destroyAll();
          try { await fetch(url); return "still readable"; } catch { return "revoked"; }
        }"""
    )
    assert revoked == "revoked"
    assert await page.evaluate("box.children.length") == 0


@pytest.mark.parametrize(("url", "code"), [("/ct/tampered", "tampered"), ("/ct/missing", "fetch_failed")])
async def test_errors_show_nothing(page: Page, url: str, code: str) -> None:
    got = await page.evaluate(
        """async (url) => {
          try { await viewer.showCaseFile({url, keys, container: box}); return "shown"; }
          catch (e) { return e.code; }
        }""",
        url,
    )
    assert got == code
    assert await page.evaluate("box.children.length") == 0


async def test_wrong_passphrase(page: Page) -> None:
    got = await page.evaluate(
        """async (keyFile) => {
          try { await viewer.openKeys(new File([keyFile], "k.json"), "not the passphrase"); }
          catch (e) { return e.code; }
        }""",
        crypto.dump_key_file(KEYS, PASSPHRASE).decode(),
    )
    assert got == "wrong_passphrase"
