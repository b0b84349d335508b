"""Throughput of the upload format: hashing and encryption in Chromium, decryption in Python.

    .venv/bin/python bench/upload_crypto.py --mb 64

Prints MB/s for crypto.js's hashFile (SHA-256 + MD5) and encryption (64 KiB chunks, both KEMs wrapped),
and for chatbot/upload/crypto.py's decrypt. Loopback only; the browser is Debian's chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from aiohttp import web
from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chatbot.redis_server import free_port  # noqa: E402
from chatbot.upload import crypto  # noqa: E402

PAGE = '<!doctype html><meta charset="utf-8"><title>bench</title>'

BROWSER = """async ({mb, keys}) => {
  const c = await import("/static/upload/crypto.js");
  const parts = [];
  for (let i = 0; i < mb * 16; i++) parts.push(crypto.getRandomValues(new Uint8Array(65536)));
  const file = new File(parts, "bench.bin");
  let t = performance.now();
  await c.hashFile(file);
  const hashMs = performance.now() - t;
  t = performance.now();
  const enc = await c.createEncryptor(file, await c.parsePublicKeys(keys));
  let n = 0;
  for await (const piece of enc.read(0)) n += piece.length;
  const encryptMs = performance.now() - t;
  return {hashMs, encryptMs, bytes: n};
}"""


async def main(mb: int) -> None:
    keys = [crypto.PrivateKey.generate(crypto.Kem.X25519), crypto.PrivateKey.generate(crypto.Kem.P256)]
    app = web.Application()
    app.router.add_get("/", lambda _r: web.Response(text=PAGE, content_type="text/html"))
    app.router.add_static("/static/", ROOT / "chatbot" / "static")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = await browser.new_page()
            await page.goto(f"http://127.0.0.1:{port}/")
            got = await page.evaluate(BROWSER, {"mb": mb, "keys": ",".join(str(k.public) for k in keys)})
            await browser.close()
    finally:
        await runner.cleanup()
    print(f"browser hashFile (SHA-256 + MD5): {mb / (got['hashMs'] / 1000):7.1f} MB/s")
    print(f"browser encrypt (64 KiB chunks):  {mb / (got['encryptMs'] / 1000):7.1f} MB/s")
    data = os.urandom(mb * 1024 * 1024)
    t = time.perf_counter()
    blob = crypto.encrypt(data, [k.public for k in keys])
    encrypt_s = time.perf_counter() - t
    t = time.perf_counter()
    _, plain = crypto.decrypt(blob, keys[:1])
    decrypt_s = time.perf_counter() - t
    assert plain == data
    print(f"python encrypt:                   {mb / encrypt_s:7.1f} MB/s")
    print(f"python decrypt:                   {mb / decrypt_s:7.1f} MB/s")
    overhead = len(blob) - len(data)
    print(f"ciphertext overhead for {mb} MB:    {overhead} bytes ({100 * overhead / len(data):.3f} %)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=64, help="plaintext size in MiB (default 64)")
    asyncio.run(main(parser.parse_args().mb))
