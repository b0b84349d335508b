"""Checks as a translator types: placeholders, numbers, links, lengths, glossary, direction marks."""

from __future__ import annotations

from chatbot.translation.checks import RLM, check, errors
from chatbot.translation.glossary import Glossary, Term

CRISIS = "Ring 112 nu. Du kan också ringa BRIS på 116 111 eller Självmordslinjen på 90101."


def codes(
    source: str, text: str, locale: str = "en", kind: str = "bubble", glossary: Glossary | None = None
) -> list[str]:
    return [f.code for f in check(source, text, locale=locale, kind=kind, glossary=glossary)]  # type: ignore[arg-type]


def test_the_same_placeholders_as_the_source() -> None:
    source = "Du är nummer {position} i kön. Det tar ungefär {wait} minuter."
    assert codes(source, "You are number {position} in the queue. About {wait} minutes.") == []
    assert codes(source, "You are number {posizion} in the queue. About {wait} minutes.") == ["placeholders"]
    assert codes(source, "You are next in the queue.") == ["placeholders"]
    finding = check(source, "You are {position}. {position} {wait}", locale="en", kind="bubble")[0]
    assert finding.params == {"expected": "{position}, {wait}", "found": "{position}, {position}, {wait}"}
    # The console's %-style placeholders count the same way.
    assert codes("Hello %(name)s", "Hej %(name)s", "sv", "console") == []
    assert codes("Hello %(name)s", "Hej %(namn)s", "sv", "console") == ["placeholders"]


def test_numbers_are_kept_as_written_and_never_translated() -> None:
    english = "Call 112 now. You can also call BRIS on 116 111 or Självmordslinjen on 90101."
    assert codes(CRISIS, english) == []
    assert codes(CRISIS, english.replace("116 111", "116111")) == ["number_missing", "number_added"]
    assert codes(CRISIS, english.replace("90101", "")) == ["number_missing"]
    arabic = "اتصل بـ ١١٢ الآن. يمكنك أيضاً الاتصال بـ BRIS على 116 111 أو Självmordslinjen على 90101."
    found = check(CRISIS, arabic, locale="ar", kind="bubble")
    assert [f.code for f in errors(found)] == ["number_script", "number_missing"]
    assert found[0].params == {"number": "١١٢", "as_written": "112"}


def test_links_stay_as_they_are() -> None:
    source = "Läs mer på https://www.ecpat.se/stodlinjen."
    assert codes(source, "Read more at https://www.ecpat.se/stodlinjen.") == []
    assert codes(source, "Read more at https://www.ecpat.se/en/helpline.") == ["link_missing"]


def test_button_and_bubble_length() -> None:
    assert codes("Prata med en människa", "Talk to a person", kind="button") == []
    long = "Talk to a real person from the support line right now"
    assert codes("Prata med en människa", long, kind="button") == ["button_length"]
    wordy = " ".join(["word"] * 36)
    found = check("Kort.", wordy, locale="en", kind="bubble")
    assert [(f.code, f.severity) for f in found] == [("bubble_length", "warning")]


def test_glossary_terms_and_the_lines_name() -> None:
    glossary = Glossary.with_kept_names("en", [Term("kurator", "counsellor")])
    source = "Vill du prata med en kurator på Stödlinjen?"
    assert codes(source, "Do you want to talk to a counsellor at Stödlinjen?", glossary=glossary) == []
    found = check(
        source,
        "Do you want to talk to a social worker at the Support Line?",
        locale="en",
        kind="bubble",
        glossary=glossary,
    )
    assert [(f.code, f.severity, f.params) for f in found] == [
        ("kept_name", "error", {"name": "Stödlinjen"}),
        ("glossary", "warning", {"term": "kurator", "target": "counsellor"}),
    ]
    # Inflected Swedish ('kuratorn') is the same term.
    assert codes("Kuratorn svarar snart.", "The social worker answers soon.", glossary=glossary) == [
        "glossary"
    ]


def test_direction_marks_in_right_to_left_text() -> None:
    source = "BRIS svarar dygnet runt."
    assert codes(source, "BRIS يرد على مدار الساعة.", "ar") == ["rtl_start"]
    assert codes(source, RLM + "BRIS يرد على مدار الساعة.", "ar") == []
    assert codes("Ring BRIS.", "اتصل بـ BRIS.", "ar") == ["rtl_end"]
    assert codes("Ring BRIS.", "اتصل بـ BRIS" + RLM + ".", "ar") == []
    assert codes("Hej.", "Hi" + RLM + ".", "en") == ["stray_marks"]


def test_an_empty_translation_is_refused() -> None:
    assert codes("Hej.", "  ") == ["empty"]


def test_no_markup_the_source_does_not_have() -> None:
    # The console renders a translated string as markup: a translator's account must not add any.
    assert codes("Save", "Spara", "sv", "console") == []
    assert codes("Save", "Spara<script>alert()</script>", "sv", "console") == ["markup"]
    assert codes("Save", '<img src=x onerror="alert()">', "sv", "console") == ["markup"]
    assert codes("Save", "Spara < x", "sv", "console") == ["markup"]
    assert codes("Read <strong>this</strong>", "Läs <strong>det här</strong>", "sv", "console") == []
    assert codes("Read <strong>this</strong>", "Läs <em>det här</em>", "sv", "console") == ["markup"]
