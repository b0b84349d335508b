"""Languages in a real chromium: Arabic crisis help with tappable, correctly ordered numbers; buttons follow a switch."""

from __future__ import annotations

import json
from typing import Any

from playwright.async_api import Frame, expect

from chatbot.content.library import ContentLibrary
from chatbot.settings import PROJECT_ROOT
from tests.chatbot.widget.conftest import Session
from tests.chatbot.widget.test_widget_a11y import audit

LIBRARY = ContentLibrary.load(PROJECT_ROOT / "content", PROJECT_ROOT / "locales")
CRISIS_AR = [r.text for r in LIBRARY.replies("crisis", "ar")]
CRISIS_SV = [r.text for r in LIBRARY.replies("crisis", "sv")]


async def send(frame: Frame, text: str) -> None:
    await frame.fill("#input", text)
    await frame.press("#input", "Enter")


async def crisis_links(frame: Frame) -> list[dict[str, Any]]:
    """The tel: links of the bubble that starts the crisis answer, each with where its digits are drawn."""
    await frame.wait_for_selector("#log .msg--bot .bubble a.tel[href='tel:90101']")
    links: list[dict[str, Any]] = await frame.eval_on_selector_all(
        "#log .msg--bot .bubble a.tel",
        """links => links.map(a => {
            const text = a.firstChild;
            const xs = [];
            for (let i = 0; i < text.length; i += 1) {
                const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
                xs.push(r.getBoundingClientRect().x);
            }
            return {href: a.getAttribute("href"), text: a.textContent, isolate: a.parentElement.tagName,
                    dir: a.parentElement.getAttribute("dir"), direction: getComputedStyle(a).direction,
                    bubbleDirection: getComputedStyle(a.closest(".bubble")).direction, xs};
        })""",
    )
    return links


def assert_readable(links: list[dict[str, Any]], bubble_direction: str) -> None:
    hrefs = [link["href"] for link in links]
    assert hrefs[:3] == ["tel:112", "tel:116111", "tel:90101"], hrefs
    for link in links:
        assert link["isolate"] == "BDI" and link["dir"] == "ltr" and link["direction"] == "ltr"
        assert link["bubbleDirection"] == bubble_direction
        # Left to right on screen, digit after digit, also inside right-to-left text ("116 111", not "111 116").
        drawn = [x for ch, x in zip(link["text"], link["xs"], strict=True) if ch != " "]
        assert drawn == sorted(drawn), link


async def test_an_arabic_child_gets_the_crisis_answer_in_arabic_with_tel_links(
    browse: Any, widget_gateway: Any
) -> None:
    tab: Session = await browse(bypass_csp=True, locale="ar", viewport={"width": 1100, "height": 760})
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    await frame.wait_for_selector("#replies .btn-reply")
    await send(frame, "لا أريد أن أعيش بعد الآن")
    links = await crisis_links(frame)
    bubbles = await frame.locator("#log .msg--bot .bubble").all_text_contents()
    assert bubbles[-len(CRISIS_AR) :] == CRISIS_AR
    assert "Förlåt" not in " ".join(bubbles)
    assert_readable(links, "rtl")
    # The buttons are Arabic too.
    await expect(frame.get_by_role("button", name="التحدث مع شخص الآن", exact=True)).to_be_visible()
    violations = await audit(frame)
    assert violations == [], json.dumps(violations, indent=1, ensure_ascii=False)


async def test_a_swedish_widget_with_an_arabic_crisis_message_answers_in_arabic(
    browse: Any, widget_gateway: Any
) -> None:
    tab: Session = await browse(locale="sv-SE", viewport={"width": 1100, "height": 760})
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    assert await frame.evaluate("document.documentElement.lang") == "sv"
    await send(frame, "بدي موت")
    links = await crisis_links(frame)
    bubbles = await frame.locator("#log .msg--bot .bubble").all_text_contents()
    assert bubbles[-len(CRISIS_AR) :] == CRISIS_AR
    assert_readable(links, "rtl")
    # A Swedish crisis message keeps the Swedish answer, with the same tappable numbers.
    await send(frame, "jag vill inte leva längre")
    await frame.wait_for_function(
        "(first) => [...document.querySelectorAll('#log .msg--bot .bubble')].some(b => b.textContent === first)",
        arg=CRISIS_SV[0],
    )


async def test_switching_language_re_renders_the_buttons_on_screen(browse: Any, widget_gateway: Any) -> None:
    tab: Session = await browse(locale="sv-SE", viewport={"width": 1100, "height": 760})
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    swedish = [r.title for r in LIBRARY.replies("welcome", "sv")[-1].quick_replies]
    arabic = [r.title for r in LIBRARY.replies("welcome", "ar")[-1].quick_replies]
    english = [r.title for r in LIBRARY.replies("welcome", "en")[-1].quick_replies]
    await expect(frame.locator("#replies .btn-reply")).to_have_text(swedish)

    await frame.select_option("#language", "ar")
    await expect(frame.locator("#replies .btn-reply")).to_have_text(arabic)
    await frame.select_option("#language", "en")
    await expect(frame.locator("#replies .btn-reply")).to_have_text(english)

    # A relabelled button still works, and what follows comes in the new language.
    await frame.get_by_role("button", name=english[0], exact=True).click()
    takedown = [r.title for r in LIBRARY.replies("takedown_help", "en")[-1].quick_replies]
    await expect(frame.locator("#replies .btn-reply")).to_have_text(takedown)
    await frame.select_option("#language", "ar")
    arabic_takedown = [r.title for r in LIBRARY.replies("takedown_help", "ar")[-1].quick_replies]
    await expect(frame.locator("#replies .btn-reply")).to_have_text(arabic_takedown)


async def test_a_language_the_bot_cannot_read_is_told_so_in_the_widgets_language(
    browse: Any, widget_gateway: Any
) -> None:
    tab: Session = await browse(locale="sv-SE", viewport={"width": 1100, "height": 760})
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.open_chat()
    await send(frame, "Nie wiem co robić, ktoś wysłał moje zdjęcie")
    expected = [r.text for r in LIBRARY.replies("language_unknown", "sv")]
    await frame.wait_for_function(
        "(first) => [...document.querySelectorAll('#log .msg--bot .bubble')].some(b => b.textContent === first)",
        arg=expected[0],
    )
    links = await crisis_links(frame)
    assert_readable(links, "ltr")
    fallback = LIBRARY.replies("fallback", "sv")[0].text
    assert fallback not in await frame.locator("#log .msg--bot .bubble").all_text_contents()
