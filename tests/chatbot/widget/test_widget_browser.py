"""The widget in a real chromium: embed, chat, reload, quick exit, end chat, keyboard, phone, right-to-left."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from playwright.async_api import Frame, WebSocketRoute, expect
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.domain.sessions import session_hash
from chatbot.gateway.appkeys import SIO
from chatbot.model import Entry, Role
from chatbot.redis_server import RedisServer
from chatbot.store import keys
from chatbot.store.conversations import ConversationStore
from tests.chatbot.widget.conftest import EXIT_URL, Session, screenshot_path
from tests.conftest import Gateway, with_settings

STORAGE_KEY = "stodchat.session"


async def conversation_of(redis: Redis, session_id: str) -> str | None:
    raw = await redis.get(keys.session(session_hash(session_id)))
    return raw.decode() if raw else None


async def child_texts(frame: Frame) -> list[str]:
    texts: list[str] = await frame.eval_on_selector_all(
        "#log .msg--child .bubble", "nodes => nodes.map(n => n.textContent)"
    )
    return texts


async def send(frame: Frame, text: str) -> None:
    await frame.fill("#input", text)
    await frame.press("#input", "Enter")


async def wait_acked(frame: Frame) -> None:
    await frame.wait_for_function("() => document.querySelectorAll('#log .is-pending').length === 0")


async def settle_scroll(frame: Frame) -> None:
    """Wait until the conversation has scrolled to its newest message (for screenshots)."""
    await frame.wait_for_function(
        "() => { const s = document.querySelector('#scroll');"
        " return s.scrollTop + s.clientHeight >= s.scrollHeight - 2; }"
    )
    await frame.page.mouse.move(1, 1)  # no hover highlight left where the test last clicked
    await asyncio.sleep(0.4)


async def device_storage(frame: Frame) -> dict[str, Any]:
    result: dict[str, Any] = await frame.evaluate(
        """async () => ({
            cookie: document.cookie,
            local: localStorage.length,
            session: Object.keys(sessionStorage),
            idb: (await indexedDB.databases()).length,
            caches: (await caches.keys()).length,
        })"""
    )
    return result


async def drop_sockets(gateway: Any) -> None:
    """The network drops every connection at once (as a train tunnel would)."""
    sio = gateway.app[SIO]
    for socket in list(sio.eio.sockets.values()):
        await socket.close(wait=False, abort=True)
        await socket.queue.put(None)


async def test_demo_page_chat_and_reload_resumes_the_conversation(
    browse: Any, widget_gateway: Any, redis: Redis
) -> None:
    tab: Session = await browse(viewport={"width": 1100, "height": 760})
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    welcome = await frame.locator("#log .msg--bot .bubble").all_text_contents()
    assert welcome and all(welcome)

    # A quick reply is a button; the child's bubble shows its words, not the payload.
    first_reply = frame.locator("#replies .btn-reply").first
    title = await first_reply.text_content()
    await first_reply.click()
    await wait_acked(frame)
    await send(frame, "Någon har en bild på mig")
    await wait_acked(frame)
    await frame.wait_for_function(
        "() => document.querySelector('#log').lastElementChild.matches('.msg--bot')"
    )
    before_texts = await frame.locator("#log .bubble").all_text_contents()
    assert await child_texts(frame) == [title, "Någon har en bild på mig"]

    stored = await tab.session_storage(frame)
    assert list(stored) == [STORAGE_KEY] and len(stored[STORAGE_KEY]) == 43
    assert await conversation_of(redis, stored[STORAGE_KEY])
    assert await device_storage(frame) == {
        "cookie": "",
        "local": 0,
        "session": [STORAGE_KEY],
        "idb": 0,
        "caches": 0,
    }
    assert await tab.context.cookies() == []
    await settle_scroll(frame)
    await tab.page.screenshot(path=screenshot_path("widget-desktop.png"))

    await tab.page.reload()
    frame = await tab.chat_frame()
    # Reopened by itself, the same conversation, each message once and in order.
    await frame.wait_for_function(
        f"() => document.querySelectorAll('#log .bubble').length >= {len(before_texts)}"
    )
    await asyncio.sleep(0.3)
    assert await frame.locator("#log .bubble").all_text_contents() == before_texts
    assert await child_texts(frame) == [title, "Någon har en bild på mig"]
    assert (await tab.session_storage(frame))[STORAGE_KEY] == stored[STORAGE_KEY]
    await send(frame, "Tack")
    await wait_acked(frame)


async def test_quick_exit_from_another_site_replaces_the_page_and_ends_the_session(
    browse: Any, host_site: Any, redis: Redis
) -> None:
    tab: Session = await browse()
    await tab.page.goto(f"{host_site.url}/start")
    await tab.page.goto(f"{host_site.url}/")
    frame = await tab.open_chat()
    await send(frame, "hej")
    await wait_acked(frame)
    session_id = (await tab.session_storage(frame))[STORAGE_KEY]
    conv_id = await conversation_of(redis, session_id)
    assert conv_id
    length_before = await tab.page.evaluate("history.length")

    await frame.click("#quick-exit")
    await tab.page.wait_for_url(EXIT_URL)
    # location.replace: the chat's page is no longer in the tab's history, Back skips over it.
    assert await tab.page.evaluate("history.length") == length_before
    await tab.page.go_back()
    assert tab.page.url == f"{host_site.url}/start"

    # The server side ended: the id is forgotten and the conversation is closed.
    assert await conversation_of(redis, session_id) is None
    assert (await redis.hget(keys.conversation(conv_id), "state")) == b"ended"

    # Coming back to the organisation's page in the same tab: nothing of the old chat is left.
    await tab.page.goto(f"{host_site.url}/")
    frame = await tab.chat_frame()
    assert await tab.session_storage(frame) == {}
    assert await frame.is_hidden("#panel")
    frame = await tab.open_chat()
    assert await child_texts(frame) == []
    assert (await tab.session_storage(frame))[STORAGE_KEY] != session_id


async def test_escape_twice_while_the_socket_is_down_ends_the_session_by_beacon(
    browse: Any, widget_gateway: Any, host_site: Any, redis: Redis
) -> None:
    tab: Session = await browse()
    tab.expected.append("Failed to load resource")
    await tab.page.goto(f"{host_site.url}/start")
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    await send(frame, "hej")
    await wait_acked(frame)
    session_id = (await tab.session_storage(frame))[STORAGE_KEY]
    conv_id = await conversation_of(redis, session_id)

    # The network blocks the chat's socket from now on, and the current connection drops.
    await tab.context.route("**/socket.io/**", lambda route: route.abort())
    await tab.context.route_web_socket("**/socket.io/**", lambda ws: ws.close())
    await drop_sockets(widget_gateway)
    await expect(frame.locator("#status")).to_have_attribute("data-status-key", "status.reconnecting")

    beacons: list[str] = []
    tab.page.on("request", lambda r: beacons.append(r.method) if r.url.endswith("/session/end") else None)
    await frame.focus("#input")
    await tab.page.keyboard.press("Escape")
    await tab.page.keyboard.press("Escape")
    await tab.page.wait_for_url(EXIT_URL)
    await tab.page.go_back()
    assert tab.page.url == f"{host_site.url}/start"
    assert beacons == ["POST"]
    for _ in range(50):
        if await conversation_of(redis, session_id) is None:
            break
        await asyncio.sleep(0.05)
    assert await conversation_of(redis, session_id) is None
    assert conv_id and (await redis.hget(keys.conversation(conv_id), "state")) == b"ended"

    # Same origin as the demo page, so the tab's sessionStorage for the gateway is the chat's: empty.
    await tab.page.goto(widget_gateway.url + "/healthz")
    assert await tab.page.evaluate("sessionStorage.length") == 0


async def test_end_chat_wipes_the_transcript_and_ends_the_conversation(
    browse: Any, widget_gateway: Any, redis: Redis
) -> None:
    tab: Session = await browse()
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    await send(frame, "min bild sprids")
    await wait_acked(frame)
    session_id = (await tab.session_storage(frame))[STORAGE_KEY]
    conv_id = await conversation_of(redis, session_id)

    await frame.click("#end")
    await expect(frame.locator("#confirm")).to_be_visible()
    await frame.click("#confirm-no")  # changing one's mind keeps everything
    assert await child_texts(frame) == ["min bild sprids"]
    await frame.click("#end")
    await frame.click("#confirm-yes")
    await expect(frame.locator("#ended")).to_be_visible()
    assert await frame.locator("#log .msg").count() == 0
    assert await tab.session_storage(frame) == {}
    for _ in range(50):
        if await conversation_of(redis, session_id) is None:
            break
        await asyncio.sleep(0.05)
    assert await conversation_of(redis, session_id) is None
    assert conv_id and (await redis.hget(keys.conversation(conv_id), "state")) == b"ended"

    # A reload shows nothing of it; a new chat starts fresh.
    await tab.page.reload()
    frame = await tab.chat_frame()
    assert await frame.is_hidden("#panel")
    frame = await tab.open_chat()
    assert await child_texts(frame) == []
    assert (await tab.session_storage(frame))[STORAGE_KEY] != session_id


async def test_keyboard_only(browse: Any, widget_gateway: Any) -> None:
    tab: Session = await browse()
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.chat_frame()
    keyboard = tab.page.keyboard
    for _ in range(30):  # Tab from the top of the page until the launcher has focus
        await keyboard.press("Tab")
        if await frame.evaluate("document.activeElement && document.activeElement.id") == "launcher":
            break
    else:
        raise AssertionError("the launcher cannot be reached with Tab")
    await keyboard.press("Enter")
    await frame.wait_for_selector("#log .msg--bot")
    assert await frame.evaluate("document.activeElement.id") == "input"
    await keyboard.type("hej från tangentbordet")
    await keyboard.press("Enter")
    await wait_acked(frame)
    assert await child_texts(frame) == ["hej från tangentbordet"]

    # Every control is in the Tab order, in reading order, and shows where the focus is.
    await frame.focus("#quick-exit")
    order = []
    for _ in range(20):
        active = await frame.evaluate(
            """() => { const a = document.activeElement;
                       return [a.id || a.className, getComputedStyle(a).outlineStyle]; }"""
        )
        order.append(active[0])
        assert active[1] != "none", f"no visible focus on {active[0]}"
        if active[0] == "end":
            break
        await keyboard.press("Tab")
    assert order[:4] == ["quick-exit", "language", "hide", "scroll"]
    assert order[-4:] == ["input", "send", "return-open", "end"]

    # A quick reply by keyboard.
    await frame.focus("#replies .btn-reply")
    await keyboard.press("Enter")
    await frame.wait_for_function("() => document.querySelectorAll('#log .msg--child').length === 2")
    await wait_acked(frame)

    # Hide and reopen: focus goes back to the launcher, then into the message box.
    await frame.focus("#hide")
    await keyboard.press("Enter")
    assert await frame.evaluate("document.activeElement.id") == "launcher"
    await keyboard.press("Enter")
    assert await frame.evaluate("document.activeElement.id") == "input"


async def test_phone_and_200_percent_zoom_use_the_whole_screen(browse: Any, widget_gateway: Any) -> None:
    for name, options in (
        (
            "widget-phone.png",
            {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
        ),
        # A 1280x720 screen at 200% zoom is a 640x360 viewport of CSS pixels.
        (None, {"viewport": {"width": 640, "height": 360}, "device_scale_factor": 2}),
    ):
        tab: Session = await browse(**options)
        await tab.page.goto(widget_gateway.url + "/")
        frame = await tab.open_chat()
        viewport = options["viewport"]
        box = await tab.page.locator("iframe[data-stodchat]").bounding_box()
        assert box == {"x": 0, "y": 0, "width": viewport["width"], "height": viewport["height"]}
        # Nothing sideways to scroll, and the quick exit, the message box and Send are on screen.
        assert await frame.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        for selector in ("#quick-exit", "#input", "#send"):
            control = await frame.locator(selector).bounding_box()
            assert control is not None
            assert control["x"] >= 0 and control["x"] + control["width"] <= viewport["width"] + 0.5, selector
            assert control["y"] >= 0 and control["y"] + control["height"] <= viewport["height"] + 0.5, (
                selector
            )
        await send(frame, "hej")
        await wait_acked(frame)
        if name:
            await settle_scroll(frame)
            await tab.page.screenshot(path=screenshot_path(name))


async def test_right_to_left_locale_and_switching_language(
    browse: Any, widget_gateway: Any, redis: Redis
) -> None:
    tab: Session = await browse(locale="ar", viewport={"width": 1100, "height": 760})
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    assert await frame.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
        "ar",
        "rtl",
    ]
    assert await frame.text_content("#title") == "دردشة الدعم"
    # Mirrored: the quick exit sits at the right edge, the panel's start in a right-to-left language.
    exit_box = await frame.locator("#quick-exit").bounding_box()
    hide_box = await frame.locator("#hide").bounding_box()
    assert exit_box and hide_box and exit_box["x"] > hide_box["x"]
    await send(frame, "مرحبا")
    await wait_acked(frame)
    session_id = (await tab.session_storage(frame))[STORAGE_KEY]
    conv_id = await conversation_of(redis, session_id)
    assert conv_id and await redis.hget(keys.conversation(conv_id), "locale") == b"ar"
    await settle_scroll(frame)
    await tab.page.screenshot(path=screenshot_path("widget-rtl.png"))

    # The language menu: the widget changes at once, the server stores the choice for its answers.
    await frame.select_option("#language", "en")
    await expect(frame.locator("#title")).to_have_text("Support chat")
    assert await frame.evaluate("document.documentElement.dir") == "ltr"
    for _ in range(50):
        if await redis.hget(keys.conversation(conv_id), "locale") == b"en":
            break
        await asyncio.sleep(0.05)
    assert await redis.hget(keys.conversation(conv_id), "locale") == b"en"
    # A reload keeps the chosen language (it lives with the conversation, not on the device).
    await tab.page.reload()
    frame = await tab.chat_frame()
    await expect(frame.locator("#title")).to_have_text("Support chat")


async def test_websocket_blocked_falls_back_to_long_polling(browse: Any, widget_gateway: Any) -> None:
    tab: Session = await browse()

    async def refuse(ws: WebSocketRoute) -> None:
        await ws.close()

    await tab.context.route_web_socket("**/socket.io/**", refuse)
    tab.expected.append("WebSocket")
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    await send(frame, "hej via polling")
    await wait_acked(frame)
    await frame.wait_for_function(
        "() => document.querySelector('#log').lastElementChild.matches('.msg--bot')"
    )
    assert await frame.evaluate("window.io !== undefined")


async def test_messages_written_offline_are_sent_once_on_reconnect(
    browse: Any, widget_gateway: Any, redis: Redis
) -> None:
    tab: Session = await browse()
    tab.expected.append("Failed to load resource")
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    session_id = (await tab.session_storage(frame))[STORAGE_KEY]

    blocked = True

    async def block(route: Any) -> None:
        await route.abort()

    async def websocket(ws: WebSocketRoute) -> None:
        if blocked:
            await ws.close()
        else:
            ws.connect_to_server()

    await tab.context.route("**/socket.io/**", block)
    await tab.context.route_web_socket("**/socket.io/**", websocket)
    await drop_sockets(widget_gateway)
    await expect(frame.locator("#status")).to_have_attribute("data-status-key", "status.reconnecting")
    await send(frame, "skrivet utan nät 1")
    await send(frame, "skrivet utan nät 2")
    await expect(frame.locator("#log .is-pending")).to_have_count(2)
    await expect(frame.locator("#log .is-pending .msg-status").first).to_be_visible()

    blocked = False
    await tab.context.unroute("**/socket.io/**", block)
    await wait_acked(frame)
    await expect(frame.locator("#status")).not_to_have_attribute("data-status-key", "status.reconnecting")
    conv_id = await conversation_of(redis, session_id)
    assert conv_id
    log = [entry.decode() for entry in await redis.lrange(keys.log(conv_id), 0, -1)]
    assert sum("skrivet utan nät 1" in e for e in log) == 1
    assert sum("skrivet utan nät 2" in e for e in log) == 1
    assert [e for e in log if "skrivet utan nät" in e] == sorted(e for e in log if "skrivet utan nät" in e)


async def test_chat_opened_on_its_own_exits_with_location_replace(
    browse: Any, widget_gateway: Any, host_site: Any, redis: Redis
) -> None:
    tab: Session = await browse()
    await tab.page.goto(f"{host_site.url}/start")
    await tab.page.goto(widget_gateway.url + "/chat")
    await tab.page.wait_for_selector("#log .msg--bot")  # opens by itself when not embedded
    session_id = await tab.page.evaluate(f"() => sessionStorage.getItem('{STORAGE_KEY}')")
    assert await conversation_of(redis, session_id)
    await tab.page.click("#quick-exit")
    await tab.page.wait_for_url(EXIT_URL)
    await tab.page.go_back()
    assert tab.page.url == f"{host_site.url}/start"
    for _ in range(50):
        if await conversation_of(redis, session_id) is None:
            break
        await asyncio.sleep(0.05)
    assert await conversation_of(redis, session_id) is None


async def test_rate_limited_messages_wait_and_go_out_in_order(
    browser: Any, gateway_factory: Any, settings: Any, redis: Redis, clock: FixedClock
) -> None:
    gateway = await gateway_factory(with_settings(settings, rate_limit_burst=2, rate_limit_per_minute=60))
    context = await browser.new_context(locale="sv-SE")
    try:
        page = await context.new_page()
        await page.goto(gateway.url + "/chat")
        await page.wait_for_selector("#log .msg--bot")
        for i in range(4):
            await send(page.main_frame, f"snabbt {i}")
        # The limit answers with a friendly notice; the widget waits and sends the rest by itself.
        await expect(page.locator("#log .msg--notice").first).to_be_visible()
        # The gateway's bucket refills on its clock, which the test moves while the widget waits.
        for _ in range(150):
            if await page.locator("#log .is-pending").count() == 0:
                break
            clock.advance(1)
            await asyncio.sleep(0.1)
        await expect(page.locator("#log .is-pending")).to_have_count(0, timeout=15000)
        session_id = await page.evaluate(f"() => sessionStorage.getItem('{STORAGE_KEY}')")
        conv_id = await conversation_of(redis, session_id)
        assert conv_id
        log = [entry.decode() for entry in await redis.lrange(keys.log(conv_id), 0, -1)]
        sent = [e for e in log if "snabbt" in e]
        assert [int(e.split("snabbt ")[1][0]) for e in sent] == [0, 1, 2, 3]
    finally:
        await context.close()


async def test_another_site_without_third_party_storage_still_chats_and_exits(
    browse: Any, widget_gateway: Any, host_site: Any, redis: Redis
) -> None:
    """Embedded by another *site* in a browser that blocks third-party storage (this chromium does, like
    Safari): no sessionStorage for the chat. It must still work; only a reload cannot resume."""
    host_site.gateway = widget_gateway.url  # 127.0.0.1: another site than localhost
    tab: Session = await browse()
    await tab.page.goto(f"{host_site.url}/start")
    await tab.page.goto(f"{host_site.url}/")
    frame = await tab.open_chat()
    storage = "() => { try { sessionStorage.length; return 'allowed'; } catch (e) { return 'blocked'; } }"
    assert await frame.evaluate(storage) == "blocked", "the premise of this test: no third-party storage"
    await send(frame, "hej från en annan sajt")
    await wait_acked(frame)
    assert len([key async for key in redis.scan_iter(keys.session("*"))]) == 1
    await frame.click("#quick-exit")
    await tab.page.wait_for_url(EXIT_URL)
    await tab.page.go_back()
    assert tab.page.url == f"{host_site.url}/start"
    # The id was only in memory, and the server still ended the session.
    for _ in range(50):
        if not [key async for key in redis.scan_iter(keys.session("*"))]:
            break
        await asyncio.sleep(0.05)
    assert [key async for key in redis.scan_iter(keys.session("*"))] == []


async def test_a_page_restored_from_the_back_forward_cache_forgets_an_exited_chat(
    browse: Any, widget_gateway: Any
) -> None:
    """Quick exit on another page of the tab cleared sessionStorage; this page, restored by Back from the
    browser's cache exactly as it was, must not show the old conversation. (This chromium runs without
    the back/forward cache, so the test plays its `pageshow` event.)"""
    tab: Session = await browse()
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    await send(frame, "hemligt")
    await wait_acked(frame)
    restore = "() => window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))"
    await frame.evaluate(restore)  # still the same session: nothing happens
    assert await child_texts(frame) == ["hemligt"]
    await frame.evaluate("() => sessionStorage.clear()")  # what quick exit elsewhere in the tab did
    await frame.evaluate(restore)
    assert await child_texts(frame) == []
    assert await frame.locator("#log .msg").count() == 0
    assert await frame.is_hidden("#panel")


async def test_while_redis_is_away_a_message_waits_says_reconnecting_and_goes_out_once(
    browser: Any, settings: Any, clock: FixedClock, tmp_path: Path
) -> None:
    """A Redis failover as the child sees it: the message gets `internal` from the gateway, the widget keeps
    it, says it is reconnecting and sends it again by itself; once Redis is back it is stored once."""
    own = RedisServer(tmp_path / "redis").start()
    again = RedisServer(tmp_path / "redis", port=own.port)
    gateway = Gateway(with_settings(settings, redis_url=own.url), clock)
    await gateway.start()
    context = await browser.new_context(locale="sv-SE")
    try:
        page = await context.new_page()
        await page.goto(gateway.url + "/chat")
        await page.wait_for_selector("#log .msg--bot")
        frame = page.main_frame
        session_id = await page.evaluate(f"() => sessionStorage.getItem('{STORAGE_KEY}')")
        own.stop()  # Redis goes away (a clean stop: the conversation so far is on disk)
        await send(frame, "under avbrottet")
        await expect(frame.locator("#status")).to_have_attribute("data-status-key", "status.reconnecting")
        await expect(frame.locator("#log .is-pending")).to_have_count(1)
        await expect(frame.locator("#log .is-failed")).to_have_count(0)
        # The same Redis comes back (as a promoted replica would, for the gateway): the widget's own
        # retries get the message through, once, and the status says the connection is back.
        again.start()
        await frame.wait_for_function(
            "() => document.querySelectorAll('#log .is-pending').length === 0", timeout=30000
        )
        await expect(frame.locator("#log .is-failed")).to_have_count(0)
        await expect(frame.locator("#status")).not_to_have_attribute("data-status-key", "status.reconnecting")
        back = Redis.from_url(own.url)
        try:
            conv_id = await conversation_of(back, session_id)
            assert conv_id
            log = [entry.decode() for entry in await back.lrange(keys.log(conv_id), 0, -1)]
            assert sum("under avbrottet" in e for e in log) == 1
        finally:
            await back.aclose()
    finally:
        await context.close()
        await gateway.stop()
        own.stop()
        again.stop()


async def test_widget_speaks_the_compact_protocol_and_resumes_after_a_drop_exactly_once(
    browse: Any, widget_gateway: Any, redis: Redis, clock: FixedClock
) -> None:
    """Issue 17: the widget asks for the extensions and gets one `turn` frame per answer (the ack and every
    bubble); after a dropped connection what the bot said while the child was cut off comes once."""
    tab: Session = await browse()
    tab.expected.append("Failed to load resource")
    sent: list[str] = []
    received: list[str] = []

    def on_socket(ws: Any) -> None:
        ws.on("framesent", lambda payload: sent.append(str(payload)))
        ws.on("framereceived", lambda payload: received.append(str(payload)))

    tab.page.on("websocket", on_socket)
    # The widget starts on long-polling and upgrades: on a busy machine its first frames go by HTTP.
    tab.page.on(
        "request",
        lambda request: (
            sent.append(request.post_data or "")
            if "/socket.io/" in request.url and request.method == "POST"
            else None
        ),
    )
    polled: list[Any] = []
    tab.page.on(
        "response",
        lambda response: (
            polled.append(response)
            if "/socket.io/" in response.url and response.request.method == "GET"
            else None
        ),
    )
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    await send(frame, "min bild sprids på snap")
    await wait_acked(frame)
    await expect(frame.locator("#log .msg--bot")).not_to_have_count(0)
    await frame.wait_for_function("() => document.querySelectorAll('#log .msg--bot').length > 2")
    for response in polled:
        # A long-polling payload carries several packets, separated by the record separator.
        received.extend((await response.text()).split("\x1e"))
    assert any('"session_request"' in f and '"extensions":1' in f for f in sent), sent
    turns = [f for f in received if f.startswith('42["turn"')]
    assert turns and any('"ack"' in f for f in turns)
    assert not any(f.startswith(('42["message_ack"', '42["bot_uttered"')) for f in received), received
    before = await frame.eval_on_selector_all("#log .msg--bot .bubble", "ns => ns.map(n => n.textContent)")

    # The network drops; while the widget is cut off a counsellor's process writes to the log, and the
    # child writes a message the widget keeps until it is back. Each arrives once: replay or live.
    session_id = (await tab.session_storage(frame))[STORAGE_KEY]
    conv_id = await conversation_of(redis, session_id)
    assert conv_id
    await drop_sockets(widget_gateway)
    console_store = ConversationStore(redis, announce_to=keys.NOTIFY_CHILDREN)
    now = clock.now()
    await console_store.append(
        conv_id,
        [Entry(Role.COUNSELLOR, "Hej, jag heter Sam och läser nu.", now, author="Sam")],
        now_ms=int(now.timestamp() * 1000),
        retention=3600,
    )
    await send(frame, "hur gör jag kontot privat")
    await wait_acked(frame)
    await expect(frame.locator("#log", has_text="Hej, jag heter Sam och läser nu.")).to_have_count(1)
    await asyncio.sleep(0.5)  # anything doubled by a replay would have arrived by now
    after = await frame.eval_on_selector_all("#log .msg--bot .bubble", "ns => ns.map(n => n.textContent)")
    assert after[: len(before)] == before
    assert await frame.locator("#log .bubble", has_text="Hej, jag heter Sam och läser nu.").count() == 1
    seqs = await frame.eval_on_selector_all("#log [data-seq]", "ns => ns.map(n => n.dataset.seq)")
    assert len(seqs) == len(set(seqs)), seqs
    log = [entry.decode() for entry in await redis.lrange(keys.log(conv_id), 0, -1)]
    assert sum("hur gör jag kontot privat" in e for e in log) == 1
