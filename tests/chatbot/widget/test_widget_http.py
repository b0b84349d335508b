"""The widget's HTTP side: headers and CSP of the chat page, assets, strings as JSON, the exit beacon, set_locale."""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from chatbot.domain.sessions import session_hash
from chatbot.gateway.widget import SOCKETIO_CLIENT
from chatbot.settings import Settings, SettingsError
from chatbot.store import keys
from tests.conftest import with_settings

CONFIG = re.compile(r'<script type="application/json" id="stodchat-config">(.*?)</script>', re.S)


def directives(csp: str) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in csp.split("; ")}


async def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return response.status, dict(response.headers), await response.read()


async def post(url: str, body: bytes, content_type: str = "text/plain") -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=body, headers={"Content-Type": content_type}) as response,
    ):
        return response.status, await response.read()


async def test_chat_page_has_a_strict_policy_and_no_cookie(gateway_factory: Any, settings: Any) -> None:
    gateway = await gateway_factory(
        with_settings(settings, frame_ancestors=("'self'", "https://www.example.org"))
    )
    status, headers, body = await get(gateway.url + "/chat?host=https%3A%2F%2Fwww.example.org")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    host = gateway.url.removeprefix("http://")
    assert directives(headers["Content-Security-Policy"]) == {
        "default-src": "'none'",
        "script-src": "'self'",
        "style-src": "'self'",
        "connect-src": f"'self' ws://{host} wss://{host}",
        "img-src": "'self' data:",
        "frame-ancestors": "'self' https://www.example.org",
        "base-uri": "'none'",
        "form-action": "'none'",
        "require-trusted-types-for": "'script'",
        "trusted-types": "'none'",
    }
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in headers["Permissions-Policy"] and "microphone=()" in headers["Permissions-Policy"]
    assert "Set-Cookie" not in headers
    html = body.decode()
    # No inline script or style anywhere: only the JSON data block, which the browser does not run.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [
        '<script type="application/json" id="stodchat-config">'
    ]
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)
    config = json.loads(CONFIG.search(html).group(1))  # type: ignore[union-attr]
    assert config["hostOrigin"] == "https://www.example.org"
    assert config["exitUrl"] == settings.exit_url
    assert config["maxChars"] == settings.max_message_chars
    assert config["catalog"]["locale"] == "sv"


@pytest.mark.parametrize(
    ("accept", "locale", "direction"),
    [
        ("sv-SE,sv;q=0.9,en;q=0.8", "sv", "ltr"),
        ("en-GB,en;q=0.9", "en", "ltr"),
        ("ar-SE", "ar", "rtl"),
        ("de-DE,de;q=0.9", "sv", "ltr"),
        ("", "sv", "ltr"),
        ("x" * 500, "sv", "ltr"),
    ],
)
async def test_chat_page_language_follows_the_browser(
    gateway: Any, accept: str, locale: str, direction: str
) -> None:
    _, _, body = await get(gateway.url + "/chat", **({"Accept-Language": accept} if accept else {}))
    html = body.decode()
    assert f'<html lang="{locale}" dir="{direction}">' in html
    config = json.loads(CONFIG.search(html).group(1))  # type: ignore[union-attr]
    assert config["catalog"]["locale"] == locale and config["catalog"]["dir"] == direction


@pytest.mark.parametrize(
    "host",
    ["javascript:alert(1)", "*", "https://evil.example/path", "https://a b", "http://x" + "y" * 300, ""],
)
async def test_a_bad_host_origin_is_dropped(gateway: Any, host: str) -> None:
    _, _, body = await get(gateway.url + "/chat?host=" + aiohttp.helpers.quote(host, safe=""))
    config = json.loads(CONFIG.search(body.decode()).group(1))  # type: ignore[union-attr]
    assert config["hostOrigin"] is None


async def test_config_cannot_break_out_of_its_data_block(gateway_factory: Any, settings: Any) -> None:
    gateway = await gateway_factory(with_settings(settings, exit_url="https://x.example/</script><b>"))
    _, _, body = await get(gateway.url + "/chat")
    html = body.decode()
    assert "</script><b>" not in html
    config = json.loads(CONFIG.search(html).group(1))  # type: ignore[union-attr]
    assert config["exitUrl"] == "https://x.example/</script><b>"


