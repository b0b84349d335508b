"""Command line of the staff process: `python -m console serve` and its siblings."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from redis.asyncio import Redis

from chatbot.settings import Settings, SettingsError, env_help
from console import upload_cli
from console.domain.accounts import AccountService


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

    user = commands.add_parser("user", help="manage staff accounts")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_commands.add_parser(
        "add",
        help="create an account; prints a one-time password and a TOTP provisioning URI",
        description="Create a staff account. The password and the TOTP URI are shown once and never again.",
    )
    add.add_argument("name", help="login name: 2-32 characters, a-z first, then a-z 0-9 _ . -")
    add.add_argument(
        "--role", required=True, help="counsellor, supervisor, editor, translator, analyst or admin"
    )
    add.add_argument("--display", default=None, help="name shown to children when chatting (default: NAME)")
    add.add_argument("--capacity", type=int, default=2, help="most chats at once (default: 2)")
    add.set_defaults(handler=_user_add)
    listing = user_commands.add_parser("list", help="list accounts and their roles")
    listing.set_defaults(handler=_user_list)
    return parser


def _user_add(args: argparse.Namespace) -> int:
    import asyncio

    from console.domain.accounts import AccountError

    settings = _settings_with_redis()
    if settings is None:
        return 2

    async def run() -> int:
        redis = Redis.from_url(settings.redis_url)
        try:
            service = await _accounts(settings, redis)
            try:
                made = await service.create(
                    args.name, args.role, display=args.display, capacity=args.capacity
                )
            except AccountError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
        finally:
            await redis.aclose()
        print(f"account:  {made.name} ({made.role.value})")
        print(f"password: {made.password}")
        print(f"totp:     {made.totp_uri}")
        print("Give these to the person over a safe channel; they are not shown again.")
        return 0

    return asyncio.run(run())


def _user_list(args: argparse.Namespace) -> int:
    import asyncio

    settings = _settings_with_redis()
    if settings is None:
        return 2

    async def run() -> int:
        redis = Redis.from_url(settings.redis_url)
        try:
            store = (await _accounts(settings, redis)).store
            for name in await store.names():
                record = await store.get(name)
                if record is not None:
                    print(f"{name}\t{record.role}\tcapacity {record.capacity}")
        finally:
            await redis.aclose()
        return 0

    return asyncio.run(run())


def _settings_with_redis() -> Settings | None:
    settings = Settings.from_env()
    if not settings.redis_url:
        print("error: REDIS_URL is not set. Point it at the console's Redis.", file=sys.stderr)
        return None
    if settings.console_secret_key is None:
        from console.app import MISSING_KEY

        print(f"error: {MISSING_KEY}", file=sys.stderr)
        return None
    return settings


async def _accounts(settings: Settings, redis: Redis) -> AccountService:
    """The account service with the console's key, checked against the accounts already there."""
    from chatbot.clock import SystemClock
    from console.store.accounts import AccountStore
    from console.store.sealing import SecretBox

    assert settings.console_secret_key is not None
    box = SecretBox.from_hex(settings.console_secret_key.reveal())
    service = AccountService(AccountStore(redis, box), SystemClock(), b"cli")
    # A key that differs from the server's would make accounts nobody can sign in to: refuse (SettingsError).
    await service.check_key()
    return service


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
