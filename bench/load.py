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

Opt-in, `--servers ... rasa`: Rasa 3.6's own socket.io channel with a bot made from our content
(bench/rasa_bot.py, in the virtualenv scripts/rasa builds), driven by plain Rasa clients; its round trip
ends with the last `bot_uttered` of the answer (counted once before the run).

Targets (docs/benchmarks.md): gateway round trips/s at saturation >= 0.5 x echo; paced p99 <= 2 x echo;
issue 17's: server CPU per message at saturation <= 3.8 x the echo's, paced p99 <= 4 x the echo's.
Loopback only; everything it starts it stops; every loop is bounded by time.

    .venv/bin/python bench/load.py            # a few minutes; table on stdout, progress on stderr
    .venv/bin/python bench/load.py --json     # the same figures as JSON

This file is the command; its parts: bench/load_worker.py (a load process of children),
bench/load_orchestrator.py (servers, phases, CPU accounting), bench/load_report.py (verdicts and the table),
and, shared with bench/idle.py, bench/servers.py and bench/machine.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

SELF = Path(__file__).resolve()
ROOT = SELF.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SELF.parent))  # its parts, also when it is imported rather than run

from load_orchestrator import orchestrate  # noqa: E402
from load_report import (  # noqa: E402
    TARGET_CPU_RATIO,
    TARGET_P99_RATIO,
    TARGET_P99_RATIO_ISSUE_17,
    TARGET_RPS_RATIO,
    render,
)
from load_worker import worker_main  # noqa: E402

MESSAGE = "hej, jag vet inte vad jag ska göra"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/load.py",
        description=(
            "Load benchmark of the child gateway against a bare python-socketio echo server, in one run. "
            "Starts its own redis-server, gateway and echo server on loopback; stops them at the end."
        ),
        epilog=(
            f"Targets: gateway round trips/s at saturation >= {TARGET_RPS_RATIO} x echo; p99 with the paced "
            f"load <= {TARGET_P99_RATIO} x echo; issue 17: server CPU per message at saturation <= "
            f"{TARGET_CPU_RATIO} x echo's, paced p99 <= {TARGET_P99_RATIO_ISSUE_17:g} x echo's. Results and "
            "how to read them: docs/benchmarks.md."
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
        choices=("gateway", "wire", "echo", "rasa"),
        default=["gateway", "wire", "echo"],
        help=(
            "which servers to measure: the gateway, the wire floor (the gateway's events with none of its "
            "work), the echo (ratios need gateway and echo; one alone is for profiling), rasa (opt-in: "
            "Rasa 3.6's own socket.io channel with a bot made from content/ by bench/rasa_bot.py, in the "
            "virtualenv scripts/rasa builds; its round trip ends with the answer's last bot_uttered)"
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
