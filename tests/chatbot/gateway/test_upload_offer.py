"""The upload offer and the case code over the real gateway: socket.io clients, HTTP, the private Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from chatbot.gateway.upload_views import CASES, UPLOADS
from chatbot.settings import Settings
from chatbot.store import keys
from chatbot.upload import codes, crypto
from tests.chatbot.upload.helpers import KEYS, file_entry, upload_settings


async def started_child(gw: Any, child_factory: Any) -> Any:
    child = child_factory(gw.url)
    await child.connect()
    await child.start()
    await child.drain()
    return child


async def test_the_upload_grant_goes_to_the_asking_socket_only_and_works(
    gateway_factory: Any, settings: Settings, child_factory: Any, redis: Redis, tmp_path: Path
) -> None:
    gw = await gateway_factory(upload_settings(settings, tmp_path / "uploads"))
    child = await started_child(gw, child_factory)
    # The same session in a second tab: it is in the conversation's room, and must not get the token.
    other = child_factory(gw.url)
    await other.connect()
    await other.start(session_id=child.session_id, last_seq=child.last_seq)
    await other.drain()

    await child.sio.emit("upload_request", {})
    grant = await child.expect("upload_grant")
    assert set(grant) == {
        "grant",
        "expires",
        "max_files",
        "max_file_bytes",
        "max_total_bytes",
        "keep_days",
        "hash_days",
    }
    assert (grant["max_files"], grant["max_file_bytes"], grant["max_total_bytes"]) == (3, 400_000, 600_000)
    assert (grant["keep_days"], grant["hash_days"]) == (90, 730)
    assert [event for event, _ in await other.drain()] == []
    conv_id = (await redis.get(next(iter(await redis.keys(keys.session("*")))))).decode()
    assert grant["grant"].encode() not in b" ".join(await redis.lrange(keys.log(conv_id), 0, -1))

    plain = b"a picture" * 300
    blob = crypto.encrypt(plain, [k.public for k in KEYS], name="a.png", type="image/png")
    async with aiohttp.ClientSession() as http:
        body = {
            "grant": grant["grant"],
            "age_band": "16_17",
            "consent": True,
            "files": [file_entry(blob, plain)],
        }
        async with http.post(gw.url + "/upload/v1/start", json=body) as response:
            assert response.status == 201
            upload = (await response.json())["upload"]
        auth = {"Authorization": f"Bearer {upload}"}
        async with http.put(gw.url + "/upload/v1/files/0?offset=0", data=blob, headers=auth) as response:
            assert response.status == 200
        async with http.post(gw.url + "/upload/v1/finish", headers=auth) as response:
            code = (await response.json())["case_code"]
    (case,) = await gw.app[CASES].list_cases()
    assert case.age_band == "16_17"

    # The child asks with the code in the chat: the answer comes, and the log holds the code masked.
    await child.say(f"status {code}", client_id="m-status")
    ack = await child.expect("message_ack")
    reply = await child.expect("bot_uttered")
    assert reply["seq"] == ack["seq"] + 1 and reply["text"]
    log = b" ".join(await redis.lrange(keys.log(conv_id), 0, -1)).decode()
    assert code not in log and f"status {codes.MASK}" in log
    await child.sio.emit("resume", {"last_seq": ack["seq"] - 1})
    replay = await child.expect("history")
    assert replay["entries"][0]["text"] == f"status {codes.MASK}"


async def test_upload_request_errors_are_typed_and_the_connection_stays(
    gateway: Any, child_factory: Any
) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    await child.sio.emit("upload_request", {})
    assert (await child.expect("error"))["code"] == "no_session"
    await child.start()
    await child.drain()
    await child.sio.emit("upload_request", "please")
    assert (await child.expect("error"))["code"] == "malformed_payload"
    # No public key configured: nothing could be decrypted, so nothing is offered.
    await child.sio.emit("upload_request", {})
    assert (await child.expect("error"))["code"] == "uploads_unavailable"
    assert not gateway.app[UPLOADS].enabled
    await child.say("hej", client_id="m-after")
    assert (await child.expect("message_ack"))["client_id"] == "m-after"


async def _grant_over_socket(child: Any) -> str:
    await child.sio.emit("upload_request", {})
    return str((await child.expect("upload_grant"))["grant"])


async def _start(gw: Any, grant: str, blob: bytes, plain: bytes) -> tuple[int, Any]:
    body = {"grant": grant, "age_band": "13_15", "consent": True, "files": [file_entry(blob, plain)]}
    async with aiohttp.ClientSession() as http, http.post(gw.url + "/upload/v1/start", json=body) as response:
        return response.status, await response.json()


async def test_a_grant_dies_with_quick_exit_by_socket_and_by_beacon(
    gateway_factory: Any, settings: Settings, child_factory: Any, tmp_path: Path
) -> None:
    gw = await gateway_factory(upload_settings(settings, tmp_path / "uploads"))
    plain = b"a picture" * 300
    blob = crypto.encrypt(plain, [k.public for k in KEYS], name="a.png", type="image/png")

    child = await started_child(gw, child_factory)
    grant = await _grant_over_socket(child)
    await child.sio.emit("end_session", {})  # quick exit with the socket up
    await child.expect("session_ended")
    status, body = await _start(gw, grant, blob, plain)
    assert (status, body["error"]) == (410, "conversation_ended")

    other = await started_child(gw, child_factory)
    grant = await _grant_over_socket(other)
    async with (  # quick exit's beacon, the socket down
        aiohttp.ClientSession() as http,
        http.post(gw.url + "/session/end", data=other.session_id) as response,
    ):
        assert response.status == 204
    status, body = await _start(gw, grant, blob, plain)
    assert (status, body["error"]) == (410, "conversation_ended")
    assert not [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]


async def test_a_case_holds_no_link_to_the_chat_and_its_code_works_in_a_later_chat(
    gateway_factory: Any, settings: Settings, child_factory: Any, redis: Redis, tmp_path: Path, caplog: Any
) -> None:
    caplog.set_level("DEBUG")
    gw = await gateway_factory(upload_settings(settings, tmp_path / "uploads"))
    child = await started_child(gw, child_factory)
    conv_id = (await redis.get(next(iter(await redis.keys(keys.session("*")))))).decode()
    grant = await _grant_over_socket(child)
    plain = b"a picture" * 300
    blob = crypto.encrypt(plain, [k.public for k in KEYS], name="a.png", type="image/png")
    status, started = await _start(gw, grant, blob, plain)
    assert status == 201
    auth = {"Authorization": f"Bearer {started['upload']}"}
    async with aiohttp.ClientSession() as http:
        async with http.put(gw.url + "/upload/v1/files/0?offset=0", data=blob, headers=auth) as response:
            assert response.status == 200
        async with http.post(gw.url + "/upload/v1/finish", headers=auth) as response:
            code = (await response.json())["case_code"]
    (case,) = await gw.app[CASES].list_cases()

    # Nothing in Redis that names the case (or leads to it: its code, in the finished upload's record)
    # also names the conversation.
    for key in await redis.keys("*"):
        kind = (await redis.type(key)).decode()
        if kind == "hash":
            value = b" ".join(k + b"=" + v for k, v in (await redis.hgetall(key)).items())
        elif kind == "string":
            value = await redis.get(key)
        elif kind == "list":
            value = b" ".join(await redis.lrange(key, 0, -1))
        else:
            continue
        if case.case_id.encode() in value + key or code.encode() in value:
            assert conv_id.encode() not in value + key, key
    lines = [r.getMessage() for r in caplog.records]
    assert not [line for line in lines if case.case_id in line and conv_id in line]

    # The child's own look-up needs only the code: in the same chat, and in a new one after quick exit.
    await child.say(f"status {code}", client_id="m-1")
    assert (await child.expect("bot_uttered"))["text"]
    await child.sio.emit("end_session", {})
    later = await started_child(gw, child_factory)
    await later.say(f"hur går det med {code}", client_id="m-2")
    await later.expect("message_ack")
    reply = await later.expect("bot_uttered")
    status_view = await gw.app[CASES].child_status(code)
    assert status_view.status.value == "received" and reply["text"]