async def test_assets_are_served_from_the_gateway(gateway: Any) -> None:
    status, headers, body = await get(gateway.url + "/widget.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert headers["Cross-Origin-Resource-Policy"] == "cross-origin"  # other sites embed the loader
    status, headers, body = await get(gateway.url + "/vendor/socket.io.min.js", **{"Accept-Encoding": "gzip"})
    assert status == 200 and body == SOCKETIO_CLIENT.read_bytes()
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    for path in ("/chat/main.js", "/chat/events.js", "/chat/chat.css", "/demo.css", "/"):
        status, headers, _ = await get(gateway.url + path)
        assert status == 200, path
    for path in ("/chat/../settings.py", "/vendor/axe.min.js", "/node_modules/axe-core/axe.min.js"):
        status, _, _ = await get(gateway.url + path)
        assert status == 404, path


async def test_catalog_json(gateway: Any) -> None:
    status, headers, body = await get(gateway.url + "/locales/widget/en.json")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    data = json.loads(body)
    assert data["locale"] == "en" and data["dir"] == "ltr"
    assert data["messages"]["quick_exit.label"] == "Quick exit"
    assert [lang["code"] for lang in data["languages"]] == ["sv", "ar", "en"]
    assert {lang["code"]: lang["dir"] for lang in data["languages"]}["ar"] == "rtl"
    status, _, body = await get(gateway.url + "/locales/widget/de.json")
    assert status == 404 and json.loads(body) == {
        "code": "unsupported_locale",
        "available": ["sv", "ar", "en"],
    }
    status, _, _ = await get(gateway.url + "/locales/widget/..%2F..%2Fsettings.json")
    assert status == 404


async def _started(child_factory: Any, gateway: Any) -> Any:
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    return child


async def test_beacon_ends_the_session_and_tells_its_sockets(
    gateway: Any, child_factory: Any, redis: Redis
) -> None:
    child = await _started(child_factory, gateway)
    conv_id = (await redis.get(keys.session(session_hash(child.session_id)))).decode()
    status, body = await post(
        gateway.url + "/session/end", child.session_id.encode(), "text/plain;charset=UTF-8"
    )
    assert status == 204 and body == b""
    assert await redis.get(keys.session(session_hash(child.session_id))) is None
    assert await redis.hget(keys.conversation(conv_id), "state") == b"ended"
    assert await child.expect("session_ended") == {}
    # Ending again, or an id that never existed: the same quiet answer.
    assert (await post(gateway.url + "/session/end", child.session_id.encode()))[0] == 204
    assert (await post(gateway.url + "/session/end", b"A" * 43))[0] == 204
    # The id cannot resume.
    state = await child.start(session_id=child.session_id)
    assert state["resumed"] is False


async def test_beacon_accepts_json_too(gateway: Any, child_factory: Any, redis: Redis) -> None:
    child = await _started(child_factory, gateway)
    body = json.dumps({"session_id": child.session_id}).encode()
    assert (await post(gateway.url + "/session/end", body, "application/json"))[0] == 204
    assert await redis.get(keys.session(session_hash(child.session_id))) is None


@pytest.mark.parametrize(
    "body",
    [b"", b"not-an-id", b"\xff\xfe", b"{not json", b'{"session_id": 5}', b"[1]", b"A" * 600],
)
async def test_beacon_rejects_bad_bodies_with_a_typed_error(gateway: Any, body: bytes) -> None:
    status, answer = await post(gateway.url + "/session/end", body)
    assert status == 400
    assert json.loads(answer)["code"] == "malformed_payload"
    # And the gateway is fine afterwards.
    assert (await get(gateway.url + "/healthz"))[0] == 200


async def test_set_locale_switches_the_conversation_language(
    gateway: Any, child_factory: Any, redis: Redis
) -> None:
    child = await _started(child_factory, gateway)
    conv_id = (await redis.get(keys.session(session_hash(child.session_id)))).decode()
    await child.sio.emit("set_locale", {"locale": "en"})
    state = await child.expect("session_state")
    assert state["locale"] == "en" and state["session_id"] == child.session_id and state["resumed"] is True
    assert await redis.hget(keys.conversation(conv_id), "locale") == b"en"
    # A resumed session keeps it.
    other = child_factory(gateway.url)
    await other.connect()
    assert (await other.start(session_id=child.session_id, last_seq=0))["locale"] == "en"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"locale": "de"}, "unsupported_locale"),
        ({"locale": "../../etc"}, "unsupported_locale"),
        ({"locale": 5}, "malformed_payload"),
        ({}, "malformed_payload"),
        ("en", "malformed_payload"),
    ],
)
async def test_set_locale_rejects_what_it_cannot_use(
    gateway: Any, child_factory: Any, redis: Redis, payload: Any, code: str
) -> None:
    child = await _started(child_factory, gateway)
    conv_id = (await redis.get(keys.session(session_hash(child.session_id)))).decode()
    await child.sio.emit("set_locale", payload)
    error = await child.expect("error")
    assert error["code"] == code
    if code == "unsupported_locale":
        assert error["available"] == ["ar", "en", "sv"]
    assert await redis.hget(keys.conversation(conv_id), "locale") == b"sv"
    await child.say("hej", client_id="after")  # the connection is still fine
    assert (await child.expect("message_ack"))["client_id"] == "after"


