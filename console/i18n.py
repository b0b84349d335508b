"""The console's own language: gettext catalogs `locales/<lang>/LC_MESSAGES/console.po`, one per member of staff.

Swedish is the default (the counsellors of a Swedish line work in Swedish), English the second. The msgids
are English (the code's language, like most gettext projects); `sv/console.po` translates every one of
them and `en/console.po` leaves them as they are. The .po files themselves are read (no compiled .mo
left behind can go stale), and a fuzzy or empty translation falls back to the English msgid.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import jinja2
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from chatbot.domain.hours import STOCKHOLM
from console.labels import N_ as N_  # re-exported: where a string is marked for translation
from console.labels import TABLES

DOMAIN = "console"
DEFAULT_LANGUAGE = "sv"
LANGUAGES: Mapping[str, str] = {"sv": "Svenska", "en": "English"}
"""The languages a member of staff can choose, by code, each named in itself; the first is the default."""


class CatalogMissing(ValueError):
    """A console catalog is missing or unreadable; the message names the file."""


def is_language(value: object) -> bool:
    return isinstance(value, str) and value in LANGUAGES


def catalog_path(locales_dir: Path, language: str) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_translations(
    locales_dir: Path, language: str, strings: Mapping[str, str] | None = None
) -> Translations:
    """The language's catalog, with `strings` (msgid -> text: the translators' workspace, served) on top."""
    path = catalog_path(locales_dir, language)
    if not path.is_file():
        raise CatalogMissing(f"no console catalog at {path}")
    with path.open("rb") as source:
        catalog = read_po(source, locale=language)
    for message in catalog:
        if isinstance(message.id, str) and message.id in (strings or {}):
            message.string = (strings or {})[message.id]
            message.flags.discard("fuzzy")
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


class ConsoleTemplates:
    """One Jinja environment per language, sharing the templates; `gettext` for text made in Python."""

    def __init__(self, templates_dir: Path, locales_dir: Path) -> None:
        self._templates_dir = templates_dir
        self._locales_dir = locales_dir
        self._translations = {code: load_translations(locales_dir, code) for code in LANGUAGES}
        self._envs = {code: _environment(templates_dir, t) for code, t in self._translations.items()}
        self._adopted: dict[str, Mapping[str, str]] = {}

    def adopt(self, language: str, strings: Mapping[str, str]) -> bool:
        """Serve the catalog with the workspace's `strings` on top (docs/translation.md, console strings
        live); True if anything changed. Swapped in one synchronous step: a page renders old or new."""
        if language not in LANGUAGES or self._adopted.get(language, {}) == strings:
            return False
        translations = load_translations(self._locales_dir, language, strings)
        self._translations[language] = translations
        self._envs[language] = _environment(self._templates_dir, translations)
        self._adopted[language] = dict(strings)
        return True

    def env(self, language: str) -> jinja2.Environment:
        return self._envs.get(language, self._envs[DEFAULT_LANGUAGE])

    def js_texts(self, language: str) -> dict[str, str]:
        """The texts console.js shows (`console.labels.JS_TEXTS`), in `language`."""
        found = self._translations.get(language, self._translations[DEFAULT_LANGUAGE])
        return {key: found.gettext(text) for key, text in TABLES["js"].items()}

    def gettext(self, language: str, text: str, **values: object) -> str:
        found = self._translations.get(language, self._translations[DEFAULT_LANGUAGE])
        translated = found.gettext(text)
        return translated % values if values else translated


class _Labels(dict[str, str]):
    def __missing__(self, code: str) -> str:
        return code


def _environment(templates_dir: Path, translations: Translations) -> jinja2.Environment:
    # Autoescape everything: a child's text must render as text in every page, whatever it contains.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    # `labels.topic["grooming"]`: each code's name in this environment's language; unknown codes as they are.
    env.globals["labels"] = {
        table: _Labels({code: translations.gettext(text) for code, text in texts.items()})
        for table, texts in TABLES.items()
    }
    # Staff work in Stockholm; times are stored in UTC and shown in local time.
    env.filters["local"] = lambda moment: moment.astimezone(STOCKHOLM)
    return env
