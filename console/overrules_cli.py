"""`python -m console content-overrules`: the gate's overrules stored by the console (REDIS_URL) written into
content/guidelines/bank/overrules.yml, where they join the bank in git (docs/content.md, "The bank")."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from chatbot.content.wording_bank import BANK_DIR, OVERRULES
from chatbot.settings import Settings, env_help


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "content-overrules",
        help="write the editors' overrules of the guideline gate into the bank (overrules.yml)",
        epilog=env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=BANK_DIR / OVERRULES, help="the bank file to merge into")
    parser.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    settings = Settings.from_env()

    async def work() -> int:
        from chatbot.clock import SystemClock
        from chatbot.domain.content_versions import ContentVersions
        from chatbot.store import client
        from chatbot.store.audit import AuditLog
        from chatbot.store.content_versions import ContentVersionStore
        from console.domain.editing import Workspace
        from console.domain.overrules import Overrules, write_bank
        from console.store.drafts import DraftStore
        from console.store.overrules import OverruleStore

        clock = SystemClock()
        redis = client.connect(
            settings.redis_url, sentinels=settings.redis_sentinels, master_name=settings.redis_master_name
        )
        try:
            audit = AuditLog(redis, clock, settings.audit_retention)
            versions = ContentVersions(ContentVersionStore(redis, settings.content_version_retention), clock)
            overrules = Overrules(
                OverruleStore(redis), Workspace(DraftStore(redis), versions, audit, clock), audit, clock
            )
            new = write_bank(await overrules.all(), args.out)
        finally:
            await redis.aclose()
        print(
            f"{args.out}: {new} new overrule(s); run the bank's tests (tests/chatbot/content/test_wording_gate.py)"
        )
        return 0

    return asyncio.run(work())
