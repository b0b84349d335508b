"""The console's /metrics: the queue an operator watches (length, urgent children waiting), staff sockets,
and nothing that identifies a child or a member of staff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.domain.sessions import session_hash
from chatbot.gateway.upload_views import UPLOADS
from chatbot.metrics import ALLOWED_LABELS
from chatbot.model import to_ms
from chatbot.redis_server import free_port
from chatbot.store import keys
from chatbot.store.conversations import ConversationStore
from chatbot.store.queue import QueueStore
from chatbot.upload import crypto
from console.appkeys import CASES
from tests.chatbot.test_metrics import parse, value
from tests.chatbot.upload.helpers import KEYS, file_entry, upload_settings
from tests.conftest import with_settings
from tests.console.conftest import Credentials, StaffClient, finish_first_sign_in
from tests.console.test_live import StaffSocket, expect_child


async def test_the_console_reports_the_queue_and_its_urgent_children(
    console_factory: Any, settings: Any, clock: FixedClock, redis: Redis
) -> None:
    port = free_port()
    await console_factory(with_settings(settings, metrics_port=port), clock)
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    queue = QueueStore(redis)
    now_ms = int(clock.now().timestamp() * 1000)
    conv_ids = [f"metricsconv{i:013d}" for i in range(3)]
    for i, conv_id in enumerate(conv_ids):
        await store.create(f"metricssess{i}", conv_id, now_ms=now_ms, retention=3600, locale="sv")
        await queue.enqueue(conv_id, now_ms=now_ms + i, urgent=i == 2, retention=3600)

    text, samples = await _scrape(port)
    assert value(samples, "stodchat_queue_length") == 3
    assert value(samples, "stodchat_urgent_waiting") == 1
    assert value(samples, "stodchat_connections", side="staff") == 0
    for _name, labels, _value in samples:
        assert set(labels) <= ALLOWED_LABELS | {"le"}
    assert not any(conv_id in text for conv_id in conv_ids)


async def _scrape(port: int) -> tuple[str, list[tuple[str, dict[str, str], float]]]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    return text, parse(text)


async def _json_post(client: StaffClient, path: str, data: dict[str, str] | None = None) -> tuple[int, Any]:
    async with client.http.post(
        path, data=data or {}, headers={"X-CSRF-Token": client.csrf, "Accept": "application/json"}
    ) as response:
        return response.status, await response.json()


async def test_every_metric_moves_with_real_events_and_no_label_names_anyone(
    console_factory: Any,
    gateway_factory: Any,
    child_factory: Any,
    settings: Any,
    clock: FixedClock,
    redis: Redis,
    tmp_path: Path,
) -> None:
    """A child on a real gateway, two counsellors on a real console, an upload: each figure the issue asks
    for moves, on the process where it happens, and no label value is an id, an address or a name."""
    gport, cport = free_port(), free_port()
    gateway = await gateway_factory(
        upload_settings(with_settings(settings, metrics_port=gport), tmp_path / "up")
    )
    console = await console_factory(with_settings(settings, metrics_port=cport), clock)
    names = ("annametrics", "bertilmetrics")
    clients = []
    for name in names:
        account = await console.accounts.create(name, "counsellor")
        await finish_first_sign_in(redis, name)
        await console.accounts.set_language(name, "en")
        client = StaffClient(console)
        secret = account.totp_uri.split("secret=")[1].split("&")[0]
        assert await client.login(Credentials(account, secret)) == 303
        clients.append(client)
    anna, bertil = clients
    socket = StaffSocket()
    child = child_factory(gateway.url)
    try:
        await socket.connect(console.url, anna.cookie("__Host-staff"))
        await socket.expect("hello")
        assert (await anna.post("/me/status", {"status": "available", "capacity": "2", "display": "Sara"}))[
            0
        ] == 303

        await child.connect()
        await child.start()
        await child.expect("history")
        await child.say("hej", client_id="c1")
        await child.expect("bot_uttered")
        conv_id = (await redis.get(keys.session(session_hash(child.session_id)))).decode()
        await QueueStore(redis).enqueue(
            conv_id, now_ms=to_ms(clock.now()), urgent=False, retention=settings.conversation_retention
        )
        await socket.expect("queue", lambda d: any(i["conv_id"] == conv_id for i in d["items"]))
        clock.advance(42)
        text, samples = await _scrape(cport)
        assert value(samples, "stodchat_queue_length") == 1
        assert value(samples, "stodchat_queue_wait_seconds_gcount") == 1
        assert value(samples, "stodchat_queue_wait_seconds_gsum") == 42
        assert value(samples, "stodchat_counsellors", status="available") == 1
        assert value(samples, "stodchat_counsellors_on_shift") == 1
        assert value(samples, "stodchat_counsellor_slots") == 2
        assert value(samples, "stodchat_connections", side="staff") == 1

        # The hand-off, a colleague's refused claim, and a reply.
        assert (await anna.post(f"/conversations/{conv_id}/claim"))[0] == 303
        assert await _json_post(bertil, f"/conversations/{conv_id}/claim") == (409, ANY_TAKEN)
        await socket.sio.emit("watch", {"conv_id": conv_id, "last_seq": 0}, namespace="/staff")
        await socket.expect("entries", lambda d: d["conv_id"] == conv_id)
        await child.say("hallå", client_id="c2")
        await socket.expect("entries", lambda d: any(e["text"] == "hallå" for e in d["entries"]))
        status, _ = await _json_post(
            anna, f"/conversations/{conv_id}/reply", {"text": "Hej, jag heter Sara."}
        )
        assert status == 200
        await expect_child(child, lambda d: d["role"] == "counsellor")

        # The encrypted upload, through the gateway's HTTP endpoints.
        plain = b"frame" * 20_000
        blob = crypto.encrypt(plain, [k.public for k in KEYS], name="v.mp4", type="video/mp4")
        grant = await gateway.app[UPLOADS].issue_grant(conv_id)
        async with aiohttp.ClientSession() as http:
            body = {
                "grant": grant.token,
                "age_band": "13_15",
                "consent": True,
                "files": [file_entry(blob, plain)],
            }
            async with http.post(gateway.url + "/upload/v1/start", json=body) as response:
                assert response.status == 201
                token = (await response.json())["upload"]
            auth = {"Authorization": f"Bearer {token}"}
            async with http.put(
                gateway.url + "/upload/v1/files/0?offset=0", data=blob, headers=auth
            ) as response:
                assert response.status == 200
            async with http.post(gateway.url + "/upload/v1/finish", headers=auth) as response:
                assert response.status == 200
            async with http.put(
                gateway.url + "/upload/v1/files/0?offset=0", data=b"x", headers=auth
            ) as response:
                assert response.status >= 400
                refused = (await response.json())["error"]

        gtext, gsamples = await _scrape(gport)
        ctext, csamples = await _scrape(cport)
    finally:
        await socket.close()
        for client in clients:
            await client.close()

    # The gateway: children's messages in, entries out by role, answers, the model's time, upload bytes.
    assert value(gsamples, "stodchat_connections", side="child") == 1
    assert value(gsamples, "stodchat_messages_received_total", role="child", status="ok") == 2
    assert value(gsamples, "stodchat_entries_delivered_total", role="counsellor", side="child") == 1
    assert value(gsamples, "stodchat_entries_delivered_total", role="bot", side="child") >= 1
    assert value(gsamples, "stodchat_intent_model_seconds_count") >= 1
    assert sum(v for n, _, v in gsamples if n == "stodchat_answers_total") >= 1
    assert value(gsamples, "stodchat_upload_bytes_total") == len(blob)
    assert value(gsamples, "stodchat_errors_total", code=refused) == 1
    assert value(gsamples, "stodchat_redis_round_trip_seconds_count") >= 1
    # The console: the hand-off and its time, the desk's events, her load, her reply, what she was shown.
    assert value(csamples, "stodchat_handoff_seconds_count") == 1
    assert value(csamples, "stodchat_handoff_seconds_sum") == 42
    assert value(csamples, "stodchat_desk_events_total", event="handed_off") == 1
    assert value(csamples, "stodchat_counsellor_chats") == 1
    assert value(csamples, "stodchat_queue_length") == 0
    assert value(csamples, "stodchat_messages_received_total", role="counsellor", status="ok") == 1
    assert value(csamples, "stodchat_errors_total", code="taken") == 1
    assert value(csamples, "stodchat_entries_delivered_total", role="child", side="staff") >= 1
    assert value(csamples, "stodchat_upload_cases", status="received") == 1
    assert value(csamples, "stodchat_redis_round_trip_seconds_count") >= 1

    # Nobody is named: only the allowed labels, and no id, session, address or staff name anywhere.
    case_ids = [case.case_id for case in await console.app[CASES].list_cases()]
    assert len(case_ids) == 1
    secret_values = [conv_id, str(child.session_id), "127.0.0.1", "Sara", *names, *case_ids]
    for text in (gtext, ctext):
        for _name, labels, _value in parse(text):
            assert set(labels) <= ALLOWED_LABELS | {"le"}
            assert not any(s in v for v in labels.values() for s in secret_values)
        assert not any(s in text for s in secret_values)


class _Taken:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, dict) and other.get("code") == "taken"


ANY_TAKEN = _Taken()


def test_every_desk_error_code_is_a_known_label_value() -> None:
    """A code missing from DESK_ERROR_CODES would be counted as "other": the list is read off the source."""
    import re

    from console.observing import DESK_ERROR_CODES

    source = "".join(p.read_text() for p in (Path(__file__).parents[2] / "console").rglob("*.py"))
    raised = set(re.findall(r'DeskError\(\s*"([a-z_]+)"', source))
    assert raised and raised <= set(DESK_ERROR_CODES), raised - set(DESK_ERROR_CODES)
