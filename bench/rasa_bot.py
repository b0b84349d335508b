"""A Rasa 3.6 bot made from our content, so bench/load.py can drive Rasa's own socket.io channel.

Rasa's channel answers only with a full model (NLU and dialogue), so this writes a Rasa project from
`content/` at bench time and trains it with Rasa's own CLI, in the virtualenv `scripts/rasa` builds:

  config.yml       rasa/config-fast.yml's NLU pipeline (the fastest Rasa NLU we have; RASA_BOT_CONFIG=
                   rasa/config.yml for DIET), Rasa's FallbackClassifier at the gateway's NLU_THRESHOLD,
                   and the RulePolicy
  data/nlu/*.yml   content/nlu/*.yml as they are (never content/nlu/heldout/)
  domain.yml       every intent, one response per bubble of its answer (Swedish, buttons on the last
                   bubble, as the gateway sends them), placeholders filled with a fixed sample
  data/rules.yml   intent -> the bubbles of its answer (content's `intent:`; without one, the fallback
                   answer); every button's payload is an intent too; nlu_fallback -> the fallback answer
and `rasa run` gets a credentials.yml with `socketio:` and Rasa's event names (user_uttered / bot_uttered).

The trained model is cached by a hash of the generated project and the Rasa virtualenv
(`${STODCHAT_CACHE:-~/.cache/stodchat}/rasa-models/bot-<hash>.tar.gz`, next to scripts/rasa's models).

    .venv/bin/python bench/rasa_bot.py train          # writes, trains (once), prints the model's path
    .venv/bin/python bench/rasa_bot.py serve --port 26005   # rasa run with the socket.io channel
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

SELF = Path(__file__).resolve()
ROOT = SELF.parent.parent
sys.path.insert(0, str(ROOT))

SCRIPT = ROOT / "scripts" / "rasa"
# The NLU pipeline: the fast one by default (Rasa at its cheapest per message); RASA_BOT_CONFIG=rasa/config.yml
# gives DIET, the pipeline `scripts/rasa serve` uses.
BASE_CONFIG = ROOT / os.environ.get("RASA_BOT_CONFIG", "rasa/config-fast.yml")
LOCALE = "sv"
# Loading TensorFlow and a model takes tens of seconds on a small, busy machine.
START_TIMEOUT = 600.0
# Without session persistence: Rasa 3.6's channel joins a socket to its session's room with
# `sio.enter_room(...)` unawaited, which python-socketio 5.x (5.18.1 in rasa/requirements.txt) made a
# coroutine, so the room is never joined and a persistent session never gets an answer. Without it,
# the conversation is the socket's (sender id = socket id) and the answers reach it.
CREDENTIALS = {
    "socketio": {
        "user_message_evt": "user_uttered",
        "bot_message_evt": "bot_uttered",
        "session_persistence": False,
    }
}
# What the rasa-webchat client and scripts/rasa set: nothing leaves the machine, TensorFlow is quiet.
RASA_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore",
}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("STODCHAT_CACHE") or Path(base) / "stodchat")


def venv() -> Path:
    """Rasa's virtualenv, created by `scripts/rasa setup` if it is missing (minutes, once)."""
    subprocess.run([str(SCRIPT), "setup"], check=True, stdout=sys.stderr)
    done = subprocess.run([str(SCRIPT), "path"], check=True, capture_output=True, text=True)
    return Path(done.stdout.strip())


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def project_files() -> dict[str, str]:
    """The Rasa project as {relative path: text}, made from content/ (deterministic: the cache key)."""
    from chatbot.content.library import Answer, ContentLibrary
    from chatbot.settings import Settings

    library = ContentLibrary.load(ROOT / "content", ROOT / "locales")
    files: dict[str, str] = {}
    nlu_intents: list[str] = []
    for path in sorted((ROOT / "content" / "nlu").glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        files[f"data/nlu/{path.name}"] = text
        for item in (yaml.safe_load(text) or {}).get("nlu") or []:
            if isinstance(item, dict) and item.get("intent") and item["intent"] not in nlu_intents:
                nlu_intents.append(str(item["intent"]))

    fallback = library.get("fallback")
    # intent -> answer: the content's mapping; every button's payload ("/name") is an intent as well.
    targets: dict[str, Answer] = {i: library.for_intent(i) or fallback for i in nlu_intents}
    for answer in library.answers.values():
        for button in answer.buttons:
            if button.name in targets:
                continue
            if button.via == "intent":
                targets[button.name] = library.for_intent(button.name) or fallback
            else:
                targets[button.name] = library.get(button.name)

    responses: dict[str, list[dict[str, Any]]] = {}
    utterances: dict[str, list[str]] = {}

    def utter(answer: Answer) -> list[str]:
        if answer.id not in utterances:
            # The placeholders (e.g. the next opening time) get a fixed sample: no slots, no warnings.
            params = {name: f"<{name}>" for name in answer.placeholders}
            names = []
            for i, reply in enumerate(answer.replies(LOCALE, **params)):
                name = f"utter_{answer.id}_{i}"
                response: dict[str, Any] = {"text": reply.text}
                if reply.quick_replies:
                    response["buttons"] = [
                        {"title": q.title, "payload": q.payload} for q in reply.quick_replies
                    ]
                responses[name] = [response]
                names.append(name)
            utterances[answer.id] = names
        return utterances[answer.id]

    rules = [
        {
            "rule": f"{intent} -> {answer.id}",
            "steps": [{"intent": intent}, *({"action": a} for a in utter(answer))],
        }
        for intent, answer in targets.items()
    ]
    rules.append(
        {
            "rule": f"nlu_fallback -> {fallback.id}",
            "steps": [{"intent": "nlu_fallback"}, *({"action": a} for a in utter(fallback))],
        }
    )
    files["data/rules.yml"] = _dump({"version": "3.1", "rules": rules})
    files["domain.yml"] = _dump(
        {
            "version": "3.1",
            "intents": list(targets),
            "responses": responses,
            "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
        }
    )
    config = yaml.safe_load(BASE_CONFIG.read_text(encoding="utf-8"))
    config["assistant_id"] = "stodchat-bench-bot"
    config["pipeline"] = [c for c in config["pipeline"] if c.get("name") != "FallbackClassifier"]
    config["pipeline"].append({"name": "FallbackClassifier", "threshold": Settings().nlu_threshold})
    config["policies"] = [{"name": "RulePolicy"}]
    files["config.yml"] = _dump(config)
    return files


def write_project(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def model_path(files: dict[str, str], env_dir: Path) -> tuple[Path, str]:
    """Where the model trained from these files in this virtualenv is cached, and its hash."""
    digest = hashlib.sha256(json.dumps([sorted(files.items()), str(env_dir)]).encode()).hexdigest()[:16]
    return cache_dir() / "rasa-models" / f"bot-{digest}.tar.gz", digest


def train(timeout: float = 3600.0) -> Path:
    """The trained bot (cached by the hash of its project and of Rasa's virtualenv): its .tar.gz path."""
    env_dir = venv()
    files = project_files()
    model, digest = model_path(files, env_dir)
    models = model.parent
    if model.is_file():
        return model
    models.mkdir(parents=True, exist_ok=True)
    with (models / ".bot.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two runs on a fresh machine must not train the same bot twice
        if model.is_file():
            return model
        with tempfile.TemporaryDirectory(prefix="stodchat-rasa-bot-") as tmp:
            folder = Path(tmp)
            write_project(folder, files)
            started = time.monotonic()
            print(f"rasa_bot: training bot-{digest} (NLU + RulePolicy) ...", file=sys.stderr, flush=True)
            argv = [str(env_dir / "bin" / "rasa"), "train", "--config", "config.yml", "--domain", "domain.yml",
                    "--data", "data", "--out", str(models), "--fixed-model-name", f"bot-{digest}"]  # fmt: skip
            done = subprocess.run(
                argv,
                cwd=folder,
                env={**os.environ, **RASA_ENV},
                stdout=sys.stderr,
                timeout=timeout,
                check=False,
            )
            if done.returncode != 0 or not model.is_file():
                raise RuntimeError(f"rasa train failed (exit code {done.returncode}); see its output above")
            print(
                f"rasa_bot: trained in {time.monotonic() - started:.0f} s: {model}",
                file=sys.stderr,
                flush=True,
            )
    return model


def serve_argv(model: Path, port: int, folder: Path) -> list[str]:
    """`rasa run` for the bot on 127.0.0.1:port with the socket.io channel (credentials written to folder)."""
    credentials = folder / "credentials.yml"
    credentials.write_text(_dump(CREDENTIALS), encoding="utf-8")
    rasa = venv() / "bin" / "rasa"
    return [str(rasa), "run", "--model", str(model), "--credentials", str(credentials), "--enable-api",
            "--interface", "127.0.0.1", "--port", str(port)]  # fmt: skip


def _tail(logfile: Path) -> str:
    return logfile.read_text(errors="replace")[-2000:]


async def wait_ready(url: str, process: asyncio.subprocess.Process, logfile: Path, within: float) -> None:
    """Until Rasa's /status names the loaded model (the port may open before the model is loaded)."""
    import aiohttp

    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"rasa exited at start:\n{_tail(logfile)}")
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError, ValueError):
                async with session.get(f"{url}/status", timeout=aiohttp.ClientTimeout(total=5)) as response:
                    status = await response.json()
                    if isinstance(status, dict) and status.get("model_file"):
                        return
            await asyncio.sleep(0.5)
    raise RuntimeError(f"rasa did not load its model within {within:.0f} s")


async def start(folder: Path) -> Any:
    """Train (or reuse) the bot and serve it on a free loopback port: a bench/servers.py Server."""
    from servers import Server, free_port

    model = await asyncio.to_thread(train)
    port = free_port()
    argv = await asyncio.to_thread(serve_argv, model, port, folder)
    logfile = folder / "rasa.log"
    with logfile.open("wb") as out:
        # Its own working folder: rasa run may write there.
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=folder, env={**os.environ, **RASA_ENV}, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    server = Server("rasa", process, port, logfile)
    try:
        await wait_ready(server.url, process, logfile, START_TIMEOUT)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    return server


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("train", help="write the project, train it (cached), print the model's path")
    write = sub.add_parser("write", help="only write the project into a folder (to read it)")
    write.add_argument("folder", type=Path)
    serve = sub.add_parser("serve", help="train (cached) and run it with the socket.io channel")
    serve.add_argument("--port", type=int, default=5005)
    args = parser.parse_args()
    if args.command == "write":
        write_project(args.folder, project_files())
        print(args.folder)
    elif args.command == "train":
        print(train())
    else:
        folder = Path(tempfile.mkdtemp(prefix="stodchat-rasa-bot-"))
        argv = serve_argv(train(), args.port, folder)
        os.execve(argv[0], argv, {**os.environ, **RASA_ENV})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
