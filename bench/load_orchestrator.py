"""bench/load.py's orchestrator: the servers, one phase per server and scenario, CPU accounting, the figures.

It spawns the load processes (bench/load_worker.py, through `bench/load.py --worker`), starts them together,
and merges what they report with the CPU time each process used during the measured window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from load_report import verdicts
from machine import cpu_pressure, cpu_seconds, machine_busy, machine_info
from servers import ROOT, Server, free_port, log, start_server, stop_process

ENTRY = Path(__file__).resolve().parent / "load.py"  # the command a load process runs, with --worker
# Far above any real child: the benchmark measures the path a message takes, not the abuse limit.
BENCH_RATE_LIMIT = 1_000_000


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
    answer_frames: int = 1,
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
            "answer_frames": answer_frames,
        }
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(ENTRY),
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
            # Rasa 3.6's own socket.io channel with a bot made from our content (opt-in: its own venv).
            frames = {"gateway": 1, "wire": 1, "echo": 1}
            if "rasa" in args.servers:
                from load_worker import probe_answer_frames
                from rasa_bot import start as start_rasa

                log("rasa: building (cached) and starting Rasa 3.6 with a bot made from content/")
                rasa = await start_rasa(tmpdir)
                servers.append(rasa)
                frames["rasa"] = await probe_answer_frames(rasa.url, args.message, 120)
                log(f"rasa: listening on {rasa.url}; it answers the message in {frames['rasa']} bot_uttered")
                chosen.append(rasa)
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
                        answer_frames=frames[server.name],
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
