"""Published content versions: seeded from the repository, served by every gateway within seconds of a
publish without a restart, recorded in every bot entry of the log (real Redis, real gateways, real clients)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.domain.content_versions import (
    SEED_AUTHOR,
    ContentVersions,
    Snapshot,
    StaleVersion,
)
from chatbot.gateway.appkeys import CONTENT_FOLLOWER
from chatbot.model import Entry
from chatbot.settings import Settings
from chatbot.store import keys
from chatbot.store.content_versions import ContentVersionStore, ShownCounts

NEW_ANONYMITY = "Ny text från version två. Du är anonym här."


def _versions(redis: Redis, clock: FixedClock, settings: Settings) -> ContentVersions:
    return ContentVersions(ContentVersionStore(redis, settings.content_version_retention), clock)


def _changed(snapshot: Snapshot, answer_id: str, old: str, new: str) -> Snapshot:
    text = snapshot.answers[answer_id]
    assert old in text
    return snapshot.with_answers({answer_id: text.replace(old, new)})


async def _log(redis: Redis, session_child: Any) -> list[Entry]:
    raw = await redis.lrange(keys.log(await _conv_id(redis, session_child)), 0, -1)
    return [Entry.from_json(r, i + 1) for i, r in enumerate(raw)]


async def _conv_id(redis: Redis, child: Any) -> str:
    from chatbot.domain.sessions import session_hash

    return str((await redis.get(keys.session(session_hash(child.session_id)))).decode())


async def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.mark.cluster  # also on the local Redis Cluster (tests/cluster.py)
async def test_first_start_seeds_the_repository_as_version_one_and_every_key_has_a_ttl(
    gateway: Any, redis: Redis, clock: FixedClock, settings: Settings
) -> None:
    versions = _versions(redis, clock, settings)
    current = await versions.current()
    assert current is not None
    version, snapshot = current
    assert version.number == 1 and version.author == SEED_AUTHOR and version.kind == "seed"
    repo = Snapshot.from_repository(settings.content_dir, settings.locales_dir)
    assert snapshot == repo and "welcome" in snapshot.answers and {"en", "ar"} <= set(snapshot.catalogs)
    found = [k async for k in redis.scan_iter(match=keys.tagged("content") + ":cv:*")]
    assert found
    for key in found:
        ttl = await redis.pttl(key)
        assert 0 < ttl <= settings.content_version_retention * 1000, key


@pytest.mark.cluster  # also on the local Redis Cluster (tests/cluster.py)
async def test_a_child_mid_conversation_reads_the_new_version_on_the_next_answer(
    gateway_factory: Any, child_factory: Any, redis: Redis, clock: FixedClock, settings: Settings
) -> None:
    gateway = await gateway_factory(settings)
    other = await gateway_factory(settings)  # a second process must follow too
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    await child.say("/anonymity", client_id="a1")
    first = await child.expect("bot_uttered")
    assert first["text"].startswith("Du är anonym här.")

    versions = _versions(redis, clock, settings)
    current = await versions.current()
    assert current is not None
    old = "Du är anonym här. Vi ser inte vem du är, och vi frågar aldrig efter ditt namn eller nummer."
    published = await versions.publish(
        _changed(current[1], "anonymity", old, NEW_ANONYMITY),
        base=current[0].number,
        author="edith",
        reviewers=("rolf",),
        note="test",
    )
    assert published.number == 2 and published.changed == ("anonymity",)
    lives = [gw.app[CONTENT_FOLLOWER].live for gw in (gateway, other)]

    async def both_follow() -> bool:
        return all(live.version == 2 for live in lives)

    started = asyncio.get_running_loop().time()
    await _wait_for(both_follow)
    # The pub/sub wake-up makes it well under the periodic check's interval.
    assert asyncio.get_running_loop().time() - started < 1.5

    await child.drain()
    await child.say("/anonymity", client_id="a2")
    again = await child.expect("bot_uttered")
    assert again["text"] == NEW_ANONYMITY
    assert "answer" not in again and "cv" not in again  # provenance stays in the log

    entries = await _log(redis, child)
    shown = [e for e in entries if e.answer == "anonymity"]
    assert [e.version for e in shown][:1] == [1] and shown[-3].version == 2
    assert shown[-3].text == NEW_ANONYMITY
    welcome = [e for e in entries if e.answer == "welcome"]
    assert welcome and all(e.version == 1 for e in welcome)
    # Counts only, per answer and Stockholm day: two showings of anonymity (not six bubbles), one welcome.
    shown = await ShownCounts(redis, settings.stats_retention).day("2026-11-24")
    assert shown["anonymity"] == 2 and shown["welcome"] == 1
    assert 0 < await redis.ttl(keys.content_shown("2026-11-24")) <= settings.stats_retention


@pytest.mark.cluster  # also on the local Redis Cluster (tests/cluster.py)
async def test_a_plain_rasa_client_sees_no_new_keys(gateway: Any, child_factory: Any, redis: Redis) -> None:
    child = child_factory(gateway.url)
    await child.connect()
    await child.sio.emit("session_request", {"session_id": None})
    await child.expect("session_confirm")
    await child.drain()
    await child.say("/anonymity")
    reply = await child.expect("bot_uttered")
    assert set(reply) <= {"text", "quick_replies"}
    entries = await _log(redis, child)
    assert any(e.answer == "anonymity" and e.version == 1 for e in entries)


@pytest.mark.cluster  # also on the local Redis Cluster (tests/cluster.py)
async def test_a_stale_base_is_refused_and_nothing_changes(
    gateway: Any, redis: Redis, clock: FixedClock, settings: Settings
) -> None:
    versions = _versions(redis, clock, settings)
    current = await versions.current()
    assert current is not None
    base, snapshot = current[0].number, current[1]
    await versions.publish(
        _changed(snapshot, "anonymity", "Du är anonym här.", "Ett."), base=base, author="a"
    )
    with pytest.raises(StaleVersion) as refused:
        await versions.publish(
            _changed(snapshot, "anonymity", "Du är anonym här.", "Två."), base=base, author="b"
        )
    assert "version 2 was published" in str(refused.value)
    now = await versions.current()
    assert now is not None and now[0].number == 2 and "Ett." in now[1].answers["anonymity"]
    history = await versions.history()
    assert [v.number for v in history] == [2, 1]


@pytest.mark.cluster  # also on the local Redis Cluster (tests/cluster.py)
async def test_a_missed_wake_up_is_caught_by_the_periodic_check_and_restarts_keep_the_version(
    gateway_factory: Any, redis: Redis, clock: FixedClock, settings: Settings
) -> None:
    gateway = await gateway_factory(settings)
    versions = _versions(redis, clock, settings)
    current = await versions.current()
    assert current is not None
    snapshot = _changed(current[1], "anonymity", "Du är anonym här.", "Tyst publicerad.")
    # Publish as the store does, but with the announcement going nowhere (a dropped pub/sub message).
    store = ContentVersionStore(redis, settings.content_version_retention)
    number = await store.next_number()
    meta = current[0].__class__(number, "x", clock.now(), base=1).to_json()
    from chatbot.store import content_versions as module

    quiet = redis.register_script(module._PUBLISH)
    await quiet(
        keys=[
            keys.CONTENT_CURRENT,
            keys.CONTENT_NUMBERS,
            keys.CONTENT_COUNTER,
            keys.content_snapshot(number),
            keys.content_meta(number),
        ],
        args=["1", number, snapshot.to_json(), meta, 10_000_000, "sc:nowhere"],
    )
    live = gateway.app[CONTENT_FOLLOWER].live

    async def followed() -> bool:
        return bool(live.version == number)

    await _wait_for(followed, timeout=6)
    assert "Tyst publicerad." in live.get("anonymity").bubbles[0]


# Not on the cluster: there the second gateway's shutdown hangs (not diagnosed yet, docs/reliability.md).
async def test_a_restart_serves_the_published_version_not_the_files(
    gateway_factory: Any, redis: Redis, clock: FixedClock, settings: Settings
) -> None:
    first = await gateway_factory(settings)
    versions = _versions(redis, clock, settings)
    current = await versions.current()
    assert current is not None
    snapshot = _changed(current[1], "anonymity", "Du är anonym här.", "Efter omstart.")
    published = await versions.publish(snapshot, base=1, author="edith")
    await first.stop()
    again = await gateway_factory(settings)
    live = again.app[CONTENT_FOLLOWER].live
    assert live.version == published.number
    assert "Efter omstart." in live.get("anonymity").bubbles[0]
