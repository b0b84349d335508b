"""A child's browser uploads an image and a video through upload.js; an analyst's browser decrypts.

Real Chromium, the real gateway on loopback, the private Redis. The widget's buttons and the console's
pages are not part of this test (they come with their own issues); everything under them is.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Route
from redis.asyncio import Redis

from chatbot.gateway.upload_views import AUDIT, CASES, UPLOADS
from chatbot.settings import Settings
from chatbot.upload import crypto
from tests.chatbot.upload.helpers import KEYS, all_bytes_under, open_conversation, upload_settings

PASSPHRASE = "analyst browser passphrase"
VIDEO_MARKER = "VIDEO-PLAINTEXT-FRAME-"

CHILD = """async ({grant, marker}) => {
  const up = await import("/upload/upload.js");
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 96;
  const g = canvas.getContext("2d");
  g.fillStyle = "#c33"; g.fillRect(8, 8, 80, 80);
  const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const image = new File([png], "skärmbild.png", {type: "image/png"});
  const videoBytes = new TextEncoder().encode(marker.repeat(15000));
  const video = new File([videoBytes], "film.mp4", {type: "video/mp4"});
  const phases = new Set();
  const {caseCode} = await up.uploadFiles(grant, [image, video], {
    ageBand: "13_15", consent: true, chunkBytes: 100000, retryDelayMs: 50,
    onProgress: (p) => phases.add(p.phase),
  });
  const toB64 = async (blob) => { const b = new Uint8Array(await blob.arrayBuffer()); let s = "";
    for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
    return btoa(s); };
  return {caseCode, phases: [...phases], image: await toB64(image), video: await toB64(video),
          databases: (await indexedDB.databases()).length, caches: (await caches.keys()).length};
}"""

ANALYST = """async ({data, keyFile, passphrase}) => {
  const c = await import("/upload/crypto.js");
  const keys = await c.openKeyFile(keyFile, passphrase);
  const {meta, blob} = await c.decryptUpload(new Blob([Uint8Array.from(atob(data), (x) => x.charCodeAt(0))]), keys);
  const b = new Uint8Array(await blob.arrayBuffer()); let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
  return {meta, data: btoa(s)};
}"""


async def test_child_uploads_analyst_decrypts_child_reads_status(
    redis: Redis, browser: Browser, gateway_factory: Any, settings: Settings, tmp_path: Path
) -> None:
    root = tmp_path / "uploads"
    gw = await gateway_factory(upload_settings(settings, root))
    await open_conversation(redis, "conv-browser")
    grant = await gw.app[UPLOADS].issue_grant("conv-browser", topic="takedown")

    child = await browser.new_context()
    page = await child.new_page()
    drops = {"done": False}

    async def drop_once(route: Route) -> None:
        # The second piece of the video reaches the server, but its answer never reaches the child:
        # the client must ask where the server is and go on from there.
        if not drops["done"] and "files/1?offset=100000" in route.request.url:
            drops["done"] = True
            await route.fetch()
            await route.abort("connectionreset")
            return
        await route.continue_()

    await page.route("**/upload/v1/files/*", drop_once)
    await page.goto(gw.url + "/")
    result = await page.evaluate(CHILD, {"grant": grant.token, "marker": VIDEO_MARKER})
    await child.close()
    assert drops["done"]
    assert {"hashing", "uploading", "done"} <= set(result["phases"])
    assert (result["databases"], result["caches"]) == (0, 0)
    image = base64.b64decode(result["image"])
    video = base64.b64decode(result["video"])
    assert image.startswith(b"\x89PNG")

    # On disk: ciphertext only.
    stored = all_bytes_under(root)
    assert VIDEO_MARKER.encode() not in stored
    assert image not in stored and image[16:80] not in stored
    assert list((root / "partial").iterdir()) == []

    cases = gw.app[CASES]
    (case,) = await cases.list_cases()
    assert (case.age_band, case.topic, len(case.files)) == ("13_15", "takedown", 2)
    assert len(case.files[0].pdq) == 64 and 0 <= case.files[0].pdq_quality <= 100  # the image
    assert (case.files[1].pdq, case.files[1].pdq_quality) == ("", -1)  # the video has none

    # The analyst's browser decrypts with the key file and passphrase; the server hands out ciphertext.
    key_file = crypto.dump_key_file(KEYS, PASSPHRASE).decode()
    analyst = await browser.new_context()
    apage = await analyst.new_page()
    await apage.goto(gw.url + "/")
    seen = []
    for f in case.files:
        with await cases.open_ciphertext("analyst-7", case.case_id, f.file_id) as stream:
            ciphertext = stream.read()
        seen.append(
            await apage.evaluate(
                ANALYST,
                {
                    "data": base64.b64encode(ciphertext).decode(),
                    "keyFile": key_file,
                    "passphrase": PASSPHRASE,
                },
            )
        )
    await analyst.close()
    assert [s["meta"] for s in seen] == [
        {"name": "skärmbild.png", "type": "image/png", "size": len(image)},
        {"name": "film.mp4", "type": "video/mp4", "size": len(video)},
    ]
    assert [base64.b64decode(s["data"]) for s in seen] == [image, video]
    views = [
        (e.actor, e.file_id)
        for e in await gw.app[AUDIT].entries(case_id=case.case_id)
        if e.action == "file.viewed"
    ]
    assert views == [("analyst-7", "file-000"), ("analyst-7", "file-001")]

    # The child comes back later and asks with the case code.
    await cases.record_action("analyst-7", case.case_id, "reported_platform")
    again = await browser.new_context()
    cpage = await again.new_page()
    await cpage.goto(gw.url + "/")
    status = await cpage.evaluate(
        "async (code) => (await import('/upload/upload.js')).caseStatus(code)", result["caseCode"]
    )
    assert status["status"] == "reported"
    wrong = await cpage.evaluate(
        "async () => { try { await (await import('/upload/upload.js')).caseStatus('0000-0000-0000-0000-0000'); }"
        " catch (e) { return e.code; } }"
    )
    assert wrong == "unknown_case"
    await again.close()


@pytest.mark.parametrize("problem", ["used_grant", "no_consent"])
async def test_child_side_errors_are_typed(
    redis: Redis, browser: Browser, gateway_factory: Any, settings: Settings, tmp_path: Path, problem: str
) -> None:
    gw = await gateway_factory(upload_settings(settings, tmp_path / "uploads"))
    await open_conversation(redis, "conv-browser")
    grant = await gw.app[UPLOADS].issue_grant("conv-browser")
    if problem == "used_grant":
        await gw.app[UPLOADS].start(
            grant.token,
            age_band="13_15",
            consent=True,
            files=[{"size": 9, "sha256": "0" * 64, "md5": "0" * 32}],
        )
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(gw.url + "/")
    code = await page.evaluate(
        """async ({grant, consent}) => {
          const up = await import("/upload/upload.js");
          try { await up.uploadFiles(grant, [new File(["x"], "a.png")], {ageBand: "13_15", consent}); }
          catch (e) { return e.code; }
        }""",
        {"grant": grant.token, "consent": problem != "no_consent"},
    )
    await context.close()
    assert code == {"used_grant": "grant_used", "no_consent": "consent_required"}[problem]
    assert all_bytes_under(tmp_path / "uploads") == b""
