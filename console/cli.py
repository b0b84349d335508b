"""Command line of the staff process: `python -m console serve` and its siblings."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from chatbot.cli_support import add_serve_command, run, serve
from chatbot.settings import env_help
from console import content_import_cli, messages_cli, overrules_cli, upload_cli, user_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m console",
        description="The staff side of the support chat.",
        epilog=env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    upload_cli.register(commands)
    add_serve_command(
        commands,
        what="the console web server",
        description="Run the staff console.",
        port=8001,
        handler=_serve,
    )
    user_cli.register(commands)
    messages_cli.register(commands)
    content_import_cli.register(commands)
    overrules_cli.register(commands)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from console.app import create_app

    return serve(args, name="console", build=create_app)


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)
