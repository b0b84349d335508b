"""The child's side of the queue: the place and the wait stay on screen in a status line while they wait,
and the welcome's first lines are on screen at once on a laptop (issue 16).

The console's side is driven the way the console drives it (test_widget_counsellor.py): notices from
content/ appended to the conversation's log in Redis, announced to the gateway.
"""

from __future__ import annotations

import json
from typing import Any

from playwright.async_api import Frame
from redis.asyncio import Redis

from chatbot.domain.sessions import session_hash
from chatbot.model import ConversationState
from chatbot.store import keys
from chatbot.store.conversations import ConversationStore
from tests.chatbot.widget.conftest import Session, screenshot_path, tap
from tests.chatbot.widget.test_widget_a11y import audit
from tests.chatbot.widget.test_widget_counsellor import STORAGE_KEY, notice

LINE = "#queue-status"


async def test_joining_and_leaving_the_queue_carry_the_place_as_values(
    gateway_factory: Any, settings: Any, child_factory: Any
) -> None:
    """The bot's handoff_queued says the place in words and, on its first bubble, as values (docs/protocol.md)."""
    gw = await gateway_factory(settings)
    child = child_factory(gw.url)
    await child.connect()
    await child.start()
    await child.drain()
    await child.say("/handoff_queued", client_id="q")
    await child.expect("message_ack")
    bubbles = [data for event, data in await child.drain(0.5) if event == "bot_uttered"]
    assert bubbles[0]["notice"]["type"] == "handoff_queued"
    assert bubbles[0]["notice"]["position"] == 1 and isinstance(bubbles[0]["notice"]["wait"], int)
    assert "nummer 1 i kön" in bubbles[0]["text"]
    assert all("notice" not in b for b in bubbles[1:])
    await child.say("/leave_queue", client_id="l")
    await child.expect("message_ack")
    bubbles = [data for event, data in await child.drain(0.5) if event == "bot_uttered"]
    assert bubbles[0]["notice"] == {"type": "leave_queue"}


async def line_text(frame: Frame) -> str:
    return (await frame.text_content(LINE) or "").strip()


async def join_queue(frame: Frame) -> None:
    await tap(frame, "Prata med en människa")
    await frame.wait_for_selector("#replies button:text-is('Ja, ställ mig i kön')")
    await tap(frame, "Ja, ställ mig i kön")
    await frame.wait_for_selector(f"{LINE}:not([hidden])")


async def in_view(frame: Frame, selector: str) -> bool:
    """Wholly inside the conversation's scroll box and the frame: on screen without scrolling."""
    seen: bool = await frame.evaluate(
        """(selector) => {
            const box = document.querySelector(selector).getBoundingClientRect();
            const scroll = document.querySelector("#scroll").getBoundingClientRect();
            const inside = (outer) => box.top >= outer.top - 0.5 && box.bottom <= outer.bottom + 0.5;
            const frame = {top: 0, bottom: window.innerHeight};
            const inScroll = document.querySelector("#scroll").contains(document.querySelector(selector));
            return box.height > 0 && inside(frame) && (!inScroll || inside(scroll));
        }""",
        selector,
    )
    return seen


