"""A child on the real gateway and a counsellor on the real console, side by side, over real sockets."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio
from redis.asyncio import Redis

from chatbot.domain.sessions import session_hash
from chatbot.model import to_ms
from chatbot.store import keys as chat_keys
from chatbot.store.queue import QueueStore
from console.domain.stats import day_of
from tests.console.conftest import Console, StaffClient

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


class StaffSocket:
    """A real python-socketio client on the /staff namespace, recording events."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        @self.sio.on("*", namespace="/staff")
        async def catch_all(event: str, data: Any = None) -> None:
            await self.events.put((event, data))

    async def connect(self, url: str, cookie: str | None) -> None:
        headers = {"Cookie": f"__Host-staff={cookie}"} if cookie else {}
        await self.sio.connect(
            url, headers=headers, namespaces=["/staff"], transports=["websocket"], wait_timeout=5
        )

    async def expect(self, name: str, where: Any = None, timeout: float = 8.0) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                event, data = await self.events.get()
                if event == name and (where is None or where(data)):
                    return data

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


async def expect_child(child: Any, where: Any, timeout: float = 8.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            data = await child.expect("bot_uttered", timeout)
            if where(data):
                return data  # type: ignore[no-any-return]


async def queued_child(child_factory: Any, gateway: Any, redis: Redis, console: Console) -> tuple[Any, str]:
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    conv = await redis.get(chat_keys.session(session_hash(child.session_id)))
    conv_id = conv.decode()
    # What the bot's dialogue does when a child asks for a person during opening hours.
    await QueueStore(redis).enqueue(
        conv_id,
        now_ms=to_ms(console.clock.now()),
        urgent=False,
        retention=console.settings.conversation_retention,
    )
    return child, conv_id


async def signed_in(
    make_account: Any, staff_factory: Any, name: str, role: str = "counsellor"
) -> StaffClient:
    creds = await make_account(name, role)
    client: StaffClient = staff_factory()
    assert await client.login(creds) == 303
    return client


# Also end to end on a Redis Cluster of three primaries: the gateway and the console connect with
# REDIS_CLUSTER_NODES, every script and notification (pub/sub) crosses the cluster (tests/cluster.py).
@pytest.mark.cluster
async def test_child_and_counsellor_side_by_side(
    console: Console, gateway: Any, child_factory: Any, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    counsellor = await signed_in(make_account, staff_factory, "anna")
    socket = StaffSocket()
    try:
        await socket.connect(console.url, counsellor.cookie("__Host-staff"))
        assert (await socket.expect("hello"))["role"] == "counsellor"
        child, conv_id = await queued_child(child_factory, gateway, redis, console)
        # The queue reaches the counsellor live.
        await socket.expect("queue", lambda d: any(i["conv_id"] == conv_id for i in d["items"]))

        # The console has seen the child in the queue (its snapshot can be a step ahead of that).
        for _ in range(200):
            if await redis.hexists(chat_keys.conversation(conv_id), "announced"):
                break
            await asyncio.sleep(0.05)
        # Nobody free yet; when a counsellor becomes available, the child hears the shorter wait live.
        form = {"status": "available", "capacity": "2", "display": "Sara"}
        assert (await counsellor.post("/me/status", form))[0] == 303
        update = await expect_child(child, lambda d: d.get("notice", {}).get("type") == "queue_update")
        assert update["notice"] == {"type": "queue_update", "position": 1, "wait": 1}
        assert "nummer 1" in update["text"]
        status, page = await counsellor.get("/queue")
        assert status == 200 and conv_id in page

        # Claim: the child sees the chosen name; the queue empties for everyone.
        assert (await counsellor.post(f"/conversations/{conv_id}/claim"))[0] == 303
        joined = await expect_child(child, lambda d: d.get("notice", {}).get("type") == "counsellor_joined")
        assert joined["notice"]["name"] == "Sara" and "Sara" in joined["text"]
        await socket.expect("queue", lambda d: not d["items"])

        # Chat both ways, live; the child's text stays text in the counsellor's page.
        await socket.sio.emit("watch", {"conv_id": conv_id, "last_seq": 0}, namespace="/staff")
        await socket.expect("entries", lambda d: d["conv_id"] == conv_id)
        await child.say(XSS, client_id="m-1")
        got = await socket.expect("entries", lambda d: any(e["text"] == XSS for e in d["entries"]))
        assert got["entries"][-1]["role"] == "child"
        status, page = await counsellor.get(f"/conversations/{conv_id}")
        assert status == 200
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
        assert "<script>alert" not in page and "<img src=x" not in page

        async with counsellor.http.post(
            f"/conversations/{conv_id}/reply",
            data={"text": "Hej, jag heter Sara. Berätta gärna."},
            headers={"X-CSRF-Token": counsellor.csrf, "Accept": "application/json"},
        ) as response:
            assert response.status == 200 and (await response.json())["ok"] is True
        said = await expect_child(child, lambda d: d["role"] == "counsellor")
        assert said["author"] == "Sara" and said["text"].startswith("Hej, jag heter Sara")

        # The counsellor offers the secure upload; a colleague cannot, in a chat that is not theirs.
        colleague = await signed_in(make_account, staff_factory, "bertil")
        for client, status, expected in ((colleague, 409, "not_yours"), (counsellor, 200, None)):
            async with client.http.post(
                f"/conversations/{conv_id}/offer_upload",
                headers={"X-CSRF-Token": client.csrf, "Accept": "application/json"},
            ) as response:
                body = await response.json()
                assert response.status == status and body.get("code") == expected
        assert body["seq"] > said["seq"]
        offer = await expect_child(child, lambda d: d.get("notice", {}).get("type") == "upload_offer")
        assert offer["seq"] == body["seq"] and offer["role"] == "system"
        assert [q["payload"] for q in offer["quick_replies"]] == ["/upload_start"]
        await socket.expect("entries", lambda d: any(e.get("notice") == "upload_offer" for e in d["entries"]))

        # Typing indicators both ways, live only.
        await socket.sio.emit("typing", {"conv_id": conv_id, "on": True}, namespace="/staff")
        assert (await child.expect("typing")) == {"role": "counsellor", "on": True}
        await child.sio.emit("typing", {"on": True})
        assert (await socket.expect("child_typing"))["on"] is True

        # End: the child is asked one question; the counsellor categorises; statistics count both.
        assert (await counsellor.post(f"/conversations/{conv_id}/end"))[0] == 303
        await expect_child(child, lambda d: d.get("notice", {}).get("type") == "satisfaction")
        await child.say("/satisfaction_yes", client_id="m-2")
        status, page = await counsellor.get(f"/conversations/{conv_id}/done")
        assert status == 200 and 'name="topic"' in page
        form = {"topic": "sextortion", "age": "13-15", "handled": "listened_advised"}
        assert (await counsellor.post(f"/conversations/{conv_id}/categorise", form))[0] == 303
        day = day_of(console.clock.now())
        for _ in range(160):  # the console counts it when the gateway's notification reaches it
            if await redis.hget(chat_keys.stats_day(day), "satisfaction:yes") == b"1":
                break
            await asyncio.sleep(0.05)
        assert await redis.hget(chat_keys.stats_day(day), "satisfaction:yes") == b"1"
        supervisor = await signed_in(make_account, staff_factory, "sam", "supervisor")
        status, page = await supervisor.get("/stats?period=week")
        assert status == 200 and 'data-key="sextortion">1<' in page and 'data-counter="handed_off">1<' in page
        # The gateway counted the child's conversation as a contact: one contact, handed off.
        assert 'data-counter="contacts">1<' in page and "<td>100%</td>" in page
        async with supervisor.http.get("/stats.csv?period=week") as response:
            csv_text = await response.text()
            assert response.headers["Content-Type"].startswith("text/csv")
        header, *rows = csv_text.strip().splitlines()
        assert header.startswith("day,contacts,queued,urgent,handed_off")
        assert rows[-1].startswith(day) and conv_id not in csv_text
    finally:
        await socket.close()


async def test_staff_socket_refuses_without_a_desk_session(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    for cookie in (None, "forged-token"):
        socket = StaffSocket()
        try:
            await socket.connect(console.url, cookie)
        except socketio.exceptions.ConnectionError:
            pass
        else:
            raise AssertionError(f"connected with cookie {cookie!r}")
        finally:
            await socket.close()
    for role in ("editor", "translator", "analyst", "admin"):
        client = await signed_in(make_account, staff_factory, f"x{role[:5]}", role)
        socket = StaffSocket()
        try:
            await socket.connect(console.url, client.cookie("__Host-staff"))
        except socketio.exceptions.ConnectionError:
            pass
        else:
            raise AssertionError(f"{role} connected to /staff")
        finally:
            await socket.close()


async def test_staff_events_are_checked_per_event(
    console: Console, gateway: Any, child_factory: Any, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    anna = await signed_in(make_account, staff_factory, "anna")
    bertil = await signed_in(make_account, staff_factory, "bertil")
    await anna.post("/me/status", {"status": "available", "capacity": "2", "display": "Anna"})
    _, conv_id = await queued_child(child_factory, gateway, redis, console)
    assert (await anna.post(f"/conversations/{conv_id}/claim"))[0] == 303
    socket = StaffSocket()
    try:
        await socket.connect(console.url, bertil.cookie("__Host-staff"))
        # A counsellor cannot read or type into a colleague's chat.
        await socket.sio.emit("watch", {"conv_id": conv_id}, namespace="/staff")
        assert (await socket.expect("error"))["code"] == "forbidden"
        await socket.sio.emit("typing", {"conv_id": conv_id, "on": True}, namespace="/staff")
        assert (await socket.expect("error"))["code"] == "not_yours"
        await socket.sio.emit("nonsense", {}, namespace="/staff")
        assert (await socket.expect("error"))["code"] == "malformed_payload"
        status, _ = await bertil.get(f"/conversations/{conv_id}")
        assert status == 403
        # Signing out ends the socket's rights too: the next event is refused and the socket closed.
        assert (await bertil.post("/logout"))[0] == 303
        await socket.sio.emit("watch", {"conv_id": conv_id}, namespace="/staff")
        assert (await socket.expect("error"))["code"] == "unauthorised"
    finally:
        await socket.close()


async def test_a_second_claim_is_told_a_colleague_took_it(
    console: Console, gateway: Any, child_factory: Any, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    anna = await signed_in(make_account, staff_factory, "anna")
    bertil = await signed_in(make_account, staff_factory, "bertil")
    for client in (anna, bertil):
        await client.post("/me/status", {"status": "available", "capacity": "2", "display": "X"})
    _, conv_id = await queued_child(child_factory, gateway, redis, console)
    results = await asyncio.gather(
        *(
            c.http.post(
                f"/conversations/{conv_id}/claim",
                data={"csrf": c.csrf},
                headers={"Accept": "application/json"},
            )
            for c in (anna, bertil)
        )
    )
    bodies = []
    for response in results:
        async with response:
            bodies.append((response.status, await response.json()))
    assert sorted(status for status, _ in bodies) == [200, 409]
    assert next(body for status, body in bodies if status == 409)["code"] == "taken"
