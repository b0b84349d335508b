"""A supervisor ends a malicious conversation and blocks its client's hash for a while (issue 12)."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from chatbot.domain.sessions import session_hash
from chatbot.store import keys as chat_keys
from tests.console.conftest import Console
from tests.console.test_live import signed_in


async def test_a_supervisor_ends_a_conversation_and_blocks_its_client(
    console: Console,
    gateway_factory: Any,
    child_factory: Any,
    make_account: Any,
    staff_factory: Any,
    redis: Redis,
) -> None:
    gateway = await gateway_factory(console.settings, console.clock)
    troll = child_factory(gateway.url)
    await troll.connect()
    await troll.start()
    conv_id = (await redis.get(chat_keys.session(session_hash(troll.session_id)))).decode()
    client_hash = (await redis.get(chat_keys.client_of(conv_id))).decode()

    counsellor = await signed_in(make_account, staff_factory, "cecilia")
    assert (await counsellor.post(f"/conversations/{conv_id}/block"))[0] == 403
    supervisor = await signed_in(make_account, staff_factory, "sara", "supervisor")
    page = (await supervisor.get(f"/conversations/{conv_id}"))[1]
    assert "block-form" in page and client_hash not in page and "127.0.0.1" not in page
    assert await supervisor.redirected(f"/conversations/{conv_id}/block", {}) == "/queue?msg=blocked"

    assert await redis.hget(chat_keys.conversation(conv_id), "state") == b"ended"
    ttl = await redis.ttl(chat_keys.client_block(client_hash))
    assert 0 < ttl <= console.settings.client_block
    await troll.say("hej", client_id="x")
    assert (await troll.expect("error"))["code"] == "conversation_ended"
    await troll.sio.emit("session_request", {"extensions": 1})
    event, data = await troll.expect_any(("session_state", "error"))
    assert event == "error" and data["code"] == "conversation_limit"

    # The block is only its key, whose TTL is asserted above: once Redis has expired it (deleted here
    # to stand for that, no sleep), the client may start again.
    await redis.delete(chat_keys.client_block(client_hash))
    await troll.sio.emit("session_request", {"extensions": 1})
    event, _ = await troll.expect_any(("session_state", "error"))
    assert event == "session_state"
