"""Several gateway processes on one Redis: every entry, written by any of them, reaches every socket once."""

from __future__ import annotations

from collections import Counter
from typing import Any


async def _answers(child: Any, count: int) -> list[dict[str, Any]]:
    """The next `count` logged bot/counsellor entries this socket gets live."""
    got: list[dict[str, Any]] = []
    while len(got) < count:
        data = await child.expect("bot_uttered", timeout=5)
        if "seq" in data and data["role"] != "child":
            got.append(data)
    return got


async def test_two_tabs_on_two_gateways_both_get_every_answer_once(
    gateway_factory: Any, settings: Any, child_factory: Any
) -> None:
    one = await gateway_factory(settings)
    two = await gateway_factory(settings)
    first = child_factory(one.url)
    await first.connect()
    await first.start()
    await first.expect("history")
    # The same child in a second tab, which the load balancer sent to the other process.
    second = child_factory(two.url)
    await second.connect()
    state = await second.start(session_id=first.session_id, last_seq=0)
    assert state["resumed"] is True
    await second.expect("history")

    history_seen = {e["seq"] for e in second.seen}
    for i in range(4):
        await first.say("hej" if i % 2 == 0 else "vad kan ni hjälpa till med", client_id=f"c{i}")
        await first.expect("message_ack")
        await _answers(second, 1)  # live, written through the other process
    await first.drain(0.5)
    await second.drain(0.5)

    # Once each: no entry reached either socket twice, and the second has every answer the first has.
    for child in (first, second):
        counts = Counter(e["seq"] for e in child.seen if e["role"] != "child")
        assert counts and max(counts.values()) == 1
    answers_first = {e["seq"] for e in first.seen if e["role"] != "child"}
    answers_second = {e["seq"] for e in second.seen if e["role"] != "child"}
    assert answers_first == answers_second
    assert len(answers_second - history_seen) >= 4
    # The child's own messages reach the other tab live too, once each, and never echo back to the tab
    # that wrote them (it shows them itself).
    live_second = [d for e, d in second.recorded if e == "bot_uttered" and d.get("role") == "child"]
    assert [d["client_id"] for d in live_second] == ["c0", "c1", "c2", "c3"]
    assert not [d for e, d in first.recorded if e == "bot_uttered" and d.get("role") == "child"]


async def test_a_message_written_on_the_second_gateway_reaches_the_first(
    gateway_factory: Any, settings: Any, child_factory: Any
) -> None:
    one = await gateway_factory(settings)
    two = await gateway_factory(settings)
    first = child_factory(one.url)
    await first.connect()
    await first.start()
    await first.expect("history")
    second = child_factory(two.url)
    await second.connect()
    await second.start(session_id=first.session_id, last_seq=0)
    await second.expect("history")

    await second.say("hej", client_id="from-two")
    answer = (await _answers(second, 1))[0]
    mirrored = (await _answers(first, 1))[0]
    assert mirrored["seq"] == answer["seq"] and mirrored["text"] == answer["text"]
    own = [d for e, d in first.recorded if e == "bot_uttered" and d.get("role") == "child"]
    assert [(d["client_id"], d["text"]) for d in own] == [("from-two", "hej")]


async def test_a_second_tab_on_the_same_gateway_sees_the_childs_message_and_the_writer_does_not(
    gateway: Any, child_factory: Any
) -> None:
    first = child_factory(gateway.url)
    await first.connect()
    await first.start()
    await first.expect("history")
    second = child_factory(gateway.url)
    await second.connect()
    await second.start(session_id=first.session_id, last_seq=0)
    await second.expect("history")
    await first.say("hej", client_id="same-gw")
    await first.expect("message_ack")
    await _answers(second, 1)
    await first.drain(0.3)
    await second.drain(0.3)
    mine = [d for e, d in second.recorded if e == "bot_uttered" and d.get("role") == "child"]
    assert [d["client_id"] for d in mine] == ["same-gw"]
    assert not [d for e, d in first.recorded if e == "bot_uttered" and d.get("role") == "child"]
