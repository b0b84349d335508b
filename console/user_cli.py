"""`python -m console user ...`: create, list, disable, enable, reset and remove staff accounts."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from chatbot.settings import Settings
from chatbot.store import client
from console.domain.accounts import AccountError, AccountService, NewAccount

Work = Callable[[AccountService], Awaitable[int]]


def register(commands: Any) -> None:
    user = commands.add_parser(
        "user",
        help="manage staff accounts",
        description="Manage staff accounts. Needs REDIS_URL and the console key (CONSOLE_SECRET_KEY[_FILE]).",
    )
    actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = actions.add_parser(
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
    add.set_defaults(handler=_add)
    listing = actions.add_parser("list", help="list accounts: name, role, status (active/disabled), capacity")
    listing.set_defaults(handler=_list)
    for name, text in (
        ("disable", "no more sign-ins; every session of the account ends now, its open consoles too"),
        ("enable", "allow sign-ins again (with the same password and authenticator)"),
        ("reset", "new one-time password and TOTP URI (printed once); every session of the account ends"),
        ("remove", "delete the account; every session ends (needs --yes: it cannot be undone)"),
    ):
        action = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        action.add_argument("name", help="the account's login name")
        if name == "remove":
            action.add_argument("--yes", action="store_true", help="confirm: the account cannot be restored")
        action.set_defaults(handler=_ADMIN[name])


def _add(args: argparse.Namespace) -> int:
    async def work(service: AccountService) -> int:
        made = await service.create(args.name, args.role, display=args.display, capacity=args.capacity)
        _print_secrets(made)
        return 0

    return _run(work)


def _list(args: argparse.Namespace) -> int:
    async def work(service: AccountService) -> int:
        for record in await service.accounts():
            status = "disabled" if record.disabled else "active"
            print(f"{record.name}\t{record.role}\t{status}\tcapacity {record.capacity}")
        return 0

    return _run(work)


def _disable(args: argparse.Namespace) -> int:
    async def work(service: AccountService) -> int:
        ended = await service.disable(args.name)
        print(f"{args.name}: disabled; {_sessions(ended)} ended, open consoles signed out")
        return 0

    return _run(work)


def _enable(args: argparse.Namespace) -> int:
    async def work(service: AccountService) -> int:
        await service.enable(args.name)
        print(f"{args.name}: enabled")
        return 0

    return _run(work)


def _reset(args: argparse.Namespace) -> int:
    async def work(service: AccountService) -> int:
        made, ended = await service.reset(args.name)
        _print_secrets(made)
        print(f"The old password and authenticator no longer work; {_sessions(ended)} ended.")
        return 0

    return _run(work)


def _remove(args: argparse.Namespace) -> int:
    if not args.yes:
        print(f"error: removing {args.name} cannot be undone; run again with --yes", file=sys.stderr)
        return 1

    async def work(service: AccountService) -> int:
        ended = await service.remove(args.name)
        print(f"{args.name}: removed; {_sessions(ended)} ended")
        return 0

    return _run(work)


_ADMIN = {"disable": _disable, "enable": _enable, "reset": _reset, "remove": _remove}


def _print_secrets(made: NewAccount) -> None:
    print(f"account:  {made.name} ({made.role.value})")
    print(f"password: {made.password}")
    print("This password works once. Give it to the person over a safe channel; it is not shown again.")
    print("At the first sign-in (leave the code empty) they choose their own password, then scan the")
    print("authenticator QR code the console shows and confirm it with one code.")


def _sessions(count: int) -> str:
    return f"{count} session" + ("" if count == 1 else "s")


def _run(work: Work) -> int:
    """Settings, Redis and the checked account service around one action; AccountError is exit status 1."""
    settings = Settings.from_env()
    if not (settings.redis_url or settings.redis_sentinels or settings.redis_cluster_nodes):
        print("error: REDIS_URL is not set. Point it at the console's Redis.", file=sys.stderr)
        return 2
    if settings.console_secret_key is None:
        from console.app import MISSING_KEY

        print(f"error: {MISSING_KEY}", file=sys.stderr)
        return 2

    async def run() -> int:
        redis = client.connect(
            settings.redis_url,
            sentinels=settings.redis_sentinels,
            master_name=settings.redis_master_name,
            cluster_nodes=settings.redis_cluster_nodes,
        )
        try:
            service = await _accounts(settings, redis)
            try:
                return await work(service)
            except AccountError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
        finally:
            await redis.aclose()

    return asyncio.run(run())


async def _accounts(settings: Settings, redis: Redis) -> AccountService:
    """The account service with the console's key, checked against the accounts already there."""
    from chatbot.clock import SystemClock
    from console.domain.throttle import SignInThrottle
    from console.store.accounts import AccountStore
    from console.store.sealing import SecretBox
    from console.store.throttle import ThrottleStore

    assert settings.console_secret_key is not None
    box = SecretBox.from_hex(settings.console_secret_key.reveal())
    # The throttle's key only hashes clients and unknown names; the CLI clears accounts' counters by name.
    throttle = SignInThrottle(ThrottleStore(redis), SystemClock(), b"cli")
    service = AccountService(AccountStore(redis, box), SystemClock(), throttle)
    # A key that differs from the server's would make accounts nobody can sign in to: refuse (SettingsError).
    await service.check_key()
    return service
