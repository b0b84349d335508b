"""`python -m console content-import --author NAME`: the repository's answer files as a draft of the editors'
workspace, against the published version (REDIS_URL). The draft goes through the same gate and review as
one written in the console; nothing is published by this command (docs/content.md)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from chatbot.settings import PROJECT_ROOT, Settings, env_help


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "content-import",
        help="turn content/answers/ into a draft for review in the editors' workspace",
        epilog=env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--author", required=True, help="the editor the draft belongs to (an account name)")
    parser.add_argument("--content-dir", type=Path, default=PROJECT_ROOT / "content")
    parser.add_argument("--locales-dir", type=Path, default=PROJECT_ROOT / "locales")
    parser.set_defaults(handler=_import)


def _import(args: argparse.Namespace) -> int:
    settings = Settings.from_env()

    async def work() -> int:
        from chatbot.clock import SystemClock
        from chatbot.domain.content_versions import ContentVersions, Snapshot
        from chatbot.store import client
        from chatbot.store.audit import AuditLog
        from chatbot.store.content_versions import ContentVersionStore
        from console.domain.editing import EditingError, Workspace, answer_edit
        from console.store.drafts import DraftStore

        clock = SystemClock()
        redis = client.connect(
            settings.redis_url,
            sentinels=settings.redis_sentinels,
            master_name=settings.redis_master_name,
            cluster_nodes=settings.redis_cluster_nodes,
        )
        try:
            versions = ContentVersions(ContentVersionStore(redis, settings.content_version_retention), clock)
            workspace = Workspace(
                DraftStore(redis), versions, AuditLog(redis, clock, settings.audit_retention), clock
            )
            files = Snapshot.from_repository(args.content_dir, args.locales_dir)
            _version, published = await workspace.published()
            library = files.library()
            changed = [
                a
                for a in files.answers
                if a in published.answers and files.answers[a] != published.answers[a]
            ]
            created = sorted(set(files.answers) - set(published.answers))
            removed = sorted(set(published.answers) - set(files.answers))
            if not (changed or created or removed):
                print("the files say what the published version says: no draft")
                return 0
            try:
                draft_id: str | None = None
                # New answers first (a changed answer's button may lead to one), removals last (once the
                # buttons that led to them are changed).
                for answer_id in created:
                    answer = library.get(answer_id)
                    draft = await workspace.new_answer(
                        args.author, answer_id, answer.kind, answer.intent, answer.bubbles[0], draft_id
                    )
                    draft_id = draft.id
                if changed:
                    if draft_id is None:
                        draft = await workspace.create(args.author, changed)
                        draft_id = draft.id
                    else:
                        for answer_id in changed:
                            draft = await workspace.add_answer(draft_id, args.author, answer_id)
                for answer_id in [*created, *changed]:
                    assert draft_id is not None
                    draft = await workspace.save(
                        draft_id, args.author, answer_id, answer_edit(library.get(answer_id))
                    )
                for answer_id in removed:
                    draft = await workspace.delete_answer(args.author, answer_id, draft_id)
                    draft_id = draft.id
                assert draft_id is not None
                draft = await workspace.get(draft_id)
                result = await workspace.check(draft)
            except EditingError as exc:
                print(f"error: {exc.code}: {exc.message}")
                return 1
        finally:
            await redis.aclose()
        parts = [", ".join(changed)] if changed else []
        if created:
            parts.append("new: " + ", ".join(created))
        if removed:
            parts.append("removed: " + ", ".join(removed))
        print(f"draft {draft.id} by {args.author}: {'; '.join(parts)}")
        print("guideline check: " + ("passes" if result.ok else f"{len(result.violations)} violation(s)"))
        return 0

    return asyncio.run(work())
