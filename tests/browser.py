"""What the browser tests share: Debian's Chromium through Playwright, a tab that fails on page errors, PNGs."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        # Loud, never a skip: the browser tests are the proof that a child and the staff can use the service.
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-browser (scripts/test does)")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium_path: Path) -> AsyncIterator[Browser]:
    """One Chromium for the run; every test opens its own contexts in it, so no state crosses tests."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


class Tab:
    """A browser context and its page; any page error or dialog (an XSS firing) fails the test."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context = context
        self.page = page
        self.problems: list[str] = []
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("dialog", lambda dialog: self.problems.append(f"dialog: {dialog.message}"))
        page.on(
            "console",
            lambda msg: self.problems.append(f"console: {msg.text}") if msg.type == "error" else None,
        )


class Tabs:
    """Opens tabs, each in a context of its own; `close` closes them all and fails on what any of them saw."""

    def __init__(self, browser: Browser, *, timeout_ms: float | None = None, **context: Any) -> None:
        self._browser = browser
        self._timeout_ms = timeout_ms
        self._context = context
        self.made: list[Tab] = []

    async def __call__(self) -> Tab:
        context = await self._browser.new_context(**self._context)
        if self._timeout_ms is not None:
            context.set_default_timeout(self._timeout_ms)
        tab = Tab(context, await context.new_page())
        self.made.append(tab)
        return tab

    async def close(self) -> None:
        for tab in self.made:
            await tab.context.close()
        problems = [p for tab in self.made for p in tab.problems]
        assert not problems, problems


def rgb_png(width: int, height: int, pixels: bytes) -> bytes:
    """A lossless 8-bit RGB PNG of `pixels` (rows top down, 3 bytes a pixel): the browser decodes exactly these."""
    stride = width * 3
    assert len(pixels) == stride * height, "pixels must be width × height × 3 bytes"
    raw = b"".join(b"\x00" + pixels[row * stride : (row + 1) * stride] for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
