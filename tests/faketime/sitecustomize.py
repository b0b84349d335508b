"""Loaded only under `scripts/test --dates` (PYTHONPATH=tests/faketime): keeps time.sleep working under libfaketime.

libfaketime 0.9.10 (Debian 12) returns EINVAL from clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), which
Python's time.sleep uses, when the monotonic clock is left real (DONT_FAKE_MONOTONIC=1, needed because a
faked monotonic clock hangs every timed lock wait). select() with a relative timeout is not affected.
"""

from __future__ import annotations

import os
import select
import time

if "faketime" in os.environ.get("LD_PRELOAD", ""):
    _monotonic = time.monotonic

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = _monotonic() + seconds
        while (left := deadline - _monotonic()) > 0:
            select.select([], [], [], left)

    time.sleep = _sleep
