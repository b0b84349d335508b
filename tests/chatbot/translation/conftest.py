"""A private copy of the answers and every catalog, safe to change, and the workspace on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chatbot.cli import main
from chatbot.settings import PROJECT_ROOT

OLD = "Tack själv! Vad bra att du hörde av dig."
NEW = "Tack! Skönt att du skrev till oss."


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    content, locales = tmp_path / "content", tmp_path / "locales"
    shutil.copytree(PROJECT_ROOT / "content" / "answers", content / "answers")
    shutil.copytree(PROJECT_ROOT / "locales", locales)
    return content, locales


def change_source(
    content: Path, locales: Path, answer: str = "thanks", old: str = OLD, new: str = NEW
) -> None:
    """An editor rewrites a Swedish bubble and runs `content update`: its translations turn fuzzy."""
    path = content / "answers" / f"{answer}.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    args = ["content", "update", "--content-dir", str(content), "--locales-dir", str(locales)]
    assert main(args) == 0
