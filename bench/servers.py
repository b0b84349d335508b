"""The servers a benchmark starts on loopback: a free port, start until it listens, stop, and progress lines."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
