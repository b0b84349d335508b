"""The .po round trip: an export clean under msgfmt -c that re-imports with no change; a checked import."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatbot.translation.exchange import ImportError_, export_po, plan_import
from chatbot.translation.units import State
from chatbot.translation.workspace import load_workspace
from tests.chatbot.translation.conftest import NEW, OLD, change_source

NOW = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
MSGFMT = shutil.which("msgfmt")


@pytest.mark.parametrize(
    ("locale", "domain"), [("ar", "content"), ("ar", "widget"), ("en", "content"), ("sv", "console")]
)
def test_an_export_passes_msgfmt_and_reimports_with_no_change(
    tree: tuple[Path, Path], tmp_path: Path, locale: str, domain: str
) -> None:
    change_source(*tree)  # one stale entry goes out fuzzy, with its old source
    ws = load_workspace(*tree)
    data = export_po(ws, locale, domain, NOW)  # type: ignore[arg-type]
    path = tmp_path / f"{locale}-{domain}.po"
    path.write_bytes(data)
    # Loud, never a skip: the exchange with Weblate and Poedit rests on it.
    assert MSGFMT is not None, "msgfmt is missing: run scripts/ensure-gettext (scripts/test does)"
    done = subprocess.run([str(MSGFMT), "-c", "-o", "/dev/null", str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    plan = plan_import(ws, locale, domain, data)  # type: ignore[arg-type]
    assert plan.changes == [] and plan.refused == [] and plan.unknown == [] and plan.outdated == []
    assert plan.unchanged > 50
    if domain == "content" and locale != "sv":
        assert plan.fuzzy == 1
        text = data.decode()
        assert f'#| msgid "{OLD}"' in text and f'msgid "{NEW}"' in text


def test_an_import_shows_its_changes_and_refuses_what_fails_the_checks(tree: tuple[Path, Path]) -> None:
    change_source(*tree)
    ws = load_workspace(*tree)
    text = export_po(ws, "en", "content", NOW).decode()
    # Poedit: the stale entry confirmed with a new text, a placeholder broken elsewhere.
    text = text.replace(
        '#, fuzzy\n#| msgid "Tack själv! Vad bra att du hörde av dig."\n'
        'msgctxt "thanks:bubble:0"\n'
        f'msgid "{NEW}"\n'
        'msgstr "You\'re welcome! Good that you got in touch."',
        f'msgctxt "thanks:bubble:0"\nmsgid "{NEW}"\nmsgstr "Thanks! Good that you wrote to us."',
    )
    assert "Thanks! Good that you wrote" in text
    start = text.index('msgstr "You are back in the queue, number {position}')
    broken_key = text[text.rindex("msgctxt", 0, start) :].split('"')[1]
    text = text[:start] + text[start:].replace("{position}", "{place}", 1)
    plan = plan_import(ws, "en", "content", text.encode())
    assert [(c.key, c.before, c.after, c.state_before) for c in plan.changes] == [
        (
            "thanks:bubble:0",
            "You're welcome! Good that you got in touch.",
            "Thanks! Good that you wrote to us.",
            State.STALE,
        )
    ]
    assert [(key, [f.code for f in found]) for key, found in plan.refused] == [(broken_key, ["placeholders"])]


def test_an_import_of_another_language_or_garbage_is_refused(tree: tuple[Path, Path]) -> None:
    ws = load_workspace(*tree)
    data = export_po(ws, "ar", "content", NOW)
    with pytest.raises(ImportError_) as wrong:
        plan_import(ws, "en", "content", data)
    assert wrong.value.code == "language" and wrong.value.detail == "ar"
    with pytest.raises(ImportError_, match="unreadable"):
        plan_import(ws, "en", "content", b'msgid "\xff"\nmsgstr ""\n')
