"""Command line of the staff process: `python -m console serve` and its siblings."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from chatbot.settings import Settings, SettingsError, env_help
from console import upload_cli, user_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m console",
        description="The staff side of the support chat.",
        epilog=env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    upload_cli.register(commands)
    serve = commands.add_parser(
        "serve",
        help="run the console web server",
        description="Run the staff console. Needs REDIS_URL; `scripts/run` starts everything for you.",
        epilog=env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8001, help="port to listen on (default: 8001)")
    serve.set_defaults(handler=_serve)

    user_cli.register(commands)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from chatbot.logsetup import configure
    from console.app import create_app

    settings = Settings.from_env()
    configure(settings.log_level)
    if not settings.redis_url:
        print(
            "error: REDIS_URL is not set. Point it at a Redis, or run scripts/run to start everything.",
            file=sys.stderr,
        )
        return 2
    print(f"console on http://{args.host}:{args.port}/", flush=True)
    web.run_app(create_app(settings), host=args.host, port=args.port, access_log=None, print=None)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
