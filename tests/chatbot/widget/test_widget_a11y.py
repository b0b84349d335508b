"""Accessibility of the open widget: an axe-core audit (WCAG 2.1 A and AA) in chromium, and reduced motion.

axe-core comes from the project's node_modules and is injected by the test only; children never get it.
Injecting a script needs `bypass_csp` (the chat's CSP forbids any script not served by the gateway),
so only these contexts bypass it; every other browser test runs under the real policy.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.async_api import Frame, Page, Route

from tests.chatbot.widget.conftest import Session, open_upload, png

AXE = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


async def audit(target: Frame | Page) -> list[dict[str, Any]]:
    """Violations of serious or critical impact, with the offending elements, from axe.run()."""
    assert AXE.is_file(), "axe-core is missing: run scripts/setup (npm ci)"
    if not await target.evaluate("() => typeof window.axe !== 'undefined'"):
        await target.add_script_tag(path=str(AXE))
    result = await target.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}, iframes: false});
            return r.violations.map(v => ({id: v.id, impact: v.impact,
                                           nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
        }""",
        WCAG_21_AA,
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


async def test_open_widget_has_no_serious_or_critical_violations(browse: Any, widget_gateway: Any) -> None:
    tab: Session = await browse(bypass_csp=True, viewport={"width": 1100, "height": 760})
    await tab.page.goto(widget_gateway.url + "/")
    frame = await tab.chat_frame()
    assert await audit(frame) == [], "closed launcher"
    assert await audit(tab.page) == [], "host page with the launcher"

    frame = await tab.open_chat()
    await frame.fill("#input", "hej")
    await frame.press("#input", "Enter")
    await frame.wait_for_function("() => document.querySelectorAll('#log .is-pending').length === 0")
    await frame.wait_for_selector("#replies .btn-reply")
    violations = await audit(frame)
    assert violations == [], json.dumps(violations, indent=1, ensure_ascii=False)

    # The audit sees this frame: an unlabelled icon button is caught (then removed again).
    await frame.evaluate(
        """() => { const b = document.createElement("button"); b.id = "probe";
                   document.querySelector("#replies").appendChild(b); }"""
    )
    assert "button-name" in [v["id"] for v in await audit(frame)]
    await frame.evaluate("() => document.querySelector('#probe').remove()")

    await frame.click("#end")
    assert await audit(frame) == [], "end chat confirmation"
    await frame.click("#confirm-yes")
    await frame.wait_for_selector("#ended", state="visible")
    assert await audit(frame) == [], "ended"


async def test_right_to_left_and_phone_have_no_serious_or_critical_violations(
    browse: Any, widget_gateway: Any
) -> None:
    for options in (
        {"locale": "ar", "viewport": {"width": 1100, "height": 760}},
        {"locale": "en-GB", "viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    ):
        tab: Session = await browse(bypass_csp=True, **options)
        await tab.page.goto(widget_gateway.url + "/")
        frame = await tab.open_chat()
        await frame.wait_for_selector("#replies .btn-reply")
        violations = await audit(frame)
        assert violations == [], (options["locale"], violations)


async def test_upload_panel_has_no_serious_or_critical_violations(browse: Any, widget_gateway: Any) -> None:
    """Every step of the encrypted upload: the form, its problems, the progress, the case code."""
    held: list[Route] = []

    async def hold(route: Route) -> None:
        if route.request.method == "PUT" and not held:
            held.append(route)  # answered below, once the progress view has been audited
            return
        await route.continue_()

    for options in (
        {"viewport": {"width": 1100, "height": 760}},
        {"locale": "ar", "viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    ):
        held.clear()
        tab: Session = await browse(bypass_csp=True, **options)
        await tab.context.route("**/upload/v1/files/*", hold)
        await tab.page.goto(widget_gateway.url + "/")
        frame = await tab.open_chat()
        if options.get("locale") == "ar":
            await frame.click("#replies .btn-reply >> nth=0")  # the first answer: get a picture removed
            await frame.wait_for_selector("#replies .btn-reply >> nth=1")
            await frame.click("#replies .btn-reply >> nth=0")  # send it to us: opens the panel
            await frame.wait_for_selector("#upload-keep:not([hidden])")
        else:
            await open_upload(frame)
        assert await audit(frame) == [], ("form", options)
        await frame.click("#upload-send")
        await frame.wait_for_selector("#upload-problem:not([hidden])")
        assert await audit(frame) == [], ("problem", options)
        await frame.check("input[name='upload-age'][value='16_17']")
        await frame.check("#upload-consent")
        await frame.set_input_files(
            "#upload-files", [{"name": "bild.png", "mimeType": "image/png", "buffer": png()}]
        )
        await frame.click("#upload-send")
        await frame.wait_for_selector("#upload-progress:not([hidden]) progress[value]")
        assert await audit(frame) == [], ("progress", options)
        while not held:
            await frame.wait_for_timeout(50)
        await held[0].continue_()
        await frame.wait_for_selector("#upload-done", state="visible")
        assert await audit(frame) == [], ("case code", options)


async def test_reduced_motion_is_honoured(browse: Any, widget_gateway: Any) -> None:
    animation = "() => getComputedStyle(document.querySelector('#typing .dot')).animationName"
    for preference, expected in (("reduce", "none"), ("no-preference", "breathe")):
        tab: Session = await browse(reduced_motion=preference)
        await tab.page.goto(widget_gateway.url + "/")
        frame = await tab.open_chat()
        assert await frame.evaluate(animation) == expected
        behaviour = await frame.evaluate(
            "() => getComputedStyle(document.querySelector('#scroll')).scrollBehavior"
        )
        assert behaviour == ("auto" if preference == "reduce" else "smooth")


async def test_return_code_panel_and_code_form_have_no_serious_or_critical_violations(
    browse: Any, widget_gateway: Any, clock: Any
) -> None:
    """Leaving the chat for the counsellors out of hours: the code panel, and the form for coming back."""
    clock.set(datetime(2026, 11, 27, 18, 0, tzinfo=UTC))  # Friday 19:00 in Stockholm: closed
    for locale in ("sv-SE", "ar"):
        tab: Session = await browse(bypass_csp=True, locale=locale, viewport={"width": 1100, "height": 760})
        await tab.page.goto(widget_gateway.url + "/")
        frame = await tab.open_chat()
        await frame.fill("#input", "kan jag prata med en människa")
        await frame.press("#input", "Enter")
        leave = frame.locator("#replies button").first
        await leave.wait_for()
        await frame.click("#replies button >> nth=0")
        await frame.wait_for_selector("#return-panel", state="visible")
        violations = await audit(frame)
        assert violations == [], (locale, "return code", violations)
        await frame.click("#return-close")
        await frame.click("#return-open")
        await frame.fill("#resume-input", "fel kod")
        await frame.click("#resume-send")
        await frame.wait_for_selector("#resume-problem", state="visible")
        violations = await audit(frame)
        assert violations == [], (locale, "code form", violations)
