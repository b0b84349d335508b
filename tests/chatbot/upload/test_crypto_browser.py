"""crypto.js in real Chromium against chatbot/upload/crypto.py: each decrypts what the other encrypts."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from chatbot.upload import crypto
from chatbot.upload.crypto import Kem, PrivateKey
from tests.chatbot.upload.test_crypto import first_section_unusable

PASSPHRASE = "analyst test passphrase"
SMALL = 1024

ENCRYPT = """async ({data, name, type, keys, kems, chunkSize}) => {
  const c = window.crypto_js;
  const file = new File([fromB64(data)], name, {type});
  return toB64(await c.encryptToBytes(file, await c.parsePublicKeys(keys), {kems, chunkSize}));
}"""

DECRYPT = """async ({data, keyFile, passphrase}) => {
  const c = window.crypto_js;
  try {
    // PBKDF2 at 600,000 rounds is slow by design: open each key file once per page.
    window.openedKeys ??= new Map();
    const cacheKey = passphrase + "|" + keyFile;
    if (!window.openedKeys.has(cacheKey)) window.openedKeys.set(cacheKey, c.openKeyFile(keyFile, passphrase));
    const keys = await window.openedKeys.get(cacheKey);
    const {meta, blob} = await c.decryptUpload(new Blob([fromB64(data)]), keys);
    return {meta, data: toB64(new Uint8Array(await blob.arrayBuffer()))};
  } catch (error) {
    return {error: error.code || String(error)};
  }
}"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def keys() -> list[PrivateKey]:
    return [PrivateKey.generate(Kem.X25519), PrivateKey.generate(Kem.P256)]


@pytest.fixture(scope="module")
def key_file(keys: list[PrivateKey]) -> str:
    return crypto.dump_key_file(keys, PASSPHRASE).decode()


async def browser_encrypt(
    page: Page,
    data: bytes,
    keys: list[PrivateKey],
    *,
    kems: list[int] | None = None,
    name: str = "",
    type: str = "",
    chunk_size: int | None = None,
) -> bytes:
    arg = {
        "data": b64(data),
        "name": name,
        "type": type,
        "keys": ",".join(str(k.public) for k in keys),
        "kems": kems,
        "chunkSize": chunk_size,
    }
    return base64.b64decode(await page.evaluate(ENCRYPT, arg))


async def browser_decrypt(page: Page, blob: bytes, key_file: str, passphrase: str = PASSPHRASE) -> Any:
    return await page.evaluate(DECRYPT, {"data": b64(blob), "keyFile": key_file, "passphrase": passphrase})


async def test_browser_has_x25519(crypto_page: Page) -> None:
    assert await crypto_page.evaluate("window.crypto_js.supportsX25519()") is True


@pytest.mark.parametrize("size", [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 200_003])
async def test_md5_and_sha256_match_hashlib(crypto_page: Page, size: int) -> None:
    data = os.urandom(size)
    got = await crypto_page.evaluate(
        "async (d) => window.crypto_js.hashFile(new Blob([fromB64(d)]))", b64(data)
    )
    assert got == {"sha256": hashlib.sha256(data).hexdigest(), "md5": hashlib.md5(data).hexdigest()}


@pytest.mark.parametrize("kem", [Kem.X25519, Kem.P256], ids=["x25519", "p256"])
@pytest.mark.parametrize("size", [0, 70_000, 3 * 65536])
async def test_browser_encrypts_python_decrypts(
    crypto_page: Page, keys: list[PrivateKey], kem: Kem, size: int
) -> None:
    data = os.urandom(size)
    blob = await browser_encrypt(crypto_page, data, keys, kems=[kem], name="bild å.jpg", type="image/jpeg")
    header = crypto.read_header(io.BytesIO(blob))
    assert [r.kem for r in header.recipients] == [kem]
    assert header.chunk_size == 65536
    only = [k for k in keys if k.kem is kem]
    meta, plain = crypto.decrypt(blob, only)
    assert plain == data
    assert meta == crypto.Metadata("bild å.jpg", "image/jpeg", size)
    assert len(blob) == crypto.ciphertext_size(header.length, size)


