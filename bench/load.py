"""Load benchmark: the real gateway against a bare python-socketio echo server, in one run, as ratios.

It starts a private redis-server (AOF, like production), the gateway (`python -m chatbot serve`, i.e.
`create_app(Settings.from_env())`) and bench/echo_server.py, each in its own process, then drives both
with the same load from separate worker processes of real python-socketio clients (websocket transport):

  saturation  C children, each sending its next message as soon as the reply to the last one arrives,
              for T seconds after a warm-up: round trips per second.
  paced       1,000 children, each sending one message a second (random phase) for T seconds:
              p50 / p99 / max latency, errors, timeouts, late sends.

A round trip is `user_uttered` → the frame that answers it. The children ask for the extensions, so the
gateway answers in one compact `turn` frame with the ack and every bubble (the default message gets
two); the echo server answers with one `bot_uttered` and nothing else.

Targets (docs/benchmarks.md): gateway round trips/s at saturation >= 0.5 x echo; paced p99 <= 2 x echo.
Loopback only; everything it starts it stops; every loop is bounded by time.

    .venv/bin/python bench/load.py            # a few minutes; table on stdout, progress on stderr
    .venv/bin/python bench/load.py --json     # the same figures as JSON
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

SELF = Path(__file__).resolve()
ROOT = SELF.parent.parent
sys.path.insert(0, str(ROOT))

# Far above any real child: the benchmark measures the path a message takes, not the abuse limit.
BENCH_RATE_LIMIT = 1_000_000
# A conversation holds at most 5,000 entries (chatbot.domain.conversations.MAX_ENTRIES); a gateway turn
# stores 3 (message + two fallback bubbles), so a child starts a fresh session well before that.
TURNS_PER_SESSION = 1000
TARGET_RPS_RATIO = 0.5
TARGET_P99_RATIO = 2.0
MESSAGE = "hej, jag vet inte vad jag ska göra"


# --------------------------------------------------------------------------------------------------
# Worker: one process driving many real python-socketio clients.
# --------------------------------------------------------------------------------------------------


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

    def __init__(self, url: str, tag: str, message: str, timeout: float) -> None:
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
        measuring = loop.time() >= warm_until
        latency = await child.round_trip(stats)
        # Only round trips that start and end inside the window count towards round trips per second.
        if latency is not None and measuring and loop.time() <= end:
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
        BenchChild(config["url"], f"w{config['index']}c{i}", config["message"], timeout)
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


# --------------------------------------------------------------------------------------------------
# Orchestrator: servers, phases, CPU accounting, the table.
# --------------------------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy() -> tuple[float, float, float]:
    """(busy, stolen, total) jiffies over all cores, from /proc/stat.

    Stolen time is the hypervisor's: this machine is a VM, and a busy neighbour shows up there.
    """
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
    )
    busy = user + nice + system + irq + softirq
    return float(busy), float(steal), float(busy + steal + idle + iowait)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: asyncio.subprocess.Process
    port: int
    logfile: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def start_server(name: str, argv: list[str], env: dict[str, str], port: int, logdir: Path) -> Server:
    logfile = logdir / f"{name}.log"
    with logfile.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=ROOT, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"{name} exited at start:\n{logfile.read_text()[-2000:]}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return Server(name, process, port, logfile)
        except OSError:
            await asyncio.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{name} did not listen on port {port} within 30 s")


async def stop_process(process: asyncio.subprocess.Process, grace: float = 10) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (NaN when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


async def run_phase(
    server: Server,
    mode: str,
    *,
    clients: int,
    workers: int,
    duration: float,
    warmup: float,
    rate: float,
    reply_timeout: float,
    message: str,
    watch: dict[str, int],
) -> dict[str, Any]:
    """One scenario against one server: spawn workers, wait for ready, go, collect, account CPU."""
    label = f"{server.name} {mode}"
    workers = max(1, min(workers, clients))
    shares = [clients // workers + (1 if i < clients % workers else 0) for i in range(workers)]
    procs: list[asyncio.subprocess.Process] = []
    for index, share in enumerate(shares):
        config = {
            "url": server.url,
            "index": index,
            "clients": share,
            "mode": mode,
            "duration": duration,
            "warmup": warmup,
            "rate": rate,
            "timeout": reply_timeout,
            "message": message,
        }
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(SELF),
                "--worker",
                json.dumps(config),
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=1 << 27,
            )
        )
    try:
        return await _drive(label, procs, mode, clients, duration, warmup, reply_timeout, watch)
    finally:
        for proc in procs:
            await stop_process(proc, grace=15)


async def _drive(
    label: str,
    procs: list[asyncio.subprocess.Process],
    mode: str,
    clients: int,
    duration: float,
    warmup: float,
    reply_timeout: float,
    watch: dict[str, int],
) -> dict[str, Any]:
    async def read(proc: asyncio.subprocess.Process) -> dict[str, Any]:
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{label}: a load worker exited early (code {await proc.wait()})")
        parsed: dict[str, Any] = json.loads(line)
        return parsed

    connect_started = time.monotonic()
    log(f"{label}: connecting {clients} children ({len(procs)} load processes)")
    async with asyncio.timeout(60 + clients * 0.1):
        hello = await asyncio.gather(*(read(p) for p in procs))
    connected = sum(h["ready"] for h in hello)
    log(
        f"{label}: {connected} connected with a session in {time.monotonic() - connect_started:.1f} s"
        + (f", {sum(h['failed'] for h in hello)} failed" if any(h["failed"] for h in hello) else "")
    )

    pids = {name: pid for name, pid in watch.items()}
    pids.update({f"load{i}": p.pid for i, p in enumerate(procs)})
    go = time.time() + 0.5
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"go {go}\n".encode())
        await proc.stdin.drain()
    await asyncio.sleep(max(0.0, go - time.time() + (warmup if mode == "saturation" else 0)))
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    busy_before = machine_busy()
    wall_before = time.monotonic()

    progress = [0] * len(procs)
    results: list[dict[str, Any] | None] = [None] * len(procs)
    cpu_after: dict[str, float] = {}
    busy_after = busy_before
    wall_after = wall_before

    async def collect(i: int, proc: asyncio.subprocess.Process) -> None:
        nonlocal busy_after, wall_after
        while True:
            msg = await read(proc)
            if "progress" in msg:
                progress[i] = msg["progress"]
            elif "result" in msg:
                results[i] = msg["result"]
                return

    async def report() -> None:
        nonlocal busy_after, wall_after
        last, last_t = 0, time.monotonic()
        elapsed = 0
        while elapsed < duration:
            step = min(5.0, duration - elapsed)
            await asyncio.sleep(step)
            elapsed += step
            now, total = time.monotonic(), sum(progress)
            log(
                f"{label}: {elapsed:4.0f}/{duration:.0f} s, {(total - last) / (now - last_t):7.0f} round trips/s"
            )
            last, last_t = total, now
        # CPU is read at the window's end, before the workers wind down and disconnect.
        cpu_after.update({name: cpu_seconds(pid) for name, pid in pids.items()})
        busy_after = machine_busy()
        wall_after = time.monotonic()

    async with asyncio.timeout(duration + warmup + 2 * reply_timeout + 60):
        await asyncio.gather(report(), *(collect(i, p) for i, p in enumerate(procs)))

    wall = wall_after - wall_before
    cpu = {name: (cpu_after[name] - cpu_before[name]) / wall * 100 for name in pids}
    merged: dict[str, Any] = {"clients": connected, "duration_s": duration}
    latencies: list[float] = []
    for key in ("completed", "errors", "timeouts", "late", "missed", "broken", "connect_failed"):
        merged[key] = sum(r[key] for r in results if r)
    for r in results:
        if r:
            latencies.extend(r["latencies"])
    latencies.sort()
    codes: dict[str, int] = {}
    for r in results:
        for code, count in (r or {}).get("error_codes", {}).items():
            codes[code] = codes.get(code, 0) + count
    merged["error_codes"] = codes
    turns = sum(r["turns"] for r in results if r)
    merged["bot_uttered_per_message"] = round(sum(r["bubbles"] for r in results if r) / max(1, turns), 2)
    merged["round_trips_per_s"] = merged["completed"] / duration
    merged["p50_ms"] = percentile(latencies, 50) * 1000
    merged["p99_ms"] = percentile(latencies, 99) * 1000
    merged["max_ms"] = (latencies[-1] if latencies else math.nan) * 1000
    merged["server_cpu_ms_per_round_trip"] = (
        round(cpu["server"] / 100 / merged["round_trips_per_s"] * 1000, 3) if merged["completed"] else None
    )
    merged["cpu_percent"] = {
        "server": round(cpu["server"], 1),
        "redis": round(cpu.get("redis", 0.0), 1),
        "load_generator": round(sum(v for k, v in cpu.items() if k.startswith("load")), 1),
        "load_generator_busiest_process": round(max(v for k, v in cpu.items() if k.startswith("load")), 1),
        "machine_busy_of_all_cores": round(
            (busy_after[0] - busy_before[0]) / max(1.0, busy_after[2] - busy_before[2]) * 100, 1
        ),
        "stolen_by_hypervisor_of_all_cores": round(
            (busy_after[1] - busy_before[1]) / max(1.0, busy_after[2] - busy_before[2]) * 100, 1
        ),
    }
    log(
        f"{label}: {merged['round_trips_per_s']:.0f} round trips/s, p50 {merged['p50_ms']:.1f} ms, "
        f"p99 {merged['p99_ms']:.1f} ms, errors {merged['errors']} {codes or ''}, timeouts {merged['timeouts']}, "
        f"CPU server {cpu['server']:.0f}% ({merged['server_cpu_ms_per_round_trip']} ms per round trip) "
        f"redis {cpu.get('redis', 0.0):.0f}% load generator {merged['cpu_percent']['load_generator']:.0f}%"
    )
    return merged


def machine_info() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    versions = {}
    for package in ("python-socketio", "python-engineio", "aiohttp", "redis", "hiredis"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    from chatbot.redis_server import find_binary

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "redis_server": find_binary(),
        "packages": versions,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "cpu_pressure_at_start": cpu_pressure(),
    }


def cpu_pressure() -> str:
    """The kernel's CPU pressure (share of time some task waited for a CPU): the noise from neighbours."""
    try:
        return Path("/proc/pressure/cpu").read_text().splitlines()[0].removeprefix("some ")
    except (OSError, IndexError):
        return "unavailable"


