"""The transcript tells the truth: what the bot learned first, a button tap as the label the child saw,
the transcript consent as not asked / no answer / yes / no, and Stockholm time."""

from __future__ import annotations

import re
from typing import Any

from redis.asyncio import Redis

from chatbot.domain.sessions import session_hash
from chatbot.store import keys as chat_keys
from tests.console.conftest import Console
from tests.console.test_exits import queue
from tests.console.test_live import queued_child, signed_in


async def test_consent_taps_and_what_the_bot_learned(
    console: Console, gateway: Any, child_factory: Any, redis: Redis, make_account: Any, staff_factory: Any
) -> None:
    anna = await signed_in(make_account, staff_factory, "anna", "supervisor")

    # Queued without the question (as before the consent existed): "not asked", never "did not agree".
    _quiet, quiet_id = await queued_child(child_factory, gateway, redis, console)
    _, page = await anna.get(f"/conversations/{quiet_id}")
    assert 'data-consent="not_asked">not asked<' in page and "did not agree" not in page

    # Queued by the dialogue: the question is asked; until the child answers, "asked, no answer yet".
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    conv_id = (await redis.get(chat_keys.session(session_hash(child.session_id)))).decode()
    await queue(child, redis, conv_id, 1)
    _, page = await anna.get(f"/conversations/{conv_id}")
    assert 'data-consent="no_answer">asked, no answer yet<' in page
    # What the bot learned stands above the transcript.
    assert page.index('id="learned"') < page.index('id="transcript"')

    await child.say("/transcript_consent_yes", client_id="c-1")
    for _ in range(100):
        if await redis.hget(chat_keys.conversation(conv_id), "transcript_consent") == b"1":
            break
        await child.drain(0.05)
    _, page = await anna.get(f"/conversations/{conv_id}")
    assert 'data-consent="yes">yes, the counsellor may read it<' in page
    # The child's taps read as the buttons they pressed, never as payloads.
    taps = re.findall(r'<span class="tap"[^>]*>([^<]*)</span>', page)
    assert "Ja, det får kuratorn" in taps
    transcript = page.split('id="transcript"', 1)[1].split("</ol>", 1)[0]
    assert "/transcript_consent_yes" not in transcript.split("data-buttons", 1)[1].split(">", 1)[1]
    assert "/handoff_queued" not in transcript.split(">", 1)[1]
    # Stockholm time: the test clock is 10:00 in Stockholm (09:00 UTC).
    assert "· 10:00</span>" in transcript and "· 09:00</span>" not in transcript
    # Provenance: each bot bubble names the answer and the content version the child was shown.
    shown = re.findall(r'class="provenance"[^>]*>(\w+) v(\d+)<', transcript)
    assert ("transcript_consent_yes", "1") in shown and {v for _, v in shown} == {"1"}

    await child.say("/transcript_consent_no", client_id="c-2")
    for _ in range(100):
        if await redis.hget(chat_keys.conversation(conv_id), "transcript_consent") == b"0":
            break
        await child.drain(0.05)
    _, page = await anna.get(f"/conversations/{conv_id}")
    assert 'data-consent="no">no<' in page


async def test_categorising_prefills_nothing_and_offers_the_child_left(
    console: Console, gateway: Any, child_factory: Any, redis: Redis, make_account: Any, staff_factory: Any
) -> None:
    anna = await signed_in(make_account, staff_factory, "anna", "counsellor")
    await anna.post("/me/status", {"status": "available", "capacity": "2", "display": "Anna"})
    _child, conv_id = await queued_child(child_factory, gateway, redis, console)
    assert "msg=" not in await anna.redirected(f"/conversations/{conv_id}/claim", {})
    assert (await anna.redirected(f"/conversations/{conv_id}/end", {})).endswith("/done?msg=ended")
    _, page = await anna.get(f"/conversations/{conv_id}/done")
    for name in ("topic", "age", "handled"):
        select = re.search(rf'<select name="{name}" required>(.*?)</select>', page, re.S)
        assert select and select.group(1).startswith('<option value="">Choose…</option>'), name
    assert "selected" not in page.split('id="categorise-form"', 1)[1]
    assert '<option value="child_left">the child left</option>' in page
    # Nothing chosen is refused; nothing is counted.
    where = await anna.redirected(
        f"/conversations/{conv_id}/categorise", {"topic": "", "age": "", "handled": ""}
    )
    assert where.endswith("msg=bad_category")
