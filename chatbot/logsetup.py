"""Logging for both processes: plain lines, no access log, nothing that could identify a child."""

from __future__ import annotations

import logging


def configure(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiohttp's access log records client addresses; it is never enabled (access_log=None at start),
    # and its logger is silenced in case a library enables it.
    logging.getLogger("aiohttp.access").disabled = True
    for noisy in ("engineio", "socketio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
