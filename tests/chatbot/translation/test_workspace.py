"""The workspace on real answers and catalogs: figures, stale diff, save, review, memory, served catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.content.catalogs import SOURCE_LOCALE
from chatbot.translation.diff import Piece
from chatbot.translation.units import CATALOG, State, Translation
from chatbot.translation.workspace import LanguageSettings, Refused, load_workspace
from tests.chatbot.translation.conftest import NEW, OLD, change_source

OFFERED = ("sv", "en", "ar")
KEY = "thanks:bubble:0"


def test_figures_of_the_shipped_catalogs(tree: tuple[Path, Path]) -> None:
    ws = load_workspace(*tree, offered=OFFERED)
    ar = ws.figures("ar")
    content = ar.coverage["content"]
    assert content.total == content.current == content.unreviewed > 300
    assert content.stale == content.missing == 0
    assert ar.status.safe_complete and ar.offered and ar.in_swedish == ()
    assert len(ar.awaiting_review) == content.unreviewed + ar.coverage["widget"].unreviewed
    en = ws.figures("en")
    assert en.coverage["content"].unreviewed == 0 and en.awaiting_review == ()
    # The console is written in English and translated to Swedish.
    assert en.coverage["console"].current == en.coverage["console"].total
    assert ws.figures("sv").coverage["console"].current == ws.figures("sv").coverage["console"].total
    assert ws.offered_locales() == ("sv", "ar", "en")


def test_a_changed_swedish_answer_is_stale_with_its_diff_and_read_in_swedish(tree: tuple[Path, Path]) -> None:
    change_source(*tree)
    ws = load_workspace(*tree, offered=OFFERED)
    unit = ws.unit("content", KEY)
    assert unit.source == NEW and ws.state("en", unit) is State.STALE
    tr = ws.translation("en", "content", KEY)
    assert tr is not None and tr.made_from == OLD  # from the catalog's '#| msgid'
    diff = ws.stale_diff("en", unit)
    assert diff is not None
    assert "".join(p.text for p in diff if p.op != "added") == OLD
    assert "".join(p.text for p in diff if p.op != "removed") == NEW
    assert diff[:4] == [
        Piece("same", "Tack"),
        Piece("removed", " själv"),
        Piece("same", "! "),
        Piece("removed", "Vad bra"),
    ]
    assert Piece("added", "Skönt") in diff
    figures = ws.figures("en")
    assert figures.coverage["content"].stale == 1
    assert "thanks" in figures.in_swedish and "thanks" in ws.figures("ar").in_swedish
    assert ws.library.replies("thanks", "en")[0].text == NEW  # the child reads Swedish, never stale English
    served = ws.served_content()
    assert served.lookup("en", KEY, NEW) is None


def test_save_checks_then_a_second_person_reviews(tree: tuple[Path, Path]) -> None:
    change_source(*tree)
    ws = load_workspace(*tree, offered=OFFERED)
    with pytest.raises(Refused) as refused:
        ws.translate("en", "content", "handoff_queued:bubble:0", "You are number {pos}.", "tina", 1)
    assert refused.value.code == "checks" and refused.value.findings[0].code == "placeholders"
    with pytest.raises(Refused, match="source"):
        ws.translate(SOURCE_LOCALE, "content", KEY, "Tack!", "tina", 1)

    tr, findings = ws.translate("en", "content", KEY, "Thanks! Good that you wrote to us.", "tina", 1000)
    assert findings == []
    assert tr == Translation(
        "Thanks! Good that you wrote to us.",
        NEW,
        "tina",
        "",
        1000,
        "You're welcome! Good that you got in touch.",
    )
    ws = load_workspace(*tree, {"en": {("content", KEY): tr}}, offered=OFFERED)
    unit = ws.unit("content", KEY)
    assert ws.state("en", unit) is State.UNREVIEWED
    assert ("content", KEY) in ws.figures("en").awaiting_review
    # Served at once (the language serves unreviewed translations by default) ...
    assert ws.served_content().lookup("en", KEY, NEW) == "Thanks! Good that you wrote to us."
    assert "thanks" not in ws.figures("en").in_swedish
    # ... unless the language holds them back until reviewed.
    held = load_workspace(
        *tree, {"en": {("content", KEY): tr}}, {"en": LanguageSettings(serve_unreviewed=False)}
    )
    assert held.served_content().lookup("en", KEY, NEW) is None and "thanks" in held.figures("en").in_swedish

    with pytest.raises(Refused, match="own"):
        ws.review("en", "content", KEY, "tina", 2000)
    reviewed = ws.review("en", "content", KEY, "rami", 2000)
    assert reviewed.reviewed_by == "rami" and reviewed.translated_by == "tina"
    ws = load_workspace(*tree, {"en": {("content", KEY): reviewed}}, offered=OFFERED)
    assert ws.state("en", ws.unit("content", KEY)) is State.REVIEWED
    with pytest.raises(Refused, match="already"):
        ws.review("en", "content", KEY, "sam", 3000)
    with pytest.raises(Refused, match="not_current"):
        ws.review("ar", "content", KEY, "sam", 3000)  # Arabic is stale now


def test_a_catalog_that_moved_on_wins_over_an_older_workspace_edit(tree: tuple[Path, Path]) -> None:
    """A Weblate commit after a workspace edit: the catalog's newer text is used, the edit is a conflict."""
    edit = Translation("Hello there!", "Hej! Vad bra att du skriver.", "tina", "", 1, base="something older")
    ws = load_workspace(*tree, {"en": {("content", "greet:bubble:0"): edit}})
    assert ws.translation("en", "content", "greet:bubble:0") != edit
    assert ws.figures("en").conflicts == (("content", "greet:bubble:0"),)


