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
from tests.upload.helpers import KEYS, file_entry, upload_settings


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