async def test_the_place_stays_on_screen_updates_and_goes_when_a_counsellor_joins(
    browse: Any, widget_gateway: Any, redis: Redis
) -> None:
    tab: Session = await browse(bypass_csp=True, viewport={"width": 1366, "height": 768})
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    assert await frame.is_hidden(LINE)
    await join_queue(frame)
    first = await line_text(frame)
    assert first.startswith("Du är nummer 1 i kön. Ungefär ") and first.endswith(" min kvar."), first
    assert await frame.get_attribute(LINE, "role") == "status"
    assert await frame.get_attribute(LINE, "aria-live") == "polite"

    # The child writes while waiting: the queue's bubble scrolls away, the line stays on screen.
    # (Three long messages: within the rate limit's burst, and taller together than the conversation.)
    for i in range(3):
        await frame.fill(
            "#input", f"jag väntar fortfarande {i}, " + "och det känns som att det tar lång tid " * 6
        )
        await frame.press("#input", "Enter")
    await frame.wait_for_function("() => document.querySelectorAll('#log .is-pending').length === 0")
    await frame.wait_for_function(
        "() => { const s = document.querySelector('#scroll'); return s.scrollTop + s.clientHeight >= s.scrollHeight - 2; }"
    )
    await frame.evaluate(
        """() => [...document.querySelectorAll("#log .msg--bot .bubble")]
                   .find((b) => b.textContent.includes("i kön")).setAttribute("data-probe", "queued")"""
    )
    queued_bubble = "[data-probe=queued]"
    assert not await in_view(frame, queued_bubble), "the queue's bubble should have scrolled away"
    assert await in_view(frame, LINE)
    assert await line_text(frame) == first

    # The console tells a new place: the line follows, once, and says nothing else meanwhile.
    session_id = (await tab.session_storage(frame))[STORAGE_KEY]
    conv_id = (await redis.get(keys.session(session_hash(session_id)))).decode()
    console = ConversationStore(redis, announce_to=keys.NOTIFY_CHILDREN)
    await notice(console, conv_id, "queue_update", position=3, wait=25)
    await frame.wait_for_function(
        f"() => document.querySelector('{LINE}').textContent === 'Du är nummer 3 i kön. Ungefär 25 min kvar.'"
    )
    await notice(console, conv_id, "queue_update", position=2, wait=12)
    await frame.wait_for_function(f"() => document.querySelector('{LINE}').textContent.includes('nummer 2')")
    assert await line_text(frame) == "Du är nummer 2 i kön. Ungefär 12 min kvar."
    violations = await audit(frame)
    assert violations == [], json.dumps(violations, indent=1, ensure_ascii=False)
    await tab.page.screenshot(path=screenshot_path("widget-queue.png"))

    # A reload while waiting: the line comes back from the replayed log, with the newest place.
    await tab.page.reload()
    frame = await tab.chat_frame()
    await frame.wait_for_selector(f"{LINE}:not([hidden])")
    assert await line_text(frame) == "Du är nummer 2 i kön. Ungefär 12 min kvar."

    # In English the same place in the child's language.
    await frame.select_option("#language", "en")
    await frame.wait_for_function(f"() => document.querySelector('{LINE}').textContent.startsWith('You are')")
    assert await line_text(frame) == "You are number 2 in the queue. About 12 min left."
    await frame.select_option("#language", "sv")
    await frame.wait_for_function(f"() => document.querySelector('{LINE}').textContent.startsWith('Du är')")

    # A counsellor joins: the wait is over, the line goes.
    await console.set_state(conv_id, ConversationState.COUNSELLOR)
    await notice(console, conv_id, "counsellor_joined", name="Sam")
    await frame.wait_for_selector("#log .msg--system .bubble:has-text('Sam har kommit in')")
    await frame.wait_for_selector(LINE, state="hidden")
    assert await line_text(frame) == ""

    # Lost again (the counsellor's console went away): back in the queue, the line is back.
    await console.set_state(conv_id, ConversationState.QUEUED)
    await notice(console, conv_id, "counsellor_lost", position=1, wait=4)
    await frame.wait_for_selector(f"{LINE}:not([hidden])")
    assert await line_text(frame) == "Du är nummer 1 i kön. Ungefär 4 min kvar."

    # The chat ends: nothing of the line stays.
    await frame.click("#end")
    await frame.click("#confirm-yes")
    await frame.wait_for_selector("#ended", state="visible")
    assert await frame.is_hidden(LINE) and await line_text(frame) == ""


async def test_leaving_the_queue_removes_the_line_and_the_phone_passes_axe(
    browse: Any, widget_gateway: Any
) -> None:
    tab: Session = await browse(
        bypass_csp=True, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    await join_queue(frame)
    assert (await line_text(frame)).startswith("Du är nummer 1 i kön.")
    assert await in_view(frame, LINE)
    violations = await audit(frame)
    assert violations == [], json.dumps(violations, indent=1, ensure_ascii=False)
    await tab.page.screenshot(path=screenshot_path("widget-queue-phone.png"))
    await tap(frame, "Jag vill inte vänta")
    await frame.wait_for_selector(LINE, state="hidden")
    assert await line_text(frame) == ""


async def test_the_welcomes_first_lines_are_on_screen_on_a_laptop(browse: Any, widget_gateway: Any) -> None:
    """1366×768 and 1280×720 screens, as the whole window and with the browser's own bars taking ~110 px."""
    first = "#log .msg--bot:first-child .bubble"
    for width, height in ((1366, 768), (1280, 720), (1366, 658), (1280, 610)):
        tab: Session = await browse(viewport={"width": width, "height": height})
        await tab.page.goto(widget_gateway.url + "/")
        frame = await tab.open_chat()
        await frame.wait_for_selector("#replies .btn-reply")
        await frame.wait_for_timeout(300)  # the scroll after the welcome is done in the next frame
        assert await in_view(frame, first), (width, height)
        assert await in_view(frame, "#log .msg--bot:nth-child(2) .bubble"), (width, height)
        # The iframe itself is wholly on the page: nothing of the chat is below the window's edge.
        box = await (await tab.page.query_selector("iframe")).bounding_box()  # type: ignore[union-attr]
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (width, height, box)