def test_memory_suggests_translations_of_the_same_and_similar_sources(tree: tuple[Path, Path]) -> None:
    ws = load_workspace(*tree)
    crisis = ws.unit("content", "crisis:bubble:2")
    same = ws.suggestions("en", crisis.source)
    assert same[0].score == 1.0 and same[0].key == "crisis:bubble:2"
    similar = ws.suggestions("en", "Vill du prata med en kurator?")
    assert similar[0].source == crisis.source and 0.6 <= similar[0].score < 1
    assert ws.suggestions("en", "Xyzzy plugh") == []
    others = ws.suggestions("en", crisis.source, exclude=("content", "crisis:bubble:2"))
    assert all(s.key != "crisis:bubble:2" for s in others)


def test_catalog_entries_know_who_reviewed_them(tree: tuple[Path, Path]) -> None:
    ws = load_workspace(*tree)
    en = ws.translation("en", "content", "crisis:bubble:0")
    ar = ws.translation("ar", "content", "crisis:bubble:0")
    assert en is not None and en.reviewed_by == CATALOG
    assert ar is not None and not ar.reviewed


def test_a_new_locale_is_offered_only_when_safe_complete_and_switched_on(tree: tuple[Path, Path]) -> None:
    """A translator starts British English: out of the menu until every safety string is current and a
    supervisor switches it on."""
    content, locales = tree
    started = {"en_GB": LanguageSettings(started_by="tina")}
    ws = load_workspace(content, locales, {}, started, offered=OFFERED)
    assert not ws.figures("en_GB").status.safe_complete and "en_GB" not in ws.offered_locales()
    # Everything the safe-complete rule asks for, copied from English (a test's shortcut for typing).
    edits = {}
    for (domain, key), unit in ws.units.items():
        if domain == "console":
            continue
        tr = ws.translation("en", domain, key)
        assert tr is not None
        edits[(domain, key)] = Translation(tr.text, unit.source, "tina", "", 1)
    ws = load_workspace(content, locales, {"en_GB": edits}, started, offered=OFFERED)
    figures = ws.figures("en_GB")
    assert figures.status.safe_complete and not figures.offered and "en_GB" not in ws.offered_locales()
    on = {"en_GB": LanguageSettings(switched_on=True, started_by="tina")}
    ws = load_workspace(content, locales, {"en_GB": edits}, on, offered=OFFERED)
    assert ws.figures("en_GB").offered and "en_GB" in ws.offered_locales()
    # A language the crisis check does not know is never safe-complete, switched on or not.
    fa = load_workspace(content, locales, {}, {"fa": LanguageSettings(switched_on=True)})
    assert "the crisis check does not know this language" in fa.figures("fa").status.problems()
    assert "fa" not in fa.offered_locales()