async def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    from redis import Redis

    from chatbot.redis_server import RedisServer

    info = machine_info()
    log(
        f"machine: {info['cpus']} cores, {info['cpu_model']}, load average {info['load_average_at_start']}, "
        f"CPU pressure {info['cpu_pressure_at_start']}"
    )
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="stodchat-bench-") as tmp:
        tmpdir = Path(tmp)
        redis_server = RedisServer(tmpdir / "redis", appendonly=True).start()
        servers: list[Server] = []
        try:
            client = Redis.from_url(redis_server.url)
            redis_pid = int(client.info("server")["process_id"])
            client.close()
            env = dict(os.environ)
            env.update(
                REDIS_URL=redis_server.url,
                RATE_LIMIT_BURST=str(BENCH_RATE_LIMIT),
                RATE_LIMIT_PER_MINUTE=str(BENCH_RATE_LIMIT),
                # Every child comes from one loopback address: the flood limits on new conversations
                # (docs/security.md) would refuse all but the first 60 and count the rest as errors.
                NEW_CONVERSATIONS_BURST=str(BENCH_RATE_LIMIT),
                NEW_CONVERSATIONS_PER_HOUR=str(BENCH_RATE_LIMIT),
                BUSY_NEW_CONVERSATIONS_PER_MINUTE=str(BENCH_RATE_LIMIT),
                PYTHONPATH=str(ROOT),
            )
            log(
                f"gateway rate limit and new-conversation flood limits raised to {BENCH_RATE_LIMIT:,} so the "
                "load is not throttled; everything else as in production (AOF Redis, INFO logging)"
            )
            port = free_port()
            gateway = await start_server(
                "gateway",
                [sys.executable, "-m", "chatbot", "serve", "--port", str(port)],
                env,
                port,
                tmpdir,
            )
            servers.append(gateway)
            port = free_port()
            echo = await start_server(
                "echo",
                [sys.executable, str(ROOT / "bench" / "echo_server.py"), "--port", str(port)],
                env,
                port,
                tmpdir,
            )
            servers.append(echo)
            port = free_port()
            wire = await start_server(
                "wire",
                [
                    sys.executable,
                    str(ROOT / "bench" / "echo_server.py"),
                    "--port",
                    str(port),
                    "--mode",
                    "wire",
                    "--answer",
                    args.wire_answer,
                ],
                env,
                port,
                tmpdir,
            )
            servers.append(wire)
            chosen = [s for s in (gateway, wire, echo) if s.name in args.servers]
            for mode in args.scenarios:
                for server in chosen:
                    if server.process.returncode is not None:
                        raise RuntimeError(f"{server.name} died:\n{server.logfile.read_text()[-2000:]}")
                    watch = {"server": server.process.pid}
                    if server is gateway:
                        watch["redis"] = redis_pid
                    saturation = mode == "saturation"
                    results[f"{server.name}/{mode}"] = await run_phase(
                        server,
                        mode,
                        clients=args.saturation_clients if saturation else args.paced_clients,
                        workers=args.saturation_workers if saturation else args.paced_workers,
                        duration=args.saturation_seconds if saturation else args.paced_seconds,
                        warmup=args.warmup if saturation else 0.0,
                        rate=args.rate,
                        reply_timeout=args.timeout,
                        message=args.message,
                        watch=watch,
                    )
                    await asyncio.sleep(args.pause)
        finally:
            for server in servers:
                await stop_process(server.process)
            redis_server.stop()
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    info["cpu_pressure_at_end"] = cpu_pressure()
    return {
        "machine": info,
        "command": " ".join(["bench/load.py", *sys.argv[1:]]),
        "settings": {
            "gateway_rate_limit": BENCH_RATE_LIMIT,
            "saturation_clients": args.saturation_clients,
            "saturation_workers": args.saturation_workers,
            "saturation_seconds": args.saturation_seconds,
            "warmup_seconds": args.warmup,
            "paced_clients": args.paced_clients,
            "paced_workers": args.paced_workers,
            "paced_seconds": args.paced_seconds,
            "messages_per_child_per_second": args.rate,
            "timeout_seconds": args.timeout,
        },
        "results": results,
        "verdicts": verdicts(results),
    }