async def test_browser_wraps_to_every_key_by_default(crypto_page: Page, keys: list[PrivateKey]) -> None:
    blob = await browser_encrypt(crypto_page, b"both", keys)
    assert [r.kem for r in crypto.read_header(io.BytesIO(blob)).recipients] == [Kem.X25519, Kem.P256]
    for key in keys:
        assert crypto.decrypt(blob, [key])[1] == b"both"


@pytest.mark.parametrize("kem", [Kem.X25519, Kem.P256], ids=["x25519", "p256"])
@pytest.mark.parametrize("size", [0, 5, 2 * 65536 + 1])
async def test_python_encrypts_browser_decrypts(
    crypto_page: Page, keys: list[PrivateKey], key_file: str, kem: Kem, size: int
) -> None:
    data = os.urandom(size)
    public = next(k.public for k in keys if k.kem is kem)
    blob = crypto.encrypt(data, [public], name="film.mp4", type="video/mp4")
    got = await browser_decrypt(crypto_page, blob, key_file)
    assert got["meta"] == {"name": "film.mp4", "type": "video/mp4", "size": size}
    assert base64.b64decode(got["data"]) == data


async def test_resumed_reads_reproduce_the_same_ciphertext(crypto_page: Page, keys: list[PrivateKey]) -> None:
    data = os.urandom(5 * SMALL + 7)
    script = """async ({data, keys, offsets}) => {
      const c = window.crypto_js;
      const enc = await c.createEncryptor(new File([fromB64(data)], "x"), await c.parsePublicKeys(keys),
                                          {chunkSize: 1024});
      const out = [];
      for (const offset of offsets) {
        const pieces = [];
        for await (const p of enc.read(offset)) pieces.push(...p);
        out.push(toB64(Uint8Array.from(pieces)));
      }
      return {size: enc.size, reads: out};
    }"""
    offsets = [0, 1, 200, 300, 1500, 2000, 5000]
    got = await crypto_page.evaluate(
        script, {"data": b64(data), "keys": str(keys[0].public), "offsets": offsets}
    )
    full = base64.b64decode(got["reads"][0])
    assert got["size"] == len(full)
    for offset, encoded in zip(offsets, got["reads"], strict=True):
        assert base64.b64decode(encoded) == full[offset:]
    assert crypto.decrypt(full, keys)[1] == data


async def test_wrong_passphrase_and_wrong_key_in_the_browser(
    crypto_page: Page, keys: list[PrivateKey], key_file: str
) -> None:
    blob = crypto.encrypt(b"x", [keys[0].public])
    assert await browser_decrypt(crypto_page, blob, key_file, "not it") == {"error": "wrong_passphrase"}
    other = crypto.dump_key_file([PrivateKey.generate(Kem.X25519)], PASSPHRASE, iterations=100_000).decode()
    assert await browser_decrypt(crypto_page, blob, other) == {"error": "wrong_key"}


def damaged(blob: bytes, how: str) -> bytes:
    header_len = crypto.read_header(io.BytesIO(blob)).length
    frame = 65536 + 16
    if how == "flip_chunk":
        out = bytearray(blob)
        out[header_len + 10] ^= 1
        return bytes(out)
    if how == "flip_header":
        out = bytearray(blob)
        out[8] ^= 1  # inside the nonce prefix
        return bytes(out)
    if how == "flip_meta":
        out = bytearray(blob)
        out[header_len - 3] ^= 1
        return bytes(out)
    if how == "reorder":
        c0 = blob[header_len : header_len + frame]
        c1 = blob[header_len + frame : header_len + 2 * frame]
        return blob[:header_len] + c1 + c0 + blob[header_len + 2 * frame :]
    if how == "truncate_boundary":
        return blob[: header_len + 2 * frame]
    if how == "truncate_inside":
        return blob[:-100]
    if how == "append":
        return blob + b"\0"
    if how == "version":
        return blob[:4] + b"\x02" + blob[5:]
    if how == "key_type":
        return blob[:17] + b"\x03" + blob[18:]  # v1 has no key type 3: an altered recipient table
    if how == "recipient_count":
        return blob[:5] + bytes([blob[5] + 1]) + blob[6:]
    raise AssertionError(how)


