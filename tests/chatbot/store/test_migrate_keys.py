"""`python -m chatbot migrate-keys`: an installation from before the hash tags keeps every key it had."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from chatbot.store import keys
from chatbot.store.migrate_keys import migrate, renamed
from console.store import keys as staff_keys

# Old names (as the helpers wrote them before the tags) and what today's helpers call the same key.
OLD_AND_NEW = [
    ("sc:conv:{c1}", keys.conversation("c1")),
    ("sc:log:{c1}", keys.log("c1")),
    ("sc:dedupe:{c1}", keys.dedupe("c1")),
    ("sc:rate:{c1}", keys.rate("c1")),
    ("sc:sess:abc", keys.session("abc")),
    ("sc:queue", keys.QUEUE),
    ("sc:away", keys.AWAY),
    ("sc:active", keys.ACTIVE),
    ("sc:left", keys.LEFT),
    ("sc:ooh", keys.OUT_OF_HOURS),
    ("sc:return:r1", keys.return_code("r1")),
    ("sc:staff:available", keys.COUNSELLORS_AVAILABLE),
    ("sc:upgrant:t1", keys.upload_grant("t1")),
    ("sc:upload:{u1}", keys.upload("u1")),
    ("sc:upquota", keys.UPLOAD_QUOTA),
    ("sc:uplock:{u1}:3", keys.upload_lock("u1", 3)),
    ("sc:case:{k1}", keys.case("k1")),
    ("sc:caseact:{k1}", keys.case_actions("k1")),
    ("sc:casecode:h1", keys.case_code("h1")),
    ("sc:cases", keys.CASES),
    ("sc:audit", keys.AUDIT),
    ("sc:audit:head", keys.AUDIT_HEAD),
    ("sc:audit:anchor", keys.AUDIT_ANCHOR),
    ("sc:audit:case:{k1}", keys.audit_case("k1")),
    ("sc:stats:shown:2026-11-24", keys.content_shown("2026-11-24")),
    ("sc:stats:day:2026-11-24", keys.stats_day("2026-11-24")),
    ("sc:stats:waits:2026-11-24", staff_keys.stats_waits("2026-11-24")),
    ("sc:hours", keys.HOURS),
    ("sc:client:{c1}", keys.client_of("c1")),
    ("sc:flood:conv:h1", keys.flood_bucket("conv", "h1")),
    ("sc:flood:minute:42", keys.flood_minute(42)),
    ("sc:block:h1", keys.client_block("h1")),
    ("sc:cv:current", keys.CONTENT_CURRENT),
    ("sc:cv:counter", keys.CONTENT_COUNTER),
    ("sc:cv:numbers", keys.CONTENT_NUMBERS),
    ("sc:cv:snap:3", keys.content_snapshot(3)),
    ("sc:cv:meta:3", keys.content_meta(3)),
    ("sc:content:drafts", staff_keys.DRAFTS),
    ("sc:content:schedules", staff_keys.SCHEDULES),
    ("sc:content:draft:d1", staff_keys.draft("d1")),
    ("sc:content:overrules", staff_keys.OVERRULES),
    ("sc:tr:edits", keys.TRANSLATIONS),
    ("sc:tr:languages", keys.TRANSLATION_SETTINGS),
    ("sc:tr:version", keys.TRANSLATIONS_VERSION),
    ("sc:tr:glossary:en", keys.glossary("en")),
    ("sc:staff:accounts", staff_keys.ACCOUNTS),
    ("sc:staff:acct:anna", staff_keys.account("anna")),
    ("sc:staff:sess:t1", staff_keys.session("t1")),
    ("sc:staff:reauth:t1", staff_keys.reauth("t1")),
    ("sc:staff:usersess:anna", staff_keys.user_sessions("anna")),
    ("sc:staff:loginfail:client:h1", staff_keys.login_failures("client:h1")),
    ("sc:staff:loginblocks:clients", staff_keys.BLOCKED_CLIENTS),
    ("sc:staff:loginblocks:names", staff_keys.BLOCKED_NAMES),
    ("sc:staff:stepupfail:t1", staff_keys.step_up_failures("t1")),
    ("sc:staff:shift:anna", staff_keys.shift("anna")),
    ("sc:staff:onshift", staff_keys.ON_SHIFT),
    ("sc:staff:conns:anna", staff_keys.connections("anna")),
    ("sc:staff:assigned:anna", staff_keys.assigned("anna")),
    ("sc:staff:tocategorise:anna", staff_keys.to_categorise("anna")),
]


@pytest.mark.parametrize(("old", "new"), OLD_AND_NEW)
def test_every_old_name_becomes_todays(old: str, new: str) -> None:
    assert renamed(old) == new
    assert renamed(new) is None  # already tagged: left alone


async def test_migration_keeps_values_and_ttls_and_runs_once(redis: Redis) -> None:
    await redis.hset("sc:conv:{c1}", mapping={"state": "bot", "held": "1", "return_key": "sc:return:r1"})
    await redis.expire("sc:conv:{c1}", 3600)
    await redis.rpush("sc:log:{c1}", "one", "two")
    await redis.set("sc:return:r1", "c1", ex=600)
    await redis.zadd("sc:queue", {"c1": 1})
    await redis.hset("sc:tr:edits", "k", "v")  # kept without a TTL, as before
    await redis.set("other:app", "untouched")

    assert (await migrate(redis, dry_run=True)).renamed == 5
    assert await redis.exists("sc:conv:{c1}")  # a dry run changes nothing

    done = await migrate(redis)
    assert (done.renamed, done.return_codes, done.conflicts) == (5, 1, [])
    assert await redis.hget(keys.conversation("c1"), "return_key") == keys.return_code("r1").encode()
    assert 3500 < await redis.ttl(keys.conversation("c1")) <= 3600
    assert 500 < await redis.ttl(keys.return_code("r1")) <= 600
    assert await redis.ttl(keys.TRANSLATIONS) == -1
    assert await redis.lrange(keys.log("c1"), 0, -1) == [b"one", b"two"]
    assert await redis.zscore(keys.QUEUE, "c1") == 1
    assert await redis.get("other:app") == b"untouched"
    assert sorted(k.decode() for k in await redis.keys("sc:*")) == sorted(
        [keys.conversation("c1"), keys.log("c1"), keys.return_code("r1"), keys.QUEUE, keys.TRANSLATIONS]
    )

    again = await migrate(redis)
    assert (again.renamed, again.return_codes, again.conflicts) == (0, 0, [])


async def test_a_taken_new_name_is_reported_not_overwritten(redis: Redis) -> None:
    await redis.set("sc:sess:abc", "old", ex=60)
    await redis.set(keys.session("abc"), "new", ex=60)
    done = await migrate(redis)
    assert done.conflicts == ["sc:sess:abc"]
    assert await redis.get(keys.session("abc")) == b"new"
    assert await redis.get("sc:sess:abc") == b"old"
