"""Widget catalogs: only current translations reach a child, the shipped ones are complete, keys match the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatbot.content.widget_catalogs import CatalogError, WidgetCatalogs

ROOT = Path(__file__).resolve().parents[3]
STATIC = ROOT / "chatbot" / "static"
TEMPLATE = ROOT / "chatbot" / "templates" / "widget" / "chat.html"

HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: {lang}\\n"\n\n'


def write(root: Path, lang: str, entries: str) -> None:
    folder = root / lang / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "widget.po").write_text(HEADER.format(lang=lang) + entries, encoding="utf-8")


SOURCE = """
msgctxt "language.self"
msgid "Svenska"
msgstr "Svenska"

msgctxt "send"
msgid "Skicka"
msgstr ""

msgctxt "greeting"
msgid "Hej!"
msgstr "Hej!"

msgctxt "limit"
msgid "Högst {limit} tecken."
msgstr "Högst {limit} tecken."

msgctxt "end"
msgid "Avsluta chatten"
msgstr "Avsluta chatten"
"""


def test_only_current_reviewed_translations_are_shown(tmp_path: Path) -> None:
    write(tmp_path, "sv", SOURCE)
    write(
        tmp_path,
        "en",
        """
msgctxt "language.self"
msgid "Svenska"
msgstr "English"

#, fuzzy
msgctxt "send"
msgid "Skicka"
msgstr "Send"

msgctxt "greeting"
msgid "Hej där!"
msgstr "Hi there!"

msgctxt "limit"
msgid "Högst {limit} tecken."
msgstr "At most {count} characters."

msgctxt "end"
msgid "Avsluta chatten"
msgstr ""

msgctxt "unknown.key"
msgid "Okänd"
msgstr "Unknown"
""",
    )
    catalogs = WidgetCatalogs.load(tmp_path, "sv")
    english = catalogs.get("en")
    assert english is not None
    assert dict(english.messages) == {
        "language.self": "English",  # current and reviewed
        "send": "Skicka",  # fuzzy: not reviewed
        "greeting": "Hej!",  # translated from an older Swedish text
        "limit": "Högst {limit} tecken.",  # placeholders do not match
        "end": "Avsluta chatten",  # not translated
    }
    assert set(english.fallbacks) == {"send", "greeting", "limit", "end"}
    source = catalogs.get("sv")
    assert source is not None and source.messages["send"] == "Skicka"  # empty msgstr: the msgid is the text


def test_right_to_left_comes_from_the_locale(tmp_path: Path) -> None:
    write(tmp_path, "sv", SOURCE)
    write(tmp_path, "ar", 'msgctxt "language.self"\nmsgid "Svenska"\nmsgstr "العربية"\n')
    catalogs = WidgetCatalogs.load(tmp_path, "sv")
    assert [(lang.code, lang.name, lang.direction) for lang in catalogs.languages] == [
        ("sv", "Svenska", "ltr"),
        ("ar", "العربية", "rtl"),
    ]


def test_broken_catalogs_fail_at_start_with_the_file_named(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="Swedish widget catalog"):
        WidgetCatalogs.load(tmp_path, "sv")
    write(tmp_path, "sv", 'msgid "Skicka"\nmsgstr ""\n')
    with pytest.raises(CatalogError, match="no msgctxt"):
        WidgetCatalogs.load(tmp_path, "sv")
    write(tmp_path, "sv", SOURCE + '\nmsgctxt "send"\nmsgid "Sänd"\nmsgstr ""\n')
    with pytest.raises(CatalogError, match="twice"):
        WidgetCatalogs.load(tmp_path, "sv")
    write(tmp_path, "sv", SOURCE)
    with pytest.raises(CatalogError, match="DEFAULT_LOCALE"):
        WidgetCatalogs.load(tmp_path, "fi")
    write(
        tmp_path, "en", 'a line a translator\'s editor broke\nmsgctxt "send"\nmsgid "Skicka"\nmsgstr "Send"\n'
    )
    with pytest.raises(CatalogError, match=r"en/LC_MESSAGES/widget\.po: cannot read"):
        WidgetCatalogs.load(tmp_path, "sv")
    write(tmp_path, "en", "")
    write(tmp_path, "Not_A-Locale", "")
    with pytest.raises(CatalogError, match="'Not_A-Locale' is not a locale code"):
        WidgetCatalogs.load(tmp_path, "sv")


def test_shipped_catalogs_are_complete_and_current() -> None:
    catalogs = WidgetCatalogs.load(ROOT / "locales", "sv")
    assert {"sv", "en", "ar"} <= set(catalogs.available)
    for code in ("en", "ar"):
        catalog = catalogs.get(code)
        assert catalog is not None and catalog.fallbacks == (), (code, catalog and catalog.fallbacks)
    assert catalogs.get("ar").direction == "rtl"  # type: ignore[union-attr]


def test_every_key_the_widget_uses_is_in_the_source_and_none_is_unused() -> None:
    source = WidgetCatalogs.load(ROOT / "locales", "sv").get("sv")
    assert source is not None
    # The chat is ES modules (static/chat/*.js): the keys of all of them.
    script = "\n".join(p.read_text(encoding="utf-8") for p in sorted((STATIC / "chat").glob("*.js")))
    assert "export function t(" in script
    html = TEMPLATE.read_text(encoding="utf-8")
    used = set(re.findall(r'\bt\("([a-z_.]+)"', script))
    used |= set(re.findall(r'"((?:status|message|error)\.[a-z_]+)"', script))
    used |= set(re.findall(r'data-i18n(?:-label|-placeholder)?="([a-z_.]+)"', html))
    # Error texts are looked up by the code the server sends: every code has its text.
    from chatbot.domain import errors

    codes = {
        cls.code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.ChatError)
    }
    used |= {f"error.{code}" for code in codes - {"error"}}
    used |= {"language.self"}  # the language menu's names, read by the server
    assert used - set(source.messages) == set(), "keys used by the widget but missing from the catalog"
    assert set(source.messages) - used == set(), "catalog entries no code uses"


def test_no_child_facing_text_is_hard_coded_in_the_widget() -> None:
    html = TEMPLATE.read_text(encoding="utf-8")
    visible = re.sub(r"<script.*?</script>|<[^>]+>|\{[{%#].*?[}%#]\}", " ", html, flags=re.S)
    assert visible.split() == []
    loader = (STATIC / "widget.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", loader, flags=re.S)
    # The loader's only strings are technical: no sentence for a person to read.
    for literal in re.findall(r'"([^"]*)"', code):
        assert not re.search(r"[A-Za-zÅÄÖåäö]+ [A-Za-zÅÄÖåäö]+ [A-Za-zÅÄÖåäö]+", literal), literal


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("sv-SE,sv;q=0.9", "sv"),
        ("en-US,en;q=0.9,sv;q=0.8", "en"),
        ("de;q=1, en;q=0.2", "en"),
        ("sv;q=0.1, en;q=0.9", "en"),
        ("ar", "ar"),
        ("en;q=0", "sv"),
        ("*", "sv"),
        (";;;,,,q=", "sv"),
    ],
)
def test_accept_language(header: str, expected: str) -> None:
    assert WidgetCatalogs.load(ROOT / "locales", "sv").negotiate(header) == expected
