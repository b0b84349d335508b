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
    migrate = commands.add_parser(
        "migrate-keys",
        help="rename the keys of an installation from before the hash tags (once, all processes stopped)",
        description="Renames every key written before keys carried a hash tag (sc:conv:{id} becomes "
        "sc:{chat}:conv:id), keeping values and TTLs, on the Redis in REDIS_URL (or the Sentinel "
        "primary). Stop every gateway and console first; run it before moving the data to a Redis "
        "Cluster (docs/deployment.md). Running it twice changes nothing.",
        epilog=env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    migrate.add_argument("--dry-run", action="store_true", help="only count what would be renamed")
    migrate.set_defaults(handler=_migrate_keys)
    add_content_commands(commands)
    add_nlu_commands(commands)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from chatbot.gateway.app import create_app

    return serve(args, name="chatbot gateway", build=create_app)


def _migrate_keys(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from chatbot.settings import Settings
    from chatbot.store import client
    from chatbot.store.migrate_keys import migrate

    settings = Settings.from_env()
    if settings.redis_cluster_nodes:
        print("error: migrate the single Redis before moving its data to a cluster", file=sys.stderr)
        return 2
    if not (settings.redis_url or settings.redis_sentinels):
        print("error: REDIS_URL is not set", file=sys.stderr)
        return 2

    async def work() -> int:
        redis = client.connect(
            settings.redis_url, sentinels=settings.redis_sentinels, master_name=settings.redis_master_name
        )
        try:
            done = await migrate(redis, dry_run=args.dry_run)
        finally:
            await redis.aclose()
        verb = "would rename" if args.dry_run else "renamed"
        print(f"{verb} {done.renamed} keys and {done.return_codes} return-code references")
        for old in done.conflicts:
            print(f"left as it is (its new name is taken): {old}", file=sys.stderr)
        return 1 if done.conflicts else 0

    return asyncio.run(work())


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
