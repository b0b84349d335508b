"""pdq.js in Chromium against Meta's reference PDQ (C++, through the `pdqhash` bindings), bit for bit."""

from __future__ import annotations

import base64

import numpy as np
import pdqhash
import pytest
from playwright.async_api import Page

from tests.browser import rgb_png


def png(rgb: np.ndarray) -> bytes:
    """A lossless PNG of an RGB array, so the browser decodes exactly the pixels the reference hashes."""
    height, width, _ = rgb.shape
    return rgb_png(width, height, rgb.astype(np.uint8).tobytes())


def reference(rgb: np.ndarray) -> dict[str, object]:
    bits, quality = pdqhash.compute(rgb.astype(np.uint8))
    return {"hash": f"{int(''.join(str(int(b)) for b in bits), 2):064x}", "quality": int(quality)}


def picture(height: int, width: int, seed: int) -> np.ndarray:
    """Something photo-like: smooth gradients, a few shapes and some noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    img = np.stack(
        [
            127 + 100 * np.sin(x / (width / 3.1) + seed),
            127 + 100 * np.cos(y / (height / 2.3)),
            (x * 255 // max(1, width - 1) + y * 128 // max(1, height - 1)) % 256,
        ],
        axis=-1,
    )
    for _ in range(6):
        cy, cx, r = (
            rng.integers(0, height),
            rng.integers(0, width),
            rng.integers(3, max(4, min(height, width) // 3)),
        )
        img[(y - cy) ** 2 + (x - cx) ** 2 < r * r] = rng.integers(0, 256, 3)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


CASES = [
    ("tiny_below_minimum", picture(4, 9, 1)),
    ("smallest", picture(5, 5, 2)),
    ("exact_64", picture(64, 64, 3)),
    ("odd_sizes", picture(97, 131, 4)),
    ("landscape", picture(480, 640, 5)),
    ("portrait_large", picture(1600, 900, 6)),
    ("noise", np.random.default_rng(7).integers(0, 256, (256, 256, 3)).astype(np.uint8)),
]


@pytest.mark.parametrize(("name", "rgb"), CASES, ids=[c[0] for c in CASES])
async def test_pdq_matches_the_reference_bit_for_bit(crypto_page: Page, name: str, rgb: np.ndarray) -> None:
    got = await crypto_page.evaluate(
        """async (data) => {
          const pdq = await import("/static/upload/pdq.js");
          return pdq.pdqFromImage(new Blob([fromB64(data)], {type: "image/png"}));
        }""",
        base64.b64encode(png(rgb)).decode(),
    )
    assert got == reference(rgb)


async def test_a_featureless_image_has_quality_zero(crypto_page: Page) -> None:
    # Its DCT is all rounding noise, so its bits differ between any two builds (the reference's own
    # compiler flags included); hash-sharing programmes drop hashes under quality 50 for this reason.
    rgb = np.full((200, 300, 3), 128, dtype=np.uint8)
    got = await crypto_page.evaluate(
        """async (data) => (await import("/static/upload/pdq.js")).pdqFromImage(
            new Blob([fromB64(data)], {type: "image/png"}))""",
        base64.b64encode(png(rgb)).decode(),
    )
    assert got["quality"] == reference(rgb)["quality"] == 0


async def test_pdq_is_robust_to_a_small_change(crypto_page: Page) -> None:
    rgb = picture(300, 400, 11)
    brighter = np.clip(rgb.astype(int) + 12, 0, 255).astype(np.uint8)
    script = """async (data) => (await (await import("/static/upload/pdq.js")).pdqFromImage(
        new Blob([fromB64(data)], {type: "image/png"}))).hash"""
    a = await crypto_page.evaluate(script, base64.b64encode(png(rgb)).decode())
    b = await crypto_page.evaluate(script, base64.b64encode(png(brighter)).decode())
    distance = bin(int(a, 16) ^ int(b, 16)).count("1")
    assert distance <= 31  # PDQ's usual match threshold


async def test_not_an_image_gives_null(crypto_page: Page) -> None:
    got = await crypto_page.evaluate(
        """async () => (await import("/static/upload/pdq.js")).pdqFromImage(new Blob(["not an image"]))"""
    )
    assert got is None
