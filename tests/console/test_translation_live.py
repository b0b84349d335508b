"""The workspace reaches running gateways without a restart: a supervisor's language switch changes the
widget's menu (and what the gateway accepts) within seconds, a saved widget string is served at once, and a
child mid-chat in a language switched off goes on in Swedish."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from chatbot.content.widget_catalogs import WidgetCatalogs
from chatbot.redis_server import RedisServer
from chatbot.settings import PROJECT_ROOT, Settings
from chatbot.translation.serving import widget_catalogs
from chatbot.translation.units import catalog_locales, read_translations, widget_units
from chatbot.translation.workspace import LanguageSettings
from tests.console.conftest import Console
from tests.console.test_translation_pages import field, signed_in

LOCALES = PROJECT_ROOT / "locales"


@pytest.fixture
def settings(redis_server: RedisServer, tmp_path: Path) -> Settings:
    # Arabic is safe-complete but this deployment does not offer it: only a supervisor's switch can.
    return Settings(
        redis_url=redis_server.url,
        session_secret=Settings().session_secret,
        offered_locales=("sv", "en"),
    )


def get_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


async def menu(gateway: Any) -> list[str]:
    _, catalog = await asyncio.to_thread(get_json, gateway.url + "/locales/widget/sv.json")
    return [language["code"] for language in catalog["languages"]]


async def within(seconds: float, ok: Callable[[], Awaitable[bool]]) -> float:
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await ok():
        assert loop.time() - started < seconds, "not adopted in time"
        await asyncio.sleep(0.05)
    return loop.time() - started


def test_the_files_alone_serve_what_the_catalog_loader_serves() -> None:
    # Without workspace edits, the workspace's rule and the loader's give a child the same strings.
    loaded = WidgetCatalogs.load(LOCALES, "sv")
    built = widget_catalogs(
        widget_units(LOCALES), read_translations(LOCALES, catalog_locales(LOCALES)), {}, {}, "sv"
    )
    assert built.locales == loaded.locales
    for locale in loaded.locales:
        assert built.as_json(locale)["messages"] == loaded.as_json(locale)["messages"], locale
    # A language held back from serving unreviewed strings falls back to Swedish for those.
    held = widget_catalogs(
        widget_units(LOCALES),
        read_translations(LOCALES, catalog_locales(LOCALES)),
        {},
        {"ar": LanguageSettings(serve_unreviewed=False)},
        "sv",
    )
    arabic = held.get("ar")
    assert arabic is not None and arabic.unreviewed == () and arabic.fallbacks


async def test_a_switched_on_language_reaches_the_menu_live_and_a_child_mid_chat_keeps_a_chat_when_it_is_switched_off(
    console: Console,
    make_account: Any,
    staff_factory: Any,
    gateway_factory: Any,
    child_factory: Any,
    settings: Settings,
) -> None:
    gateway = await gateway_factory(settings)
    assert await menu(gateway) == ["sv", "en"]
    status, refused = await asyncio.to_thread(get_json, gateway.url + "/locales/widget/ar.json")
    assert status == 404 and refused["available"] == ["sv", "en"]

    sara = await signed_in(make_account, staff_factory, "sara", "supervisor")
    await sara.get("/translate")
    assert "msg=" in await sara.redirected("/translate/ar/switch", {"on": "1"})
    took = await within(10, lambda: _has(gateway, "ar"))
    assert took < 10
    assert await menu(gateway) == ["sv", "ar", "en"]
    status, arabic = await asyncio.to_thread(get_json, gateway.url + "/locales/widget/ar.json")
    assert status == 200 and arabic["dir"] == "rtl"

    child = child_factory(gateway.url)
    await child.connect()
    state = await child.start(locale="ar")
    assert state["locale"] == "ar"
    await child.drain(0.3)

    assert "msg=" in await sara.redirected("/translate/ar/switch", {"on": ""})
    await within(10, lambda: _lacks(gateway, "ar"))
    # A reload (a second socket resuming the same session, its widget still in Arabic) goes on in Swedish.
    reloaded = child_factory(gateway.url)
    await reloaded.connect()
    resumed = await reloaded.start(session_id=state["session_id"], locale="ar")
    assert resumed["resumed"] is True and resumed["locale"] == "sv" and resumed["withdrawn"] is True
    await reloaded.close()
    # The child's next message: told the conversation goes on in Swedish, then answered in Swedish.
    await child.say("/thanks", client_id="after-switch-off")
    moved = await child.expect("session_state")
    assert moved["locale"] == "sv" and moved["withdrawn"] is True
    said = await child.expect("bot_uttered")
    assert said["text"].startswith("Tack")
    actions = [(e.actor, e.action) for e in await console.audit.entries()]
    assert ("sara", "language.switched_on.ar") in actions
    assert ("sara", "language.switched_off.ar") in actions


async def test_a_saved_widget_string_is_served_by_the_running_gateway_without_a_restart(
    console: Console,
    make_account: Any,
    staff_factory: Any,
    gateway_factory: Any,
    settings: Settings,
) -> None:
    gateway = await gateway_factory(settings)
    tina = await signed_in(make_account, staff_factory, "tina", "translator")
    back = "/translate/en/strings/widget"
    status, page = await tina.get(back)
    assert status == 200
    text = "You stay anonymous. We never ask who you are."
    location = await tina.redirected(
        "/translate/en/save",
        {
            "domain": "widget",
            "key": "app.anonymous",
            "text": text,
            "seen": field(page, "app.anonymous", "seen"),
            "back": back,
        },
    )
    assert "msg=saved" in location

    async def served() -> bool:
        _, catalog = await asyncio.to_thread(get_json, gateway.url + "/locales/widget/en.json")
        return bool(catalog["messages"]["app.anonymous"] == text)

    assert await within(10, served) < 10
    # A supervisor holds unreviewed translations back: a widget string would be Swedish, so English is no
    # longer safe-complete and leaves the menu; a second translator's review brings it back, new text and all.
    sara = await signed_in(make_account, staff_factory, "sara", "supervisor")
    await sara.get("/translate")
    await sara.redirected("/translate/en/serving", {"serve_unreviewed": ""})
    await within(10, lambda: _lacks(gateway, "en"))
    status, _ = await asyncio.to_thread(get_json, gateway.url + "/locales/widget/en.json")
    assert status == 404
    rami = await signed_in(make_account, staff_factory, "rami", "translator")
    await rami.get(back)
    assert "msg=reviewed" in await rami.redirected(
        "/translate/en/review", {"domain": "widget", "key": "app.anonymous", "back": back}
    )
    await within(10, lambda: _has(gateway, "en"))
    assert await served()


async def _has(gateway: Any, code: str) -> bool:
    return code in await menu(gateway)


async def _lacks(gateway: Any, code: str) -> bool:
    return code not in await menu(gateway)


async def test_a_saved_console_string_is_shown_by_the_running_console_without_a_restart(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    tina = staff_factory()
    assert await tina.login(await make_account("tina", "translator", language="sv")) == 303
    back = "/translate/sv/strings/console"
    _, page = await tina.get(back)
    _, dashboard = await tina.get("/translate")
    assert "<h1>Översättning</h1>" in dashboard
    location = await tina.redirected(
        "/translate/sv/save",
        {
            "domain": "console",
            "key": "Translation",
            "text": "Översättningar",
            "seen": field(page, "Translation", "seen"),
            "back": back,
        },
    )
    assert "msg=saved" in location

    async def shown() -> bool:
        _, dashboard = await tina.get("/translate")
        return "<h1>Översättningar</h1>" in dashboard

    assert await within(10, shown) < 10
