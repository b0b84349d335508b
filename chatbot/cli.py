"""Command line of the child-facing process: `python -m chatbot serve` and its siblings."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from chatbot.cli_support import add_serve_command, run, serve
from chatbot.content.cli import add_content_commands
from chatbot.nlu.cli import add_nlu_commands
from chatbot.settings import env_help


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chatbot",
        description="The children's side of the support chat: socket.io gateway and bot.",
        epilog=env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add_serve_command(
        commands,
        what="the gateway (socket.io for children, demo page)",
        description="Run the child gateway.",
        port=8000,
        handler=_serve,
    )

    redis_cmd = commands.add_parser(
        "redis", help="run a private redis-server with AOF in a data directory (for local development)"
    )
    redis_cmd.add_argument(
        "--data-dir", default="var/redis", help="where Redis keeps its AOF (default: var/redis)"
    )
    redis_cmd.add_argument("--port", type=int, default=6390, help="port on 127.0.0.1 (default: 6390)")
    redis_cmd.set_defaults(handler=_redis)
    add_content_commands(commands)
    add_nlu_commands(commands)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from chatbot.gateway.app import create_app

    return serve(args, name="chatbot gateway", build=create_app)


def _redis(args: argparse.Namespace) -> int:
    import signal
    from pathlib import Path

    from chatbot.redis_server import RedisServer

    # Block the signals first so sigwait receives them instead of a KeyboardInterrupt.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    server = RedisServer(Path(args.data_dir), port=args.port).start()
    print(f"redis on {server.url} (data in {args.data_dir})", flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)
