"""The widget with a counsellor on the other side: their typing shows, the child's typing goes out (never
its text), and a counsellor's upload offer keeps its button in the conversation.

The counsellor's side is driven the way the console drives it: entries appended to the conversation's
log in Redis (announced to the gateway), typing published on the typing channel.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from chatbot.content.library import ContentLibrary
from chatbot.domain.notices import notice_entries
from chatbot.domain.sessions import session_hash
from chatbot.model import ConversationState, Entry, Role, to_ms
from chatbot.settings import Settings
from chatbot.store import keys
from chatbot.store.conversations import ConversationStore
from tests.chatbot.widget.conftest import Session

STORAGE_KEY = "stodchat.session"


async def notice(store: ConversationStore, conv_id: str, answer_id: str, **params: Any) -> None:
    """What the console's desk appends: a notice from content/ as system entries, values in `extra`."""
    s = Settings()
    content = ContentLibrary.load(s.content_dir, s.locales_dir, s.default_locale)
    now = datetime.now(UTC)
    entries = notice_entries(content, answer_id, "sv", now, **params)
    await store.append(conv_id, entries, now_ms=to_ms(now), retention=3600)


async def test_counsellor_typing_and_upload_offer_in_the_widget(
    browse: Any, widget_gateway: Any, redis: Redis
) -> None:
    tab: Session = await browse(viewport={"width": 1100, "height": 800})
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    await frame.fill("#input", "hej")
    await frame.press("#input", "Enter")
    await frame.wait_for_function("() => document.querySelectorAll('#log .is-pending').length === 0")
    session_id = (await tab.session_storage(frame))[STORAGE_KEY]
    conv_id = (await redis.get(keys.session(session_hash(session_id)))).decode()

    console = ConversationStore(redis, announce_to=keys.NOTIFY_CHILDREN)
    await console.set_state(conv_id, ConversationState.COUNSELLOR)
    await notice(console, conv_id, "counsellor_joined", name="Sam")
    await frame.wait_for_selector("#log .msg--system .bubble:has-text('Sam har kommit in')")

    # The counsellor types: the child sees who, and the indicator goes when they stop.
    await redis.publish(keys.NOTIFY_TYPING, f"{conv_id} counsellor 1")
    await frame.wait_for_selector("#typing", state="visible")
    assert await frame.text_content("#typing .visually-hidden") == "Sam skriver …"
    await redis.publish(keys.NOTIFY_TYPING, f"{conv_id} counsellor 0")
    await frame.wait_for_selector("#typing", state="hidden")

    # The child types: the counsellor's side learns that (once, throttled), and that they stopped; no text.
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(keys.NOTIFY_TYPING)
    await frame.type("#input", "jag vill skicka en bild", delay=20)
    heard: list[str] = []
    async with asyncio.timeout(10):
        while "0" not in [h.rsplit(" ", 1)[-1] for h in heard]:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None:
                heard.append(message["data"].decode())
    await pubsub.aclose()
    assert heard == [f"{conv_id} child 1", f"{conv_id} child 0"]
    await frame.fill("#input", "")

    # The counsellor offers the upload, then writes more: the offer's button stays in the conversation.
    await notice(console, conv_id, "upload_offer")
    reply = Entry(
        Role.COUNSELLOR,
        "Ta den tid du behöver.",
        datetime.now(UTC),
        author="Sam",
    )
    await console.append(conv_id, [reply], now_ms=to_ms(reply.ts), retention=3600)
    await frame.wait_for_selector("#log .msg--counsellor .bubble:text-is('Ta den tid du behöver.')")
    offer = frame.locator("#log .msg--system .msg-action")
    assert await offer.text_content() == "Skicka filen säkert"
    await offer.click()
    await frame.wait_for_selector("#upload-keep:not([hidden])")  # a grant came, with a counsellor on
    assert await frame.locator("#conversation").is_hidden()
