"""`python -m chatbot content export`: the published content version written back to the repository's files
(`content/answers/*.yml` and `locales/*/LC_MESSAGES/content.po`), so git review and translation tools keep
working on what children actually read. The way back is `python -m console content-import`, which turns
the files into a draft that goes through the editors' gate (docs/content.md)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chatbot.content.catalogs import DOMAIN
from chatbot.domain.content_versions import ContentVersions, Snapshot
from chatbot.settings import Settings, env_help


def register(sub: Any, dirs: Callable[[argparse.ArgumentParser], None]) -> None:
    export = sub.add_parser(
        "export",
        help="write the published content version (REDIS_URL) to content/answers/ and the content catalogs",
        epilog=env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dirs(export)
    export.add_argument("--version", type=int, default=None, help="a kept version instead of the current one")
    export.set_defaults(handler=_export)


def write_snapshot(snapshot: Snapshot, content_dir: Path, locales_dir: Path) -> list[str]:
    """Write every answer and catalog of `snapshot`; answer files it does not hold are removed.
    Returns the files written or removed (relative names), for the report."""
    changed: list[str] = []
    folder = content_dir / "answers"
    folder.mkdir(parents=True, exist_ok=True)
    for answer_id, text in snapshot.answers.items():
        path = folder / f"{answer_id}.yml"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(f"wrote {path.name}")
    for path in sorted(folder.glob("*.yml")):
        if path.stem not in snapshot.answers:
            path.unlink()
            changed.append(f"removed {path.name}")
    for locale, text in snapshot.catalogs.items():
        path = locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(f"wrote {locale}/LC_MESSAGES/{DOMAIN}.po")
    return changed


def _export(args: argparse.Namespace) -> int:
    settings = Settings.from_env()

    async def work() -> int:
        from chatbot.clock import SystemClock
        from chatbot.store import client
        from chatbot.store.content_versions import ContentVersionStore

        redis = client.connect(
            settings.redis_url,
            sentinels=settings.redis_sentinels,
            master_name=settings.redis_master_name,
            cluster_nodes=settings.redis_cluster_nodes,
        )
        try:
            versions = ContentVersions(
                ContentVersionStore(redis, settings.content_version_retention), SystemClock()
            )
            number = args.version if args.version is not None else await versions.current_number()
            if number is None:
                print("no content version is published yet (the first gateway or console start seeds it)")
                return 1
            try:
                version, snapshot = await versions.version(number)
            except KeyError as exc:
                print(f"error: {exc}")
                return 1
        finally:
            await redis.aclose()
        changed = write_snapshot(snapshot, args.content_dir, args.locales_dir)
        print(
            f"content version {version.number} ({version.kind} by {version.author}): {len(changed)} file(s)"
        )
        for line in changed:
            print(f"  {line}")
        return 0

    return asyncio.run(work())
