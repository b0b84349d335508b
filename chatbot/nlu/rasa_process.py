"""Running Rasa through scripts/rasa: train a model on some data, serve it on a loopback port, stop it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

from chatbot.nlu.rasa import RasaError, http_json
from chatbot.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

SCRIPT = PROJECT_ROOT / "scripts" / "rasa"
# Loading TensorFlow and a model takes tens of seconds on a small machine.
START_TIMEOUT = 300.0


class RasaUnavailable(RuntimeError):
    """scripts/rasa could not set up, train or serve; the message says why (with Rasa's last output)."""


def _run(args: list[str], *, timeout: float) -> str:
    """Run scripts/rasa; stderr streams through (progress), stdout is returned."""
    try:
        done = subprocess.run(
            [str(SCRIPT), *args], stdout=subprocess.PIPE, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise RasaUnavailable(f"scripts/rasa {args[0]} took longer than {timeout:.0f}s") from None
    if done.returncode != 0:
        raise RasaUnavailable(f"scripts/rasa {args[0]} failed with exit code {done.returncode}")
    return done.stdout.strip()


def setup(timeout: float = 3600.0) -> None:
    """Create Rasa's virtualenv if it is missing (minutes once, then a no-op)."""
    _run(["setup"], timeout=timeout)


def train(data: Path | None = None, timeout: float = 3600.0) -> Path:
    """Train (or reuse the cached) model for `data` (a file or folder; default: the project's data)."""
    args = ["train"] + (["--data", str(data)] if data is not None else [])
    model = Path(_run(args, timeout=timeout).splitlines()[-1])
    if not model.is_file():
        raise RasaUnavailable(f"scripts/rasa train printed {model}, which is not a file")
    return model


class RasaServer:
    """`rasa run --enable-api` for one model on 127.0.0.1:port, as a context manager."""

    def __init__(self, model: Path, port: int, log_path: Path | None = None) -> None:
        self.model = model
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RasaServer:
        output = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                [str(SCRIPT), "serve", "--model", str(self.model), "--port", str(self.port)],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() ends Rasa's children too
            )
        finally:
            if output is not subprocess.DEVNULL:
                output.close()  # type: ignore[union-attr]
        return self

    async def wait_ready(self, within: float = START_TIMEOUT) -> None:
        """Wait until /status answers; raises RasaUnavailable (with the log's tail) if Rasa dies or hangs."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RasaUnavailable(f"rasa run exited early{self._log_tail()}")
            with contextlib.suppress(RasaError):
                status = await http_json(self.url, "/status", None, 2.0)
                if isinstance(status, dict) and status.get("model_file"):
                    return
            await asyncio.sleep(0.5)
        raise RasaUnavailable(f"rasa run did not answer within {within:.0f}s{self._log_tail()}")

    def stop(self) -> None:
        """End Rasa and its children (TERM, then KILL after 10 s)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def kill(self) -> None:
        """End Rasa at once, as a crash would (for fallback tests)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def _log_tail(self) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").splitlines()[-15:]
        return ":\n" + "\n".join(lines)

    def __enter__(self) -> RasaServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