async def test_set_locale_needs_a_session(gateway: Any, child_factory: Any) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    await child.sio.emit("set_locale", {"locale": "en"})
    assert (await child.expect("error"))["code"] == "no_session"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FRAME_ANCESTORS": "'self'; script-src *"}, "FRAME_ANCESTORS"),
        ({"FRAME_ANCESTORS": "https://ok.example, javascript:x"}, "FRAME_ANCESTORS"),
        ({"EXIT_URL": "javascript:alert(1)"}, "EXIT_URL"),
        ({"EXIT_URL": "/weather"}, "EXIT_URL"),
        ({"EXIT_URL": 'https://x.example/"><b>'}, "EXIT_URL"),
    ],
)
def test_widget_settings_are_checked_at_start(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_widget_settings_accept_origins_and_wildcards() -> None:
    settings = Settings.from_env(
        {
            "FRAME_ANCESTORS": "'self', https://www.example.org, https://*.example.org:8443",
            "EXIT_URL": "https://yr.no/",
        }
    )
    assert settings.frame_ancestors == ("'self'", "https://www.example.org", "https://*.example.org:8443")
    assert settings.exit_url == "https://yr.no/"


async def test_every_gateway_response_asks_for_https_only(gateway_factory: Any, settings: Any) -> None:
    gateway = await gateway_factory(settings)
    year = "max-age=31536000; includeSubDomains"
    async with aiohttp.ClientSession() as http:
        for method, path in (
            ("GET", "/"),
            ("GET", "/healthz"),
            ("GET", "/chat"),
            ("GET", "/nope"),  # an error page too
            ("GET", "/socket.io/?EIO=4&transport=polling"),  # socket.io answers without our handlers
            ("POST", "/upload/v1/start"),  # refused: no upload token
        ):
            async with http.request(method, gateway.url + path) as response:
                assert response.headers.get("Strict-Transport-Security") == year, (method, path)
    shorter = await gateway_factory(with_settings(settings, hsts_max_age=600))
    status, headers, _ = await get(shorter.url + "/healthz")
    assert status == 200 and headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains"


def test_hsts_max_age_is_a_duration() -> None:
    assert Settings.from_env({}).hsts_max_age == 365 * 86400
    assert Settings.from_env({"HSTS_MAX_AGE": "2h"}).hsts_max_age == 7200
    assert Settings.from_env({"HSTS_MAX_AGE": "0"}).hsts_max_age == 0  # how a site withdraws it
    with pytest.raises(SettingsError, match="HSTS_MAX_AGE"):
        Settings.from_env({"HSTS_MAX_AGE": "forever"})
