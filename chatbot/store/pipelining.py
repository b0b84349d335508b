"""Lua script calls sent to Redis in batches: those made while a batch is on the wire go out as the next.

Each call is still one script, atomic on its own; batching changes only how many calls share a round
trip. Under load that is most of them, and redis-py's per-command overhead (~0.1 ms of CPU) is paid once
per batch instead of once per message. With no load a call goes out at once, alone.

One caller's failure never fails another's call (issue 12: one child's lone surrogate used to fail every
child's write in the same batch): arguments are encoded when a call is made, so a call that cannot be
sent fails alone, in its caller; Redis's error for one script is that caller's alone; a batch that fails
before anything was sent is retried call by call. Only a lost connection fails every call that was on
it, as it would have failed each of them sent alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hiredis import pack_command
from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import NoScriptError, RedisError, ResponseError

log = logging.getLogger(__name__)

# A cap so one batch cannot grow without bound behind a slow Redis; the rest wait for the next.
MAX_BATCH = 256


@dataclass(frozen=True)
class _Call:
    script: BatchedScript
    args: tuple[Any, ...]
    done: asyncio.Future[Any]


Timing = Callable[[float, bool], None]
"""Told each round trip's seconds and whether it succeeded (the process's metrics)."""


# With ack_replicas, how long a batch waits for the replicas before its callers are answered anyway: a
# lost replica slows writes by this much, it never stops the line (availability over the last second).
REPLICA_WAIT_MS = 1000
# After a WAIT that timed out (the replica is gone, or it is the old primary that died and nobody replaces
# it yet), batches stop waiting for this long, then try again: a lost replica costs one slow batch, not a
# second on every message until it is back.
REPLICA_RETRY_S = 5.0


class ScriptPipeline:
    def __init__(self, redis: Redis, timing: Timing | None = None, *, ack_replicas: int = 0) -> None:
        """`ack_replicas` > 0: each batch ends with WAIT, so a write is acknowledged only once that many
        replicas have it, and a failover to one of them loses no message a child saw acknowledged."""
        self._redis = redis
        self._timing = timing
        self._ack_replicas = ack_replicas
        self._no_wait_until = 0.0  # time.monotonic(): a duration's end, never a date
        self._queue: list[_Call] = []
        self._sender: asyncio.Task[None] | None = None
        self._encode: Callable[[Any], bytes] | None = None

    async def load(self, source: str | bytes) -> str:
        return str(await self._redis.script_load(source))

    def register(self, source: str) -> BatchedScript:
        return BatchedScript(self, self._redis.register_script(source))

    async def run(self, script: BatchedScript, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        # Encoded here, in the caller: an argument that cannot be sent (a lone surrogate, a None) raises
        # in this call alone instead of failing the whole batch when it is packed.
        encode = self._encode
        if encode is None:
            # The pool's encoding settings are fixed when it is made: one encoder serves every call (a
            # cluster client has get_encoder too, a plain one's comes from its pool).
            encode = self._encode = _encoder(self._redis.get_encoder())  # type: ignore[no-untyped-call]
        encoded = tuple(map(encode, (len(keys), *keys, *args)))
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Call(script, encoded, done))
        if self._sender is None:
            # A task of its own, so a caller that is cancelled never strands the others' calls.
            self._sender = asyncio.create_task(self._send_all())
        return await done

    async def _send_all(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._send(batch)
        finally:
            self._sender = None
            if self._queue:  # cancelled (shutdown): nothing will send these
                for call in self._queue:
                    call.done.cancel()
                self._queue = []

    async def _send(self, batch: list[_Call]) -> None:
        try:
            results = await self._execute(batch)
            missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
            if missing:
                # Redis restarted or was flushed: load the scripts again and rerun only those calls.
                for script in {batch[i].script for i in missing}:
                    await script.load()
                retried = await self._execute([batch[i] for i in missing])
                for i, result in zip(missing, retried, strict=True):
                    results[i] = result
        except asyncio.CancelledError:
            for call in batch:
                call.done.cancel()
            raise
        except (RedisError, OSError, TimeoutError) as exc:
            # Redis unreachable or the connection lost mid-batch: every caller gets the error, as it
            # would have from its own command (a script may or may not have run, so none is resent).
            for call in batch:
                if not call.done.done():
                    call.done.set_exception(exc)
            return
        except Exception as exc:
            # Failed on this side before a byte was sent (packing): nothing ran, so each call is sent
            # alone and any failure stays with the call that caused it.
            if len(batch) == 1:
                if not batch[0].done.done():
                    batch[0].done.set_exception(exc)
                return
            for call in batch:
                await self._send([call])
            return
        for call, result in zip(batch, results, strict=True):
            if call.done.done():
                continue
            if isinstance(result, Exception):
                call.done.set_exception(result)
            else:
                call.done.set_result(result)

    async def _execute(self, batch: list[_Call]) -> list[Any]:
        waits = self._ack_replicas > 0 and time.monotonic() >= self._no_wait_until
        start = time.perf_counter()
        ok = False
        try:
            if isinstance(self._redis, Redis):
                results = await self._execute_on_connection(self._redis.connection_pool, batch, waits)
            else:  # a cluster: its pipeline sends each call to the node that holds its keys
                pipe = self._redis.pipeline(transaction=False)
                for call in batch:
                    pipe.evalsha(call.script.sha, *call.args)
                if waits:
                    pipe.execute_command("WAIT", self._ack_replicas, REPLICA_WAIT_MS)
                results = list(await pipe.execute(raise_on_error=False))
            ok = True
            if waits:
                acked = results[len(batch)]
                if not isinstance(acked, int) or acked < self._ack_replicas:
                    log.warning("Redis replicas did not confirm a write within %d ms", REPLICA_WAIT_MS)
                    self._no_wait_until = time.monotonic() + REPLICA_RETRY_S
            return results[: len(batch)]
        finally:
            if self._timing is not None:
                self._timing(time.perf_counter() - start, ok)

    async def _execute_on_connection(
        self, pool: ConnectionPool, batch: list[_Call], waits: bool
    ) -> list[Any]:
        """The batch on one connection of a single Redis (or Sentinel's primary), as redis-py's pipeline
        sends it: the commands written at once, every reply read in order, an error reply kept in its place,
        and redis-py's retry on a lost connection. Without the pipeline's generic work per command (its
        command stack, packing each argument again, response callbacks, its observability hooks), which at
        saturation cost half of this call (docs/benchmarks.md, issue 17, seventh pass). The arguments were
        encoded by each caller, so packing cannot fail here."""
        # (hiredis's stub types its argument as a tuple of one element.)
        commands = [pack_command((_EVALSHA, call.script.sha, *call.args)) for call in batch]  # type: ignore[arg-type]
        if waits:
            commands.append(pack_command((b"WAIT", self._ack_replicas, REPLICA_WAIT_MS)))  # type: ignore[arg-type]
        packed = b"".join(commands)
        connection = await pool.get_connection()  # type: ignore[no-untyped-call]

        async def send_and_read() -> list[Any]:
            await connection.send_packed_command(packed)
            replies: list[Any] = []
            # A read that fails, times out or is cancelled drops the connection (redis-py's read_response
            # does), so the rest of the replies can never reach the next caller that borrows it.
            for _ in commands:
                try:
                    replies.append(await connection.read_response())
                except ResponseError as error:  # this call's own error (NOSCRIPT, a script's error)
                    replies.append(error)
            return replies

        async def on_failure(error: BaseException) -> None:
            await connection.disconnect()

        try:
            replies: list[Any] = await connection.retry.call_with_retry(send_and_read, on_failure)
            return replies
        finally:
            await pool.release(connection)


def _encoder(redis_encoder: Any) -> Callable[[Any], bytes]:
    """redis-py's encoding of one argument, with its commonest case first: a script call's ~35 arguments
    are nearly all text, which redis-py reaches after four type checks. Anything else is redis-py's."""
    encoding, errors, general = redis_encoder.encoding, redis_encoder.encoding_errors, redis_encoder.encode

    def encode(value: Any) -> bytes:
        if type(value) is str:
            return value.encode(encoding, errors)
        result: bytes = general(value)
        return result

    return encode


_EVALSHA = b"EVALSHA"


class BatchedScript:
    """Called like redis-py's registered scripts: `await script(keys=[...], args=[...])`."""

    def __init__(self, pipeline: ScriptPipeline, script: Any) -> None:
        self._pipeline = pipeline
        self._script = script

    @property
    def sha(self) -> str:
        return str(self._script.sha)

    async def load(self) -> None:
        self._script.sha = await self._pipeline.load(self._script.script)

    async def __call__(self, keys: Sequence[Any] = (), args: Sequence[Any] = ()) -> Any:
        return await self._pipeline.run(self, keys, args)


async def run_together(redis: Redis, calls: Sequence[tuple[Any, Sequence[Any], Sequence[Any]]]) -> list[Any]:
    """(registered script, keys, args) calls in one round trip (a pipeline, no transaction), each atomic
    on its own. A script the server does not have (restarted, flushed, or a cluster node that never saw
    it: redis-py loads scripts before a plain pipeline only) is loaded, and only those calls run again.
    The first call that failed raises, after every call has run, as in a pipeline."""
    results = await _evalsha_all(redis, calls)
    missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
    if missing:
        for script in {id(calls[i][0]): calls[i][0] for i in missing}.values():
            script.sha = await redis.script_load(script.script)
        retried = await _evalsha_all(redis, [calls[i] for i in missing])
        for i, result in zip(missing, retried, strict=True):
            results[i] = result
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


async def _evalsha_all(redis: Redis, calls: Sequence[tuple[Any, Sequence[Any], Sequence[Any]]]) -> list[Any]:
    pipe = redis.pipeline(transaction=False)
    for script, keys, args in calls:
        pipe.evalsha(script.sha, len(keys), *keys, *args)
    return list(await pipe.execute(raise_on_error=False))
