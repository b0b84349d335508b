"""The preview's pages over HTTP: only its framed page may be framed, only by the console; the widget's own
files are served as they are; the graph in the page is the draft's."""

from __future__ import annotations

import json
import re
from typing import Any

from console import security
from console.appkeys import WORKSPACE
from console.domain.editing import AnswerEdit
from console.preview_assets import WIDGET_STATIC
from tests.console.conftest import Console

NEW = "Bra att du skriver till oss. Det är aldrig ditt fel att den sprids."


async def test_the_preview_frames_the_widgets_own_page_with_the_drafts_graph(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    assert console.app is not None
    creds = await make_account("edith", "editor")
    client = staff_factory()
    assert await client.login(creds) == 303
    workspace = console.app[WORKSPACE]
    draft = await workspace.create("edith", ["takedown_help"])
    edit = draft.edits["takedown_help"]
    await workspace.save(
        draft.id, "edith", "takedown_help", AnswerEdit((NEW, *edit.bubbles[1:]), edit.buttons)
    )

    async with client.http.get(f"/content/drafts/{draft.id}/preview?lang=ar") as page:
        assert page.status == 200
        assert page.headers["Content-Security-Policy"] == security.PREVIEW_PAGE_CSP
        assert page.headers["X-Frame-Options"] == "DENY"
        html = await page.text()
    frame = re.search(r'<iframe class="phone-frame" id="preview-frame" src="([^"]+)"', html)
    assert frame is not None and frame.group(1).startswith(f"/content/drafts/{draft.id}/preview/chat?lang=ar")

    async with client.http.get(frame.group(1).replace("&amp;", "&")) as chat:
        assert chat.status == 200
        assert chat.headers["Content-Security-Policy"] == security.PREVIEW_FRAME_CSP
        assert "frame-ancestors 'self'" in chat.headers["Content-Security-Policy"]
        assert "trusted-types 'none'" in chat.headers["Content-Security-Policy"]
        assert chat.headers["X-Frame-Options"] == "SAMEORIGIN"
        body = await chat.text()
    assert '<html lang="ar" dir="rtl">' in body
    assert "socket.io" not in body
    config = json.loads(re.search(r'id="stodchat-config">(.*?)</script>', body, re.S).group(1))  # type: ignore[union-attr]
    taps = config["preview"]["graphs"]["sv"]["taps"]
    assert taps["/takedown_help"][0]["text"] == NEW
    # Arabic children would read the changed answer in Swedish until it is translated again.
    assert config["preview"]["graphs"]["ar"]["taps"]["/takedown_help"][0]["lang"] == "sv"

    # The widget's modules, byte for byte: no copy to drift.
    async with client.http.get("/preview/widget/transcript.js") as module:
        assert module.status == 200
        assert module.headers["Content-Type"].startswith("text/javascript")
        assert await module.read() == (WIDGET_STATIC / "transcript.js").read_bytes()
    # Every other page still refuses to be framed.
    async with client.http.get("/content") as other:
        assert other.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in other.headers["Content-Security-Policy"]
