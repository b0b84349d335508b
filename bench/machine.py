"""What the benchmarks say about the machine: CPU time of a process, busy and stolen time, the hardware."""

from __future__ import annotations

import contextlib
import os
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

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
