"""The widget's script as ES modules: event names held against protocol.py, every module served, linted."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp

from chatbot.gateway import protocol
from chatbot.gateway.widget import CHAT_MODULES, STATIC
from chatbot.settings import PROJECT_ROOT

CHAT = STATIC / "chat"
EVENTS = CHAT / "events.js"
# protocol.py's string constants that are not event names.
NOT_EVENTS = {"NAMESPACE", "SOCKETIO_PATH", "EXTENSIONS_KEY", "UPLOAD_START_PAYLOAD", "LEAVE_PAYLOAD"}
# socket.io's own events (the connection's life), which protocol.py does not define.
SOCKETIO_OWN = {"connect", "disconnect", "reconnect_attempt"}


def js_events() -> dict[str, str | int]:
    text = EVENTS.read_text(encoding="utf-8")
    found: dict[str, str | int] = {}
    for name, value in re.findall(r"^export const ([A-Z_]+) = (.+);", text, flags=re.M):
        found[name] = value.strip('"') if value.startswith('"') else int(value)
    return found


def python_events() -> dict[str, str | int]:
    events: dict[str, str | int] = {
        name: value
        for name, value in vars(protocol).items()
        if name.isupper() and isinstance(value, str) and name not in NOT_EVENTS
    }
    events["EXTENSIONS_VERSION"] = protocol.EXTENSIONS_VERSION
    return events


def test_the_event_names_in_events_js_are_those_of_protocol_py_both_ways() -> None:
    js, py = js_events(), python_events()
    assert len(py) >= 19, py  # the table in docs/protocol.md, so a broken regex cannot pass as "equal"
    assert {k: v for k, v in js.items() if k not in py} == {}, "in events.js, not in protocol.py"
    assert {k: v for k, v in py.items() if k not in js} == {}, "in protocol.py, not in events.js"
    assert js == py


def test_no_other_module_writes_an_event_name() -> None:
    """Every .on()/.emit() names its event through events.js (socket.io's own events excepted)."""
    modules = [p for p in sorted(CHAT.glob("*.js")) if p != EVENTS]
    assert len(modules) >= 10
    for path in modules:
        text = path.read_text(encoding="utf-8")
        literal = set(re.findall(r"""\.(?:on|emit)\(\s*["'`]([^"'`]+)["'`]""", text))
        assert literal <= SOCKETIO_OWN, (path.name, literal - SOCKETIO_OWN)
    uses = "\n".join(p.read_text(encoding="utf-8") for p in modules)
    for name in ("SESSION_REQUEST", "USER_UTTERED", "TURN", "SESSION_STATE", "ERROR", "TYPING"):
        assert f"events.{name}" in uses, name


def test_every_module_is_an_asset_and_every_import_resolves() -> None:
    files = {p.name for p in CHAT.glob("*.js")}
    assert {url.removeprefix("/chat/") for url in CHAT_MODULES} == files
    assert "main.js" in files and "chat.js" not in files
    for path in CHAT.glob("*.js"):
        for target in re.findall(r'^import .* from "\./([\w-]+\.js)";$', path.read_text(), flags=re.M):
            assert target in files, (path.name, target)


async def test_the_chat_page_loads_the_modules_under_its_policy(gateway: Any) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(gateway.url + "/chat") as response:
            html = await response.text()
            csp = response.headers["Content-Security-Policy"]
        assert '<script type="module" src="/chat/main.js"></script>' in html
        assert set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)) == set(CHAT_MODULES)
        # Module scripts from this origin only: no inline code, nothing from another host.
        assert "script-src 'self';" in csp and "unsafe" not in csp
        for url in CHAT_MODULES:
            async with http.get(gateway.url + url) as response:
                assert response.status == 200, url
                # A module with another type is refused by the browser: text/javascript exactly.
                assert response.headers["Content-Type"] == "text/javascript; charset=utf-8", url
                assert response.headers["Cache-Control"] == "no-store", url
                assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin", url
                assert response.headers["X-Content-Type-Options"] == "nosniff", url
                assert (await response.read()) == (CHAT / url.removeprefix("/chat/")).read_bytes()


def test_eslint_finds_nothing_in_the_widgets_javascript() -> None:
    eslint = PROJECT_ROOT / "node_modules" / ".bin" / "eslint"
    assert eslint.exists(), "run scripts/setup (npm ci installs eslint)"
    assert shutil.which("node"), "node is needed for eslint"
    run = subprocess.run(
        [str(eslint), "--max-warnings", "0", "chatbot/static", "console/static"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (Path(PROJECT_ROOT) / "eslint.config.mjs").is_file()