EXPECTED = {
    "flip_chunk": ("tampered", crypto.Tampered),
    "flip_header": ("tampered", crypto.Tampered),
    "flip_meta": ("tampered", crypto.Tampered),
    "reorder": ("tampered", crypto.Tampered),
    "truncate_boundary": ("truncated", crypto.Truncated),
    "truncate_inside": ("truncated", crypto.Truncated),
    "append": ("tampered", crypto.Tampered),
    "version": ("unsupported_version", crypto.UnsupportedVersion),
    "key_type": ("tampered", crypto.Tampered),
    "recipient_count": ("tampered", crypto.Tampered),
}


@pytest.mark.parametrize("how", list(EXPECTED))
@pytest.mark.parametrize("made_by", ["browser", "python"])
async def test_damage_is_rejected_on_both_sides(
    crypto_page: Page, keys: list[PrivateKey], key_file: str, how: str, made_by: str
) -> None:
    data = os.urandom(3 * 65536 + 99)
    if made_by == "browser":
        blob = await browser_encrypt(crypto_page, data, keys, name="v.mp4")
    else:
        blob = crypto.encrypt(data, [k.public for k in keys], name="v.mp4")
    assert crypto.decrypt(blob, keys)[1] == data
    bad = damaged(blob, how)
    code, error = EXPECTED[how]
    with pytest.raises(error):
        crypto.decrypt(bad, keys)
    assert await browser_decrypt(crypto_page, bad, key_file) == {"error": code}


# --- the shared metadata vectors (tests/chatbot/upload/vectors/metadata.json), and the key sections -------------

VECTORS = json.loads((Path(__file__).parent / "vectors" / "metadata.json").read_text(encoding="utf-8"))

READ_VECTORS = """(vectors) => vectors.map((v) => {
  const bytes = v.hex !== undefined
    ? Uint8Array.from(v.hex.match(/../g) || [], (h) => parseInt(h, 16))
    : new TextEncoder().encode(v.text);
  try { return {ok: window.crypto_js.decodeMetadata(bytes)}; } catch (error) { return {error: error.code}; }
})"""


async def test_the_browser_reads_the_metadata_vectors_as_python_does(crypto_page: Page) -> None:
    # A lone surrogate cannot cross into the page as text: those vectors are escaped in their JSON text.
    results = await crypto_page.evaluate(READ_VECTORS, VECTORS["reading"])
    for vector, result in zip(VECTORS["reading"], results, strict=True):
        expected = {"ok": vector["expect"]} if vector["valid"] else {"error": "malformed"}
        assert result == expected, vector["description"]


async def test_the_browser_writes_the_metadata_vectors_as_python_does(
    crypto_page: Page, keys: list[PrivateKey]
) -> None:
    for vector in VECTORS["writing"]:
        written = await crypto_page.evaluate(
            "([n, t]) => window.crypto_js.metadataForWriting(JSON.parse(n), t, 3)",
            [json.dumps(vector["name"]), vector["type"]],
        )
        assert {"name": written["name"], "type": written["type"]} == vector["written"], vector["description"]
    blob = await browser_encrypt(crypto_page, b"abc", keys, name="x" * 70_000)
    meta, _ = crypto.decrypt(blob, keys)  # the project's own reader reads what its writer made
    assert meta.name == "x" * 1024


async def test_the_browser_tries_a_second_section_when_the_first_fails(
    crypto_page: Page, keys: list[PrivateKey], key_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = first_section_unusable(keys[0], keys[1], monkeypatch)
    assert (await browser_decrypt(crypto_page, blob, key_file))["meta"]["name"] == "a.png"
