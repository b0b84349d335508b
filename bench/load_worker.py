"""bench/load.py's load process: many real python-socketio children, each holding one conversation.

Started by the orchestrator (bench/load_orchestrator.py) as `bench/load.py --worker CONFIG`; it speaks one JSON
line at a time on stdout (ready, progress, result) and waits for `go <wall time>` on stdin.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

# A conversation holds at most 5,000 entries (chatbot.domain.conversations.MAX_ENTRIES); a gateway turn
# stores 3 (message + two fallback bubbles), so a child starts a fresh session well before that.
TURNS_PER_SESSION = 1000


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    completed: int = 0
    errors: int = 0
    timeouts: int = 0
    late: int = 0
    missed: int = 0
    broken: int = 0
    bubbles: int = 0
    error_codes: dict[str, int] = field(default_factory=dict)


class BenchChild:
    """A child that holds one conversation: session_request first, then messages with client ids."""

    def __init__(self, url: str, tag: str, message: str, timeout: float, answer_frames: int = 1) -> None:
        import socketio

        self.url = url
        self.tag = tag
        self.message = message
        self.timeout = timeout
        self.sio = socketio.AsyncClient(reconnection=False)
        self.session_id: str | None = None
        self.turn = 0
        self.turns_in_session = 0
        self.broken = False
        self._cid = ""
        self._ack: int | None = None
        self._waiter: asyncio.Future[float | None] | None = None
        self.error_code = ""
        self.bubbles = 0
        # A plain Rasa server (no seq) answers in one bot_uttered per bubble: the round trip ends with
        # the last one, so a late bubble is never taken for the next message's answer.
        self.answer_frames = answer_frames
        self._frames = 0
        self.sio.on("session_confirm", self._on_session_confirm)
        self.sio.on("message_ack", self._on_ack)
        self.sio.on("bot_uttered", self._on_bot_uttered)
        self.sio.on("turn", self._on_turn)
        self.sio.on("error", self._on_error)

    async def connect(self) -> None:
        await self.sio.connect(self.url, transports=["websocket"], wait_timeout=self.timeout)

    async def open_session(self) -> None:
        waiter = self._new_waiter()
        # The extensions (the compact protocol, as our widget asks); the echo server ignores the key.
        await self.sio.emit("session_request", {"session_id": None, "extensions": 1})
        async with asyncio.timeout(self.timeout):
            await waiter
        self.turns_in_session = 0

    async def round_trip(self, stats: Stats) -> float | None:
        """One message and its first answer: the latency in seconds, or None (error or timeout).

        After a timeout the child stops (`broken`): a late answer could be taken for the next one's.
        """
        if self.turns_in_session >= TURNS_PER_SESSION:
            await self.open_session()
        self.turn += 1
        self.turns_in_session += 1
        self._cid = f"{self.tag}-{self.turn}"
        self._ack = None
        self._frames = 0
        waiter = self._new_waiter()
        started = time.perf_counter()
        await self.sio.emit(
            "user_uttered", {"message": self.message, "session_id": self.session_id, "client_id": self._cid}
        )
        try:
            async with asyncio.timeout(self.timeout):
                answered = await waiter
        except TimeoutError:
            stats.timeouts += 1
            self.broken = True
            return None
        finally:
            self._waiter = None
        if answered is None:
            stats.errors += 1
            stats.error_codes[self.error_code] = stats.error_codes.get(self.error_code, 0) + 1
            return None
        return answered - started

    def _new_waiter(self) -> asyncio.Future[float | None]:
        self._waiter = asyncio.get_running_loop().create_future()
        return self._waiter

    def _resolve(self, value: float | None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(value)

    async def _on_session_confirm(self, data: Any = None) -> None:
        self.session_id = data if isinstance(data, str) else None
        self._resolve(time.perf_counter())

    async def _on_ack(self, data: Any = None) -> None:
        if isinstance(data, dict) and data.get("client_id") == self._cid:
            self._ack = data.get("seq")

    async def _on_bot_uttered(self, data: Any = None) -> None:
        # Stamp on arrival, before the waiting task is scheduled again.
        now = time.perf_counter()
        if not isinstance(data, dict) or data.get("ephemeral"):
            return
        self.bubbles += 1
        # The gateway: the answer is the entry right after our acked message; the second bubble of the
        # previous answer (or anything else in the room) is not. The echo server sends no seq.
        if "seq" in data and (self._ack is None or data["seq"] != self._ack + 1):
            return
        if "seq" not in data:
            self._frames += 1
            if self._frames < self.answer_frames:
                return
        self._resolve(now)

    async def _on_turn(self, data: Any = None) -> None:
        """The compact protocol: the ack and every bubble of the answer in one frame."""
        now = time.perf_counter()
        if not isinstance(data, dict):
            return
        entries = data.get("entries") or []
        self.bubbles += len(entries)
        ack = data.get("ack")
        if isinstance(ack, dict) and ack.get("client_id") == self._cid and entries:
            self._ack = ack.get("seq")
            self._resolve(now)

    async def _on_error(self, data: Any = None) -> None:
        self.error_code = str(data.get("code", "?")) if isinstance(data, dict) else "?"
        self._resolve(None)


async def _saturate(child: BenchChild, stats: Stats, warm_until: float, end: float) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < end:
        latency = await child.round_trip(stats)
        # Round trips that end inside the window count: throughput. (Counting only those that also start
        # in it loses about one latency's worth at each edge: nothing for a server that answers in
        # milliseconds, a quarter of Rasa's round trips when they take 4 s in a 15 s window.)
        if latency is not None and warm_until <= loop.time() <= end:
            stats.latencies.append(latency)
            stats.completed += 1
        if child.broken:
            stats.broken += 1
            return


async def _pace(child: BenchChild, stats: Stats, start: float, end: float, interval: float) -> None:
    loop = asyncio.get_running_loop()
    phase = random.uniform(0, interval)
    tick = 0
    while True:
        due = start + phase + tick * interval
        if due >= end:
            return
        now = loop.time()
        if due > now:
            await asyncio.sleep(due - now)
        elif now - due > interval / 10:
            stats.late += 1
        latency = await child.round_trip(stats)
        if latency is not None:
            stats.latencies.append(latency)
            stats.completed += 1
        if child.broken:
            # A lost answer counts in the percentiles as the timeout (a lower bound), not as nothing.
            stats.latencies.append(child.timeout)
            stats.broken += 1
            return
        # A reply slower than the interval skips the ticks it overran instead of bunching sends up.
        next_tick = math.ceil((loop.time() - start - phase) / interval)
        stats.missed += max(0, next_tick - tick - 1)
        tick = max(tick + 1, next_tick)


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def worker_main(config: dict[str, Any]) -> None:
    """Connect, open sessions, report ready, wait for `go`, run, report figures, disconnect."""
    timeout = float(config["timeout"])
    children = [
        BenchChild(
            config["url"],
            f"w{config['index']}c{i}",
            config["message"],
            timeout,
            int(config.get("answer_frames", 1)),
        )
        for i in range(int(config["clients"]))
    ]
    gate = asyncio.Semaphore(25)

    async def prepare(child: BenchChild) -> bool:
        async with gate:
            try:
                await child.connect()
                await child.open_session()
                return True
            except Exception:
                return False

    ready = await asyncio.gather(*(prepare(c) for c in children))
    live = [c for c, ok in zip(children, ready, strict=True) if ok]
    _emit({"ready": len(live), "failed": len(children) - len(live)})

    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    go_wall = float(line.split()[1])
    start = loop.time() + (go_wall - time.time())
    duration = float(config["duration"])
    warmup = float(config["warmup"])
    stats = Stats()
    if config["mode"] == "saturation":
        end = start + warmup + duration
        await asyncio.sleep(max(0.0, start - loop.time()))
        jobs = [_saturate(c, stats, start + warmup, end) for c in live]
    else:
        end = start + duration
        interval = 1.0 / float(config["rate"])
        jobs = [_pace(c, stats, start, end, interval) for c in live]

    async def progress() -> None:
        while True:
            await asyncio.sleep(1.0)
            _emit({"progress": stats.completed})

    reporter = asyncio.create_task(progress())
    # Bounded: every round trip ends within its timeout, and no new one starts after `end`.
    await asyncio.gather(*jobs)
    reporter.cancel()
    # Answers per message: welcomes (history) are not bot_uttered, so this counts only answers.
    stats.bubbles = sum(c.bubbles for c in live)
    _emit(
        {
            "result": {
                "latencies": [round(x, 6) for x in stats.latencies],
                "completed": stats.completed,
                "errors": stats.errors,
                "timeouts": stats.timeouts,
                "late": stats.late,
                "missed": stats.missed,
                "broken": stats.broken,
                "error_codes": stats.error_codes,
                "bubbles": stats.bubbles,
                "turns": sum(c.turn for c in live),
                "clients": len(live),
                "connect_failed": len(children) - len(live),
            }
        }
    )
    with contextlib.suppress(Exception):
        async with asyncio.timeout(10):
            await asyncio.gather(*(c.sio.disconnect() for c in live), return_exceptions=True)


async def probe_answer_frames(url: str, message: str, within: float, quiet: float = 2.0) -> int:
    """How many bot_uttered frames a plain server sends for `message`: one child asks once and counts until
    `quiet` seconds pass without another (the first answer may be slow: a model warming up)."""
    import socketio

    sio = socketio.AsyncClient(reconnection=False)
    frames: asyncio.Queue[Any] = asyncio.Queue()
    confirmed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    @sio.on("session_confirm")
    async def _confirm(data: Any = None) -> None:
        if not confirmed.done():
            confirmed.set_result(data)

    @sio.on("bot_uttered")
    async def _uttered(data: Any = None) -> None:
        await frames.put(data)

    await sio.connect(url, transports=["websocket"], wait_timeout=within)
    try:
        await sio.emit("session_request", {"session_id": None})
        session_id = await asyncio.wait_for(confirmed, within)
        await sio.emit("user_uttered", {"message": message, "session_id": session_id})
        await asyncio.wait_for(frames.get(), within)
        count = 1
        while True:
            try:
                await asyncio.wait_for(frames.get(), quiet)
            except TimeoutError:
                return count
            count += 1
    finally:
        await sio.disconnect()
