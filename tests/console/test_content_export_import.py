"""`python -m chatbot content export` writes the published version as files; `python -m console
content-import` turns changed files into a draft for review (real CLIs in subprocesses, real Redis)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.domain.content_versions import ContentVersions, Snapshot
from chatbot.settings import Settings
from chatbot.store.content_versions import ContentVersionStore
from chatbot.store.keys import tagged
from console.domain.editing import EDITING, Draft
from console.store.drafts import DraftStore
from tests.conftest import ROOT


async def _cli(settings: Settings, *argv: str) -> tuple[int, str]:
    env = {**os.environ, "REDIS_URL": settings.redis_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *argv,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_export_writes_the_published_version_and_import_makes_a_draft(
    redis: Redis, clock: FixedClock, settings: Settings, tmp_path: Path
) -> None:
    versions = ContentVersions(ContentVersionStore(redis, settings.content_version_retention), clock)
    seed = Snapshot.from_repository(settings.content_dir, settings.locales_dir)
    await versions.seed(seed)
    text = seed.answers["anonymity"].replace("Du är anonym här.", "Här är du anonym.")
    await versions.publish(
        seed.with_answers({"anonymity": text}), base=1, author="edith", reviewers=("erik",)
    )

    content, locales = tmp_path / "content", tmp_path / "locales"
    shutil.copytree(settings.content_dir / "answers", content / "answers")
    code, out = await _cli(
        settings, "chatbot", "content", "export", "--content-dir", str(content), "--locales-dir", str(locales)
    )
    assert code == 0, out
    assert "content version 2 (publish by edith)" in out and "wrote anonymity.yml" in out
    assert (content / "answers" / "anonymity.yml").read_text(encoding="utf-8") == text
    assert Snapshot.from_repository(content, locales) == seed.with_answers({"anonymity": text})

    edited = text.replace("Här är du anonym.", "Du är helt anonym här.")
    (content / "answers" / "anonymity.yml").write_text(edited, encoding="utf-8")
    code, out = await _cli(
        settings,
        "console",
        "content-import",
        "--author",
        "edith",
        "--content-dir",
        str(content),
        "--locales-dir",
        str(locales),
    )
    assert code == 0, out
    assert "anonymity" in out and "guideline check: passes" in out
    [draft_id] = await DraftStore(redis).ids()
    draft = Draft.from_json(await DraftStore(redis).load(draft_id) or "")
    assert draft.author == "edith" and draft.status == EDITING and draft.base == 2
    assert draft.edits["anonymity"].bubbles[0].startswith("Du är helt anonym här.")
    assert await versions.current_number() == 2  # nothing is published by an import


async def test_import_turns_new_and_removed_answer_files_into_the_draft(
    redis: Redis, clock: FixedClock, settings: Settings, tmp_path: Path
) -> None:
    versions = ContentVersions(ContentVersionStore(redis, settings.content_version_retention), clock)
    await versions.seed(Snapshot.from_repository(settings.content_dir, settings.locales_dir))
    content = tmp_path / "content"
    shutil.copytree(settings.content_dir / "answers", content / "answers")
    (content / "answers" / "canned_breathe.yml").write_text(
        "id: canned_breathe\nkind: canned\nbubbles:\n  - Ta den tid du behöver. Jag är kvar här.\n",
        encoding="utf-8",
    )
    (content / "answers" / "canned_goodbye.yml").unlink()
    code, out = await _cli(
        settings,
        "console",
        "content-import",
        "--author",
        "edith",
        "--content-dir",
        str(content),
        "--locales-dir",
        str(settings.locales_dir),
    )
    assert code == 0, out
    assert "new: canned_breathe" in out and "removed: canned_goodbye" in out and "check: passes" in out
    [draft_id] = await DraftStore(redis).ids()
    draft = Draft.from_json(await DraftStore(redis).load(draft_id) or "")
    assert draft.new["canned_breathe"].kind == "canned" and draft.deleted == ["canned_goodbye"]
    assert draft.edits["canned_breathe"].bubbles == ("Ta den tid du behöver. Jag är kvar här.",)

    # A removed file that another answer's button still leads to is refused, naming them.
    (content / "answers" / "canned_goodbye.yml").write_text(
        (settings.content_dir / "answers" / "canned_goodbye.yml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    (content / "answers" / "canned_breathe.yml").unlink()
    (content / "answers" / "grooming_signs.yml").unlink()
    await redis.delete(*[k async for k in redis.scan_iter(tagged("content") + ":content:*")])
    code, out = await _cli(
        settings, "console", "content-import", "--author", "edith", "--content-dir", str(content)
    )
    assert code == 1 and "referenced_buttons: grooming" in out, out
