"""The answer library: format errors, placeholders, translated replies and the fuzzy fallback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from chatbot.cli import main
from chatbot.content.catalog_tools import template, write_catalog
from chatbot.content.catalogs import CatalogError, read_catalog
from chatbot.content.library import ContentError, ContentLibrary
from chatbot.settings import PROJECT_ROOT

CONTENT = PROJECT_ROOT / "content"
LOCALES = PROJECT_ROOT / "locales"
EN_PO = Path("en/LC_MESSAGES/content.po")


@pytest.fixture
def copy(tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the real answers and the English catalog, safe to change."""
    content, locales = tmp_path / "content", tmp_path / "locales"
    shutil.copytree(CONTENT / "answers", content / "answers")
    (locales / EN_PO).parent.mkdir(parents=True)
    shutil.copy(LOCALES / EN_PO, locales / EN_PO)
    return content, locales


def write(content: Path, name: str, text: str) -> Path:
    path = content / "answers" / f"{name}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def texts(library: ContentLibrary, answer_id: str, locale: str | None, **params: object) -> list[str]:
    return [r.text for r in library.replies(answer_id, locale, **params)]


# --- format errors name the file and the field ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("id: x\nbubbles: [Hej]\nbuttons: [{label: Ok}]\n", "buttons[0] needs 'goto'"),
        ("id: x\nbubbles: Hej\n", "'bubbles' must be a list"),
        ("id: x\nbubbles: ['  ']\n", "'bubbles' must be a list of non-empty strings"),
        ("bubbles: [Hej]\n", "'id' must be a name"),
        ("id: two words\nbubbles: [Hej]\n", "'id' must be a name"),
        ("id: x\nbubbles: [Hej]\ncolour: red\n", "unknown field(s) colour"),
        ("id: x\nkind: popup\nbubbles: [Hej]\n", "'kind' must be one of"),
        ("id: x\nbubbles: ['Du är nummer {place.x}']\nplaceholders: [place]\n", "bubbles[0]"),
        ("id: x\nbubbles: ['Öppet {next_open']\n", "bubbles[0]"),
        ("id: x\nbubbles: [Hej]\nplaceholders: 'wait'\n", "'placeholders' must be a list"),
        ("id: x\nbubbles: [Hej]\nintent: [greet]\n", "'intent' must be a string"),
        (
            "id: x\nbubbles: [Hej]\nbuttons: [{label: A, goto: y}, {label: B, goto: y}]\n",
            "buttons[1] leads to 'y' like an earlier button",
        ),
        ("id: x\nbubbles: [Hej\n", "not valid YAML"),
        ("- just a list\n", "expected a mapping"),
    ],
)
def test_format_errors_name_file_and_field(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path, "broken", body)
    with pytest.raises(ContentError) as caught:
        ContentLibrary.load(tmp_path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_duplicate_id_and_duplicate_intent_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a", "id: same\nbubbles: [Hej]\n")
    write(tmp_path, "b", "id: same\nbubbles: [Hej]\n")
    with pytest.raises(ContentError, match="answer id 'same' is also in"):
        ContentLibrary.load(tmp_path)
    (tmp_path / "answers" / "b.yml").unlink()
    write(tmp_path, "a", "id: one\nintent: greet\nbubbles: [Hej]\n")
    write(tmp_path, "c", "id: two\nintent: greet\nbubbles: [Tjena]\n")
    with pytest.raises(ContentError, match="intent 'greet' is also answered in"):
        ContentLibrary.load(tmp_path)


def test_missing_folder_and_unknown_answer(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="no answers folder"):
        ContentLibrary.load(tmp_path)
    with pytest.raises(ContentError, match="no answer with id 'nope'"):
        ContentLibrary.load(CONTENT).get("nope")


def test_broken_catalog_names_the_file(copy: tuple[Path, Path]) -> None:
    content, locales = copy
    (locales / EN_PO).write_text('msgid "a"\nmsgstr "b"\nmsgid "a"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match=r"content\.po: not a valid gettext catalog"):
        ContentLibrary.load(content, locales)


# --- the real content and placeholders -----------------------------------------------------------------


def test_real_content_loads_with_buttons_as_payloads() -> None:
    library = ContentLibrary.load(CONTENT)
    welcome = library.replies("welcome")
    assert len(welcome) == 3
    assert not welcome[0].quick_replies
    assert [q.payload for q in welcome[-1].quick_replies][:2] == ["/takedown_help", "/sextortion"]
    assert library.for_intent("crisis") is library.get("crisis")


def test_placeholders_are_filled_and_required() -> None:
    library = ContentLibrary.load(CONTENT)
    queued = texts(library, "handoff_queued", "sv", position=3, wait=12, next_open="ignored")
    assert "nummer 3 i kön" in queued[0]
    assert "ungefär 12 min." in queued[1]
    with pytest.raises(ContentError, match=r"'handoff_queued' needs wait"):
        library.replies("handoff_queued", "sv", position=3)
    assert "7 dagar" in " ".join(texts(library, "anonymity", None, retention_days=7))


def test_literal_braces_survive(tmp_path: Path) -> None:
    write(tmp_path, "x", "id: x\nplaceholders: [n]\nbubbles: ['{{kod}} är {n}']\n")
    library = ContentLibrary.load(tmp_path)
    assert texts(library, "x", None, n=5) == ["{kod} är 5"]


def test_literal_braces_survive_without_placeholders_every_time(tmp_path: Path) -> None:
    """An answer's rendering is kept per locale: the second time is the same text, "{{" still "{"."""
    write(tmp_path, "x", "id: x\nbubbles: ['{{kod}} är hemlig', 'Tryck {{här}}']\n")
    library = ContentLibrary.load(tmp_path)
    assert texts(library, "x", None) == texts(library, "x", None) == ["{kod} är hemlig", "Tryck {här}"]
    assert texts(library, "x", "en") == ["{kod} är hemlig", "Tryck {här}"]


def test_an_answer_rendered_before_a_new_catalog_shows_the_new_one(copy: tuple[Path, Path]) -> None:
    """The kept rendering belongs to one answer with its catalogs: answers made with other catalogs
    (a translation went live) render anew."""
    content, locales = copy
    before = ContentLibrary.load(content, locales)
    assert texts(before, "welcome", "en")[0].startswith("Hi!")
    (locales / EN_PO).unlink()
    after = ContentLibrary(before.answers.values(), ContentLibrary.load(content, locales).catalogs)
    assert texts(after, "welcome", "en")[0].startswith("Hej!")
    assert texts(before, "welcome", "en")[0].startswith("Hi!")


def test_parameter_values_are_never_formatted_further(tmp_path: Path) -> None:
    """A value is text: '{x}' in a counsellor's chat name is not looked up (no format injection)."""
    write(tmp_path, "x", "id: x\nplaceholders: [name]\nbubbles: ['Hej {name}']\n")
    library = ContentLibrary.load(tmp_path)
    assert texts(library, "x", None, name="{name.__class__}") == ["Hej {name.__class__}"]


# --- translations ----------------------------------------------------------------------------------------


def test_english_replies_and_locale_fallbacks() -> None:
    library = ContentLibrary.load(CONTENT, LOCALES)
    english = library.replies("welcome", "en")
    assert english[0].text.startswith("Hi!")
    assert english[-1].quick_replies[0].title == "Get a picture or video removed"
    assert english[-1].quick_replies[0].payload == "/takedown_help"  # payloads never translate
    assert texts(library, "welcome", "en-GB") == texts(library, "welcome", "en")
    assert texts(library, "welcome", "fr")[0].startswith("Hej!")  # unknown: the source
    assert texts(library, "welcome", None)[0].startswith("Hej!")
    english_fallback = ContentLibrary.load(CONTENT, LOCALES, fallback_locale="en")
    assert texts(english_fallback, "welcome", "fr")[0].startswith("Hi!")
    assert texts(english_fallback, "welcome", "sv")[0].startswith("Hej!")
    crisis = texts(library, "crisis", "en")[0]
    assert all(number in crisis for number in ("112", "116 111", "90101"))


def test_translated_placeholders_are_filled() -> None:
    library = ContentLibrary.load(CONTENT, LOCALES)
    assert "number 2 in the queue" in texts(library, "handoff_queued", "en", position=2, wait=5)[0]


def _set(locales: Path, context: str, msgstr: str, *, fuzzy: bool | None = None) -> None:
    catalog = read_catalog(locales / EN_PO)
    for message in catalog:
        if message.context == context:
            message.string = msgstr
            if fuzzy is False:
                message.flags.discard("fuzzy")
                message.previous_id = []
    write_catalog(locales / EN_PO, catalog)


def test_changed_source_makes_translation_fuzzy_and_hidden_until_confirmed(copy: tuple[Path, Path]) -> None:
    content, locales = copy
    library = ContentLibrary.load(content, locales)
    assert texts(library, "thanks", "en")[0] == "You're welcome! Good that you got in touch."

    # An editor changes the Swedish source.
    path = content / "answers" / "thanks.yml"
    old = "Tack själv! Vad bra att du hörde av dig."
    new = "Tack! Skönt att du skrev till oss."
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")

    # Before any catalog update the old translation no longer matches: the whole answer is Swedish,
    # never a mix, while other answers stay English.
    library = ContentLibrary.load(content, locales)
    assert texts(library, "thanks", "en") == [new, "Finns det något mer du undrar över?"]
    assert library.replies("thanks", "en")[-1].quick_replies[0].title == "Ja, en sak till"
    assert texts(library, "greet", "en")[0] == "Hi! Good that you're writing."

    # The update keeps the old translation as fuzzy, with the old Swedish for the translator to compare.
    assert main(["content", "update", "--content-dir", str(content), "--locales-dir", str(locales)]) == 0
    entry = next(m for m in read_catalog(locales / EN_PO) if m.context == "thanks:bubble:0")
    assert entry.id == new
    assert entry.fuzzy
    assert entry.string == "You're welcome! Good that you got in touch."
    assert entry.previous_id == [old]
    assert texts(ContentLibrary.load(content, locales), "thanks", "en")[0] == new
    # Updating again before the translator gets to it keeps both the flag and the old Swedish.
    assert main(["content", "update", "--content-dir", str(content), "--locales-dir", str(locales)]) == 0
    entry = next(m for m in read_catalog(locales / EN_PO) if m.context == "thanks:bubble:0")
    assert entry.fuzzy and entry.previous_id == [old]

    # A translator confirms (fixes the text, removes the fuzzy flag): English again.
    _set(locales, "thanks:bubble:0", "Thanks! Good that you wrote to us.", fuzzy=False)
    assert (
        texts(ContentLibrary.load(content, locales), "thanks", "en")[0]
        == "Thanks! Good that you wrote to us."
    )
    # A second update changes nothing about a confirmed entry.
    assert main(["content", "update", "--content-dir", str(content), "--locales-dir", str(locales)]) == 0
    entry = next(m for m in read_catalog(locales / EN_PO) if m.context == "thanks:bubble:0")
    assert not entry.fuzzy and entry.previous_id == []


def test_a_button_that_changes_target_keeps_its_translation(copy: tuple[Path, Path]) -> None:
    content, locales = copy
    path = content / "answers" / "goodbye.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("goto: welcome", "intent: greet"), encoding="utf-8"
    )
    assert main(["content", "update", "--content-dir", str(content), "--locales-dir", str(locales)]) == 0
    entry = next(m for m in read_catalog(locales / EN_PO) if m.context == "goodbye:button:greet")
    assert entry.string == "I want to keep going" and not entry.fuzzy
    assert (
        ContentLibrary.load(content, locales).replies("goodbye", "en")[-1].quick_replies[0].payload
        == "/greet"
    )


def test_fuzzy_entry_is_never_shown_even_if_msgid_matches(copy: tuple[Path, Path]) -> None:
    content, locales = copy
    catalog = read_catalog(locales / EN_PO)
    for message in catalog:
        if message.context == "goodbye:bubble:0":
            message.flags.add("fuzzy")
    write_catalog(locales / EN_PO, catalog)
    assert (
        texts(ContentLibrary.load(content, locales), "goodbye", "en")[0]
        == "Hejdå, och tack för att du skrev."
    )


def test_translation_with_wrong_placeholders_falls_back(copy: tuple[Path, Path]) -> None:
    content, locales = copy
    _set(locales, "handoff_queued:bubble:0", "You are number {place} in the queue.")
    library = ContentLibrary.load(content, locales)
    assert "nummer 4 i kön" in texts(library, "handoff_queued", "en", position=4, wait=1)[0]


def test_new_locale_starts_empty_and_shows_the_source(copy: tuple[Path, Path]) -> None:
    content, locales = copy
    assert (
        main(
            [
                "content",
                "update",
                "--init",
                "ar",
                "--content-dir",
                str(content),
                "--locales-dir",
                str(locales),
            ]
        )
        == 0
    )
    arabic = read_catalog(locales / "ar" / "LC_MESSAGES" / "content.po")
    assert arabic.locale is not None and str(arabic.locale) == "ar"
    assert all(not m.string for m in arabic if m.id)
    assert texts(ContentLibrary.load(content, locales), "welcome", "ar")[0].startswith("Hej!")


# --- extraction ------------------------------------------------------------------------------------------


def test_babel_extractor_entry_point_yields_contexts_and_lines() -> None:
    found = extract_from_file("stodchat_content", str(CONTENT / "answers" / "handoff_queued.yml"))
    by_context = {context: (line, message, comments) for line, message, comments, context in found}
    line, message, comments = by_context["handoff_queued:bubble:0"]
    assert message.startswith("Nu står du i kö")
    assert line == 7
    assert comments == ["answer handoff_queued; keep {position}, {wait} as they are"]
    assert by_context["handoff_queued:button:leave_queue"][1] == "Jag vill inte vänta"


def test_pybabel_extract_matches_the_template(tmp_path: Path) -> None:
    out = tmp_path / "content.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", str(CONTENT / "babel.cfg"), "-o", str(out), str(CONTENT)],
        check=True,
        cwd=PROJECT_ROOT,
    )
    extracted = {(m.context, m.id) for m in read_catalog(out) if m.id}
    ours = {(m.context, m.id) for m in template(ContentLibrary.load(CONTENT)) if m.id}
    assert extracted == ours
    assert len(ours) > 250


def test_committed_template_and_english_catalog_are_current() -> None:
    """Editors run `content update` after changing answers; this fails if they forgot."""
    ours = {(m.context, m.id) for m in template(ContentLibrary.load(CONTENT)) if m.id}
    committed = {(m.context, m.id) for m in read_catalog(LOCALES / "content.pot") if m.id}
    assert committed == ours, "run: python -m chatbot content update"
    english = {(m.context, m.id) for m in read_catalog(LOCALES / EN_PO) if m.id and m.string and not m.fuzzy}
    assert english == ours, "English must be complete: translate or confirm the fuzzy entries"
