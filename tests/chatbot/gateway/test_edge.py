"""The edge strangers reach: text that cannot be encoded, and one child's bad input never fails another's write."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from redis.asyncio import Redis

from chatbot.store import keys

SURROGATE = "\ud800"


async def _stored_texts(redis: Redis, conv_ids: list[bytes]) -> list[str]:
    import json

    texts: list[str] = []
    for conv in conv_ids:
        for raw in await redis.lrange(keys.log(conv.decode()), 0, -1):
            entry = json.loads(raw)
            if entry["role"] == "child":
                texts.append(entry["text"])
    return texts


async def test_a_lone_surrogate_gets_a_typed_error_and_every_other_child_is_stored(
    gateway: Any, child_factory: Any, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    others = [child_factory(gateway.url) for _ in range(12)]
    for other in others:
        await other.connect()
        await other.start()
    bad = child_factory(gateway.url)
    await bad.connect()
    await bad.start()

    async def attack() -> None:
        for i in range(150):
            await bad.sio.emit("user_uttered", {"message": f"a{SURROGATE}b", "client_id": f"bad-{i}"})
            await bad.sio.emit(
                "session_request", {"locale": SURROGATE, "session_id": bad.session_id, "extensions": 1}
            )
            if i % 10 == 0:
                await asyncio.sleep(0.01)

    async def write(index: int, other: Any) -> None:
        for n in range(4):
            await other.say(f"hej {index}-{n}", client_id=f"c{index}-{n}")
            ack = await other.expect("message_ack", timeout=15)
            assert ack["client_id"] == f"c{index}-{n}"

    caplog.set_level(logging.INFO)
    await asyncio.gather(attack(), *(write(i, o) for i, o in enumerate(others)))

    sent = {f"hej {i}-{n}" for i in range(len(others)) for n in range(4)}
    conv_ids = [k.removeprefix(keys.log("").encode()) for k in await redis.keys(keys.log("*"))]
    assert sent <= set(await _stored_texts(redis, conv_ids))

    errors = [data for name, data in await bad.drain(0.5) if name == "error"]
    assert {e["code"] for e in errors} == {"invalid_text"} and len(errors) == 300
    # The typed error names the message it refuses, so a widget can mark that one.
    assert {e["client_id"] for e in errors if "client_id" in e} == {f"bad-{i}" for i in range(150)}
    # The bad sender's own conversation still works.
    await bad.say("hej igen", client_id="good")
    assert (await bad.expect("message_ack"))["client_id"] == "good"
    # No traceback spam, and never the text itself.
    assert not any(record.exc_info for record in caplog.records)
    assert all(SURROGATE not in record.getMessage() for record in caplog.records)
    assert sum("invalid_text" in record.getMessage() for record in caplog.records) == 1


@pytest.mark.parametrize(
    "locale", ["x" * 50_000, "../../locales/en", "sv\x00", "en\r\nX: 1", "xx", "", 7, SURROGATE]
)
async def test_session_request_locale_follows_the_set_locale_rule(
    gateway: Any, child_factory: Any, redis: Redis, locale: object
) -> None:
    """Issue 12: session_request stored and echoed any locale (50,000 characters, paths, NUL, CRLF)."""
    child = child_factory(gateway.url)
    await child.connect()
    await child.sio.emit("session_request", {"locale": locale, "extensions": 1})
    events = await child.drain(0.5)
    if locale == SURROGATE:
        assert [d["code"] for n, d in events if n == "error"] == ["invalid_text"]
        assert not await redis.keys(keys.conversation("*"))
        return
    state = next(data for name, data in events if name == "session_state")
    assert state["locale"] == "sv"  # the default: a child is never refused a chat over a language
    (key,) = await redis.keys(keys.conversation("*"))
    assert await redis.hget(key, "locale") == b"sv"
    # set_locale answers the same value with a typed error that never echoes it.
    await child.sio.emit("set_locale", {"locale": locale})
    error = await child.expect("error")
    if isinstance(locale, str):
        assert error["code"] == "unsupported_locale" and error["detail"] == "no catalog for that locale"
    else:
        assert error["code"] == "malformed_payload"


async def test_session_request_takes_a_locale_we_have(gateway: Any, child_factory: Any) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    assert (await child.start(locale="en"))["locale"] == "en"


async def _handshake(url: str, **headers: str) -> int:
    import aiohttp

    url = f"{url}/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        return resp.status


async def test_a_dns_rebinding_page_cannot_open_the_child_socket(gateway: Any) -> None:
    """Issue 12: the origin check believed the Host header, which a rebound name controls."""
    rebound = f"evil.example:{gateway.port}"
    assert await _handshake(gateway.url, Host=rebound, Origin=f"http://{rebound}") == 400
    # Development without PUBLIC_ORIGIN: the gateway's own page on loopback still connects.
    assert await _handshake(gateway.url, Origin=gateway.url) == 200
    assert await _handshake(gateway.url) == 200  # no Origin: not a browser


async def test_with_a_public_origin_only_the_configured_origins_connect(
    gateway_factory: Any, settings: Any
) -> None:
    from tests.conftest import with_settings

    gateway = await gateway_factory(
        with_settings(
            settings, public_origin="https://chat.example.org", allowed_origins=("https://www.example.org",)
        )
    )
    assert await _handshake(gateway.url, Origin="https://chat.example.org") == 200
    assert await _handshake(gateway.url, Origin="https://www.example.org") == 200
    # Host no longer counts, not even loopback's own.
    assert await _handshake(gateway.url, Origin=gateway.url) == 400
    host = "chat.example.org"
    assert await _handshake(gateway.url, Host=host, Origin=f"http://{host}") == 400


async def test_a_refused_origin_never_reaches_the_log(gateway: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    marker = "https://leak-7f3a.example"
    for _ in range(3):
        assert await _handshake(gateway.url, Origin=marker) == 400
    messages = [record.getMessage() for record in caplog.records]
    assert not any("leak-7f3a" in m for m in messages)
    assert any("origin that is not allowed" in m for m in messages)


def test_public_origin_setting_is_checked_at_start() -> None:
    from chatbot.settings import Settings, SettingsError

    assert Settings.from_env({"PUBLIC_ORIGIN": "https://chat.example.org"}).public_origin == (
        "https://chat.example.org"
    )
    for bad in ("chat.example.org", "https://chat.example.org/", "https://x.org/path", "javascript:1"):
        with pytest.raises(SettingsError):
            Settings.from_env({"PUBLIC_ORIGIN": bad})
    with pytest.raises(SettingsError):
        Settings.from_env({"ALLOWED_ORIGINS": "https://ok.example,not an origin"})
