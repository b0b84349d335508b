"""What `python -m chatbot` and `python -m console` share: the `serve` command and the error handling of main."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from chatbot.settings import Settings, SettingsError, env_help

if TYPE_CHECKING:
    from aiohttp import web

Command = Callable[[argparse.Namespace], int]
# aiohttp is imported only to serve: the content and nlu tools start without it.
AppFactory = Callable[[Settings], "web.Application"]
# Python collects its youngest objects each time this many more were made than freed (700 by default).
# A message makes and frees hundreds of small objects; at the default the collector ran 35 times a second
# under 500 messages a second and, with its older generations, took about 5 % of the gateway's CPU and
# stopped the loop for up to 10 ms at a time. Cycles wait a little longer to be freed; nothing else changes.
YOUNG_OBJECTS_BEFORE_COLLECTION = 10_000


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
    # After every startup step (the app's own ran first: the model is trained, the content loaded).
    app.on_startup.append(settle_heap)
    print(f"{name} on http://{args.host}:{args.port}/", flush=True)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)
    return 0


async def settle_heap(_app: web.Application) -> None:
    """Collect once, then freeze what startup made (the intent model, the content, the catalogs): about
    200,000 objects that live as long as the process. Python's collector walked all of them on every full
    pass, up to 170 ms with the loop stopped, which set every child's worst wait (docs/benchmarks.md). Frozen,
    they are never walked again; what is made afterwards is collected as before, in larger steps."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS_BEFORE_COLLECTION)


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse and run a command; a setting we cannot use is one clear line and exit status 2."""
    args = parser.parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
