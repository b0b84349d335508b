"""Batched Lua script calls: each caller gets its own answer, errors stay with their call, Redis restarts heal."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chatbot.redis_server import RedisServer, free_port
from chatbot.store.pipelining import ScriptPipeline, _encoder

# Every test here runs on one Redis and on a Redis Cluster of three primaries (tests/cluster.py).
pytestmark = pytest.mark.cluster

_ECHO_OR_FAIL = """
if ARGV[1] == 'bad' then return redis.error_reply('refused') end
return redis.call('RPUSH', KEYS[1], ARGV[1])
"""


class CountingPipeline(ScriptPipeline):
    """Records how many calls went out in each round trip."""

    def __init__(self, client: Redis) -> None:
        super().__init__(client)
        self.batches: list[int] = []

    async def _execute(self, batch: Sequence[Any]) -> list[Any]:
        self.batches.append(len(batch))
        return await super()._execute(list(batch))


async def test_concurrent_calls_share_round_trips_and_each_gets_its_answer(redis: Redis) -> None:
    pipeline = CountingPipeline(redis)
    push = pipeline.register(_ECHO_OR_FAIL)
    assert await push(keys=["warm"], args=["x"]) == 1  # the first call also loads the script
    pipeline.batches.clear()
    results = await asyncio.gather(*(push(keys=["log"], args=[f"m{i}"]) for i in range(100)))
    # RPUSH returns the new length: every call ran once, in the order it was made.
    assert results == list(range(1, 101))
    assert await redis.lrange("log", 0, -1) == [f"m{i}".encode() for i in range(100)]
    assert sum(pipeline.batches) == 100 and len(pipeline.batches) < 10


async def test_a_lone_call_goes_out_at_once(redis: Redis) -> None:
    pipeline = CountingPipeline(redis)
    push = pipeline.register(_ECHO_OR_FAIL)
    assert await push(keys=["solo"], args=["x"]) == 1
    pipeline.batches.clear()
    assert await push(keys=["solo"], args=["y"]) == 2
    assert await push(keys=["solo"], args=["z"]) == 3
    assert pipeline.batches == [1, 1]


async def test_an_error_reaches_only_its_own_caller(redis: Redis) -> None:
    push = ScriptPipeline(redis).register(_ECHO_OR_FAIL)
    results = await asyncio.gather(
        push(keys=["mixed"], args=["a"]),
        push(keys=["mixed"], args=["bad"]),
        push(keys=["mixed"], args=["b"]),
        return_exceptions=True,
    )
    assert results[0] == 1 and results[2] == 2
    assert isinstance(results[1], Exception) and "refused" in str(results[1])


async def test_scripts_are_loaded_again_after_redis_forgets_them(redis: Redis) -> None:
    push = ScriptPipeline(redis).register(_ECHO_OR_FAIL)
    assert await push(keys=["again"], args=["1"]) == 1
    await redis.script_flush()
    results = await asyncio.gather(*(push(keys=["again"], args=[str(i)]) for i in range(5)))
    assert results == [2, 3, 4, 5, 6]


async def test_a_cancelled_caller_does_not_strand_the_others(redis: Redis) -> None:
    push = ScriptPipeline(redis).register(_ECHO_OR_FAIL)
    first = asyncio.create_task(push(keys=["cancel"], args=["a"]))
    second = asyncio.create_task(push(keys=["cancel"], args=["b"]))
    await asyncio.sleep(0)
    first.cancel()
    assert await asyncio.wait_for(second, 5) in (1, 2)
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await asyncio.wait_for(push(keys=["cancel"], args=["c"]), 5) >= 2


async def test_unreachable_redis_fails_every_caller_and_strands_none() -> None:
    gone = Redis(port=free_port(), socket_connect_timeout=0.2)
    push = ScriptPipeline(gone).register(_ECHO_OR_FAIL)
    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(push(keys=["k"], args=["v"]) for _ in range(3)), return_exceptions=True), 30
        )
        assert all(isinstance(r, RedisConnectionError) for r in results)
    finally:
        await gone.aclose()


async def test_an_argument_that_cannot_be_sent_fails_only_its_own_call(redis: Redis) -> None:
    pipeline = CountingPipeline(redis)
    push = pipeline.register(_ECHO_OR_FAIL)
    await push(keys=["warm"], args=["x"])
    pipeline.batches.clear()
    values: list[object] = [f"m{i}" for i in range(40)]
    values[5], values[20] = "\ud800", None
    results = await asyncio.gather(*(push(keys=["send"], args=[v]) for v in values), return_exceptions=True)
    assert isinstance(results[5], UnicodeEncodeError) and isinstance(results[20], DataError)
    stored = await redis.lrange("send", 0, -1)
    assert stored == [str(v).encode() for i, v in enumerate(values) if i not in (5, 20)]
    assert len(pipeline.batches) < 38  # the good calls still shared round trips


class PoisonedPipeline(CountingPipeline):
    """Fails a whole batch on this side, before sending, when it holds the call marked `poison`
    (whatever the cause of such a failure, it must stay with the call that causes it)."""

    async def _execute(self, batch: Sequence[Any]) -> list[Any]:
        if any(b"poison" in call.args for call in batch):
            raise ValueError("cannot pack this batch")
        return await super()._execute(batch)


async def test_a_batch_that_fails_before_sending_is_sent_call_by_call(redis: Redis) -> None:
    pipeline = PoisonedPipeline(redis)
    push = pipeline.register(_ECHO_OR_FAIL)
    await push(keys=["warm"], args=["x"])
    values = [f"m{i}" for i in range(20)]
    values[3] = "poison"
    results = await asyncio.gather(*(push(keys=["one"], args=[v]) for v in values), return_exceptions=True)
    assert isinstance(results[3], ValueError)
    assert sorted(await redis.lrange("one", 0, -1)) == sorted(v.encode() for v in values if v != "poison")


async def test_arguments_are_encoded_as_redis_py_encodes_them(redis: Redis) -> None:
    # The pipeline's own encoder takes text first (chatbot/store/pipelining.py): every value must come
    # out as redis-py's bytes, and what redis-py refuses must be refused the same way.
    general = redis.get_encoder()
    encode = _encoder(general)
    values: list[Any] = [
        "",
        "hej",
        "åäö 🙂",
        "ناسف",
        0,
        -7,
        2**70,
        1.5,
        b"raw",
        bytearray(b"x"),
        "x" * 10_000,
    ]
    for value in values:
        assert bytes(encode(value)) == bytes(general.encode(value)), value

    class Text(str):
        pass

    assert encode(Text("sub")) == b"sub"
    for bad, error in (
        ("\ud800", UnicodeEncodeError),
        (None, DataError),
        (True, DataError),
        ([1], DataError),
    ):
        with pytest.raises(error):
            general.encode(bad)
        with pytest.raises(error):
            encode(bad)


_SLOW = """
local deadline = tonumber(redis.call('TIME')[1]) * 1000000 + tonumber(redis.call('TIME')[2]) + 400000
while tonumber(redis.call('TIME')[1]) * 1000000 + tonumber(redis.call('TIME')[2]) < deadline do end
return ARGV[1]
"""


async def test_a_batch_cut_off_part_way_never_hands_its_replies_to_the_next(
    redis_server: RedisServer,
) -> None:
    # On a single Redis a batch goes out on one connection (the cluster uses its own pipeline). A reply
    # that timed out is still on its way; the connection that waited for it must not go back to the pool
    # with it, or the next batch would read the slow call's answer as its own.
    impatient = Redis(port=redis_server.port, socket_timeout=0.1, retry=Retry(NoBackoff(), 0))
    try:
        pipeline = ScriptPipeline(impatient)
        slow, push = pipeline.register(_SLOW), pipeline.register(_ECHO_OR_FAIL)
        with pytest.raises(RedisTimeoutError):
            await slow(keys=["slow"], args=["the slow call's answer"])
        await asyncio.sleep(0.5)  # the slow reply has arrived by now, on the connection that gave up
        await impatient.delete("after")
        assert await push(keys=["after"], args=["mine"]) == 1
        assert await impatient.lrange("after", 0, -1) == [b"mine"]
    finally:
        await impatient.aclose()
