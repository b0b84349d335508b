"""Starts Redis (unless REDIS_URL is set), the gateway and the console, and stops them together."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chatbot.redis_server import RedisServer  # noqa: E402


def local_console_key(path: Path) -> Path:
    """The console's key for this machine: made once with 0600 permissions, under var/ (never committed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the whole support chat locally.")
    parser.add_argument("--host", default="127.0.0.1", help="address both servers listen on")
    parser.add_argument("--gateway-port", type=int, default=8000)
    parser.add_argument("--console-port", type=int, default=8001)
    parser.add_argument("--redis-port", type=int, default=6390, help="port of the private Redis")
    args = parser.parse_args()

    env = dict(os.environ)
    redis: RedisServer | None = None
    if not env.get("REDIS_URL"):
        redis = RedisServer(ROOT / "var" / "redis", port=args.redis_port).start()
        env["REDIS_URL"] = redis.url
        print(f"redis    {redis.url}  (private, AOF in var/redis)", flush=True)
    else:
        print("redis    using REDIS_URL from the environment", flush=True)

    if not env.get("CONSOLE_SECRET_KEY") and not env.get("CONSOLE_SECRET_KEY_FILE"):
        env["CONSOLE_SECRET_KEY_FILE"] = str(local_console_key(ROOT / "var" / "console-secret.key"))
        print("key      var/console-secret.key  (local console key, made once, 0600)", flush=True)

    python = sys.executable
    procs = [
        subprocess.Popen(
            [python, "-m", "chatbot", "serve", "--host", args.host, "--port", str(args.gateway_port)],
            cwd=ROOT,
            env=env,
        ),
        subprocess.Popen(
            [python, "-m", "console", "serve", "--host", args.host, "--port", str(args.console_port)],
            cwd=ROOT,
            env=env,
        ),
    ]
    print(f"gateway  http://{args.host}:{args.gateway_port}/   (demo page with the chat)", flush=True)
    print(f"console  http://{args.host}:{args.console_port}/   (staff)", flush=True)
    print("Ctrl-C stops everything.", flush=True)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    status = 0
    try:
        while not stopping:
            for proc in procs:
                code = proc.poll()
                if code is not None:
                    print(
                        f"a server exited with status {code}; stopping the rest", file=sys.stderr, flush=True
                    )
                    status = code or 1
                    stopping = True
            time.sleep(0.2)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if redis is not None:
            redis.stop()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
