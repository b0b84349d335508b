"""What `python -m chatbot` and `python -m console` share: the `serve` command and the error handling of main."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from chatbot.settings import Settings, SettingsError, env_help

if TYPE_CHECKING:
    from aiohttp import web

Command = Callable[[argparse.Namespace], int]
# aiohttp is imported only to serve: the content and nlu tools start without it.
AppFactory = Callable[[Settings], "web.Application"]


def add_serve_command(commands: Any, *, what: str, description: str, port: int, handler: Command) -> None:
    """`serve --host --port`, with every setting's environment variable in its help."""
    serve = commands.add_parser(
        "serve",
        help=f"run {what}",
        description=f"{description} Needs REDIS_URL; `scripts/run` starts everything for you.",
        epilog=env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=port, help=f"port to listen on (default: {port})")
    serve.set_defaults(handler=handler)


def serve(args: argparse.Namespace, *, name: str, build: AppFactory) -> int:
    """Settings from the environment, logging, the app, then serve until stopped (no access log: no IPs)."""
    from aiohttp import web

    from chatbot.logsetup import configure

    settings = Settings.from_env()
    configure(settings.log_level)
    if not (settings.redis_url or settings.redis_sentinels or settings.redis_cluster_nodes):
        print(
            "error: REDIS_URL is not set. Point it at a Redis, or run scripts/run to start everything.",
            file=sys.stderr,
        )
        return 2
    # Built before the banner, so a setting the app refuses is the last word, not a line after "on http".
    app = build(settings)
    print(f"{name} on http://{args.host}:{args.port}/", flush=True)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)
    return 0


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse and run a command; a setting we cannot use is one clear line and exit status 2."""
    args = parser.parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