def verdicts(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    gw, echo = results.get("gateway/saturation"), results.get("echo/saturation")
    if gw and echo and echo["round_trips_per_s"]:
        ratio = gw["round_trips_per_s"] / echo["round_trips_per_s"]
        out["saturation_rps_ratio"] = {
            "value": round(ratio, 3),
            "target": f">= {TARGET_RPS_RATIO}",
            "pass": ratio >= TARGET_RPS_RATIO,
        }
    gw, echo = results.get("gateway/paced"), results.get("echo/paced")
    if gw and echo and echo["p99_ms"]:
        ratio = gw["p99_ms"] / echo["p99_ms"]
        clean = not (gw["errors"] or gw["timeouts"] or gw["broken"] or gw["connect_failed"])
        out["paced_p99_ratio"] = {
            "value": round(ratio, 3),
            "target": f"<= {TARGET_P99_RATIO} (and no errors or timeouts)",
            "pass": ratio <= TARGET_P99_RATIO and clean,
        }
    return out


def render(report: dict[str, Any]) -> str:
    r = report["results"]
    m = report["machine"]
    lines = [
        f"{m['date']}  {m['cpus']} cores {m['cpu_model']}, {m['ram_gib']} GiB, Python {m['python']}, "
        f"load average {m['load_average_at_start']} -> {m['load_average_at_end']}",
        f"CPU pressure (some) at start: {m['cpu_pressure_at_start']}; at end: {m['cpu_pressure_at_end']}",
        f"gateway rate limit raised to {report['settings']['gateway_rate_limit']:,} for the run",
        "",
        f"{'':34}{'gateway':>11}{'wire':>11}{'echo':>11}{'gw/echo':>9}{'wire/echo':>11}  target",
    ]

    def row(label: str, scenario: str, key: str, fmt: str, target: str = "") -> None:
        g, e = r.get(f"gateway/{scenario}"), r.get(f"echo/{scenario}")
        if not g or not e:
            return
        w = r.get(f"wire/{scenario}")
        gv, ev = _lookup(g, key), _lookup(e, key)
        wv = _lookup(w, key) if w else math.nan
        ratio = f"{gv / ev:9.2f}" if ev else f"{'-':>9}"
        wire_ratio = f"{wv / ev:11.2f}" if ev and w else f"{'-':>11}"
        wire_value = format(wv, fmt) if w else "-"
        lines.append(
            f"{label:34}{format(gv, fmt):>11}{wire_value:>11}{format(ev, fmt):>11}{ratio}{wire_ratio}  {target}"
        )

    if "gateway/saturation" in r:
        c = r["gateway/saturation"]["clients"]
        lines.append(f"saturation ({c} children, {report['settings']['saturation_seconds']:.0f} s)")
        row("  round trips / s", "saturation", "round_trips_per_s", ".0f", f">= {TARGET_RPS_RATIO}")
        row("  p50 latency ms", "saturation", "p50_ms", ".1f")
        row("  p99 latency ms", "saturation", "p99_ms", ".1f")
        row("  CPU % server process", "saturation", "cpu_percent.server", ".0f")
        row("  server CPU ms / round trip", "saturation", "server_cpu_ms_per_round_trip", ".2f")
        row("  CPU % redis-server", "saturation", "cpu_percent.redis", ".0f")
        row("  CPU % load generator (all)", "saturation", "cpu_percent.load_generator", ".0f")
        row("  CPU % machine (of 2 cores)", "saturation", "cpu_percent.machine_busy_of_all_cores", ".0f")
        row(
            "  CPU % stolen (of 2 cores)",
            "saturation",
            "cpu_percent.stolen_by_hypervisor_of_all_cores",
            ".0f",
        )
        row("  errors + timeouts", "saturation", "failures", ".0f")
        row("  bubbles per message", "saturation", "bot_uttered_per_message", ".2f")
    if "gateway/paced" in r:
        c = r["gateway/paced"]["clients"]
        s = report["settings"]
        lines.append(
            f"paced ({c} children x {s['messages_per_child_per_second']:g} message/s, {s['paced_seconds']:.0f} s)"
        )
        row("  round trips / s", "paced", "round_trips_per_s", ".0f")
        row("  p50 latency ms", "paced", "p50_ms", ".1f")
        row("  p99 latency ms", "paced", "p99_ms", ".1f", f"<= {TARGET_P99_RATIO}")
        row("  max latency ms", "paced", "max_ms", ".1f")
        row("  errors + timeouts", "paced", "failures", ".0f")
        row("  late sends (load generator)", "paced", "late", ".0f")
        row("  skipped sends (answer > 1 tick)", "paced", "missed", ".0f")
        row("  CPU % server process", "paced", "cpu_percent.server", ".0f")
        row("  server CPU ms / round trip", "paced", "server_cpu_ms_per_round_trip", ".2f")
        row("  CPU % redis-server", "paced", "cpu_percent.redis", ".0f")
        row("  CPU % load generator (all)", "paced", "cpu_percent.load_generator", ".0f")
        row("  CPU % machine (of 2 cores)", "paced", "cpu_percent.machine_busy_of_all_cores", ".0f")
        row("  CPU % stolen (of 2 cores)", "paced", "cpu_percent.stolen_by_hypervisor_of_all_cores", ".0f")
    lines.append("")
    names = {"saturation_rps_ratio": "saturation round trips/s ratio", "paced_p99_ratio": "paced p99 ratio"}
    for key, verdict in report["verdicts"].items():
        lines.append(
            f"{names[key]:34}{verdict['value']:>9.2f}  target {verdict['target']:<10}  "
            f"{'PASS' if verdict['pass'] else 'FAIL'}"
        )
    lines.append(
        "round trip = user_uttered -> the frame answering it (the gateway's compact `turn`: the ack and "
        "every bubble; the echo's one bot_uttered)"
    )
    lines.append(
        "wire = the gateway's frame (one `turn`: the ack + the same bubbles) from a bare server with none "
        "of its work: the floor of this protocol on this stack"
    )
    return "\n".join(lines)


def _lookup(result: dict[str, Any], key: str) -> float:
    if key == "failures":
        # A timeout also stops its child (`broken`): counted once, here.
        return float(result["errors"] + result["timeouts"] + result["connect_failed"])
    value: Any = result
    for part in key.split("."):
        value = value[part]
    return float(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/load.py",
        description=(
            "Load benchmark of the child gateway against a bare python-socketio echo server, in one run. "
            "Starts its own redis-server, gateway and echo server on loopback; stops them at the end."
        ),
        epilog=(
            f"Targets: gateway round trips/s at saturation >= {TARGET_RPS_RATIO} x echo; p99 with the paced "
            f"load <= {TARGET_P99_RATIO} x echo. Results and how to read them: docs/benchmarks.md."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument(
        "--scenarios",
        nargs="+",
        choices=("saturation", "paced"),
        default=["saturation", "paced"],
        help="which scenarios to run",
    )
    parser.add_argument(
        "--servers",
        nargs="+",
        choices=("gateway", "wire", "echo"),
        default=["gateway", "wire", "echo"],
        help=(
            "which servers to measure: the gateway, the wire floor (the gateway's events with none of its "
            "work), the echo (ratios need gateway and echo; one alone is for profiling)"
        ),
    )
    parser.add_argument(
        "--wire-answer",
        default="greet",
        help="the answer (content/answers) whose bubbles the wire floor sends: the one --message gets",
    )
    parser.add_argument("--saturation-clients", type=int, default=64, help="children in the saturation run")
    parser.add_argument("--saturation-workers", type=int, default=2, help="load processes for saturation")
    parser.add_argument("--saturation-seconds", type=float, default=20, help="measured saturation time")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before saturation")
    parser.add_argument("--paced-clients", type=int, default=1000, help="children in the paced run")
    parser.add_argument("--paced-workers", type=int, default=4, help="load processes for the paced run")
    parser.add_argument("--paced-seconds", type=float, default=30, help="length of the paced run")
    parser.add_argument("--rate", type=float, default=1.0, help="messages per child per second (paced)")
    parser.add_argument("--timeout", type=float, default=10, help="seconds before a reply counts as lost")
    parser.add_argument("--pause", type=float, default=2, help="seconds of rest between phases")
    parser.add_argument("--message", default=MESSAGE, help="what each child writes (free text: fallback)")
    parser.add_argument("--worker", metavar="CONFIG", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.worker:
        asyncio.run(worker_main(json.loads(args.worker)))
        return 0
    for name in ("saturation_clients", "paced_clients", "saturation_workers", "paced_workers"):
        if getattr(args, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')} must be at least 1")
    if args.rate <= 0 or args.timeout <= 0:
        raise SystemExit("--rate and --timeout must be positive")
    report = asyncio.run(orchestrate(args))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
