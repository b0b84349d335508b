"""Command line of the child-facing process: `python -m chatbot serve` and its siblings."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from chatbot.content_cli import add_content_commands
from chatbot.nlu.cli import add_nlu_commands
from chatbot.settings import Settings, SettingsError, env_help

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chatbot",
        description="The children's side of the support chat: socket.io gateway and bot.",
        epilog=env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the gateway (socket.io for children, demo page)",
        description="Run the child gateway. Needs REDIS_URL; `scripts/run` starts everything for you.",
        epilog=env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    serve.set_defaults(handler=_serve)

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
    from aiohttp import web

    from chatbot.gateway.app import create_app
    from chatbot.logsetup import configure

    settings = Settings.from_env()
    configure(settings.log_level)
    if not settings.redis_url:
        print(
            "error: REDIS_URL is not set. Point it at a Redis, or run scripts/run to start everything.",
            file=sys.stderr,
        )
        return 2
    app = create_app(settings)
    print(f"chatbot gateway on http://{args.host}:{args.port}/", flush=True)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)
    return 0


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
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
