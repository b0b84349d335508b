"""The widget's strings from the gettext catalogs `locales/<lang>/LC_MESSAGES/widget.po`, per language.

The Swedish catalog is the source: each entry's `msgctxt` is the key the widget asks for and its `msgid`
the Swedish text. A translation reaches a child only while it is current: not fuzzy, not empty, its
`msgid` equal to today's Swedish text, and the same `{placeholders}`. Anything else falls back to the
Swedish source, so a child never sees a stale or broken translation (guideline 9).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

from chatbot.content.catalogs import is_unreviewed, normalize
from chatbot.content.languages import LanguageStatus, WidgetStatus, language_status, safe_complete
from chatbot.content.library import ContentLibrary

log = logging.getLogger(__name__)

DOMAIN = "widget"
SOURCE_LOCALE = "sv"
LANGUAGE_NAME_KEY = "language.self"

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_LOCALE_CODE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")


class CatalogError(ValueError):
    """A widget catalog is missing or malformed; the message names the file."""


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    direction: str  # "ltr" or "rtl"

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "dir": self.direction}


@dataclass(frozen=True)
class WidgetCatalog:
    """One language's strings, complete: every key of the source, translated or the Swedish fallback."""

    locale: str
    direction: str
    messages: Mapping[str, str]
    fallbacks: tuple[str, ...]
    """Keys shown in Swedish because the translation is missing, fuzzy, stale or broken."""
    unreviewed: tuple[str, ...] = ()
    """Keys whose current translation no person has reviewed yet (served all the same)."""

    def status(self) -> WidgetStatus:
        return WidgetStatus(self.fallbacks, self.unreviewed)


class WidgetCatalogs:
    """Every language the widget has a catalog for; `available` are those it offers a child.

    Without `offered`, every language with a catalog is offered; the gateway passes the safe-complete
    languages of OFFERED_LOCALES (chatbot/content/languages.py), so no other language reaches the menu,
    the Accept-Language negotiation or `set_locale`."""

    def __init__(
        self,
        catalogs: Mapping[str, WidgetCatalog],
        default_locale: str,
        offered: Collection[str] | None = None,
    ) -> None:
        if SOURCE_LOCALE not in catalogs:
            raise CatalogError(f"the Swedish source catalog ({SOURCE_LOCALE}) is missing")
        if default_locale not in catalogs:
            raise CatalogError(
                f"DEFAULT_LOCALE {default_locale!r} has no widget catalog (have: {', '.join(sorted(catalogs))})"
            )
        if offered is not None and default_locale not in {*offered, SOURCE_LOCALE}:
            raise CatalogError(
                f"DEFAULT_LOCALE {default_locale!r} is not offered (offered: {', '.join(sorted(offered)) or 'none'})"
            )
        self._all = dict(catalogs)
        self._catalogs = {
            code: c
            for code, c in catalogs.items()
            if offered is None or code in offered or code == SOURCE_LOCALE
        }
        self.default_locale = default_locale
        others = sorted(code for code in self._catalogs if code != SOURCE_LOCALE)
        self.available: tuple[str, ...] = (SOURCE_LOCALE, *others)
        self.languages: tuple[Language, ...] = tuple(
            Language(code, catalogs[code].messages[LANGUAGE_NAME_KEY], catalogs[code].direction)
            for code in self.available
        )

    @property
    def locales(self) -> tuple[str, ...]:
        """Every language with a widget catalog, offered or not."""
        return tuple(sorted(self._all))

    def status(self, locale: str) -> WidgetStatus | None:
        """What the language's widget catalog lacks, or None when it has none."""
        found = self._all.get(locale)
        return found.status() if found is not None else None

    def offering(self, offered: Collection[str]) -> WidgetCatalogs:
        """The same catalogs, offering only `offered` (and Swedish, the source)."""
        return WidgetCatalogs(self._all, self.default_locale, offered)

    @classmethod
    def load(cls, locales_dir: Path, default_locale: str) -> WidgetCatalogs:
        source_path = _po_path(locales_dir, SOURCE_LOCALE)
        if not source_path.is_file():
            raise CatalogError(f"no Swedish widget catalog at {source_path}")
        source = _read_source(source_path)
        if LANGUAGE_NAME_KEY not in source:
            raise CatalogError(f"{source_path}: the entry {LANGUAGE_NAME_KEY!r} is missing")
        catalogs = {SOURCE_LOCALE: WidgetCatalog(SOURCE_LOCALE, "ltr", dict(source), ())}
        for folder in sorted(p for p in locales_dir.iterdir() if p.is_dir()):
            code = folder.name
            path = _po_path(locales_dir, code)
            if code == SOURCE_LOCALE or not path.is_file():
                continue
            if not _LOCALE_CODE.match(code):
                raise CatalogError(f"{path}: {code!r} is not a locale code like 'en' or 'pt_BR'")
            catalogs[code] = _read_translation(path, code, source)
        return cls(catalogs, default_locale)

    def get(self, locale: str) -> WidgetCatalog | None:
        return self._catalogs.get(locale)

    def __contains__(self, locale: object) -> bool:
        return locale in self._catalogs

    def negotiate(self, accept_language: str | None) -> str:
        """The best available language for an Accept-Language header, else the default."""
        preferred = _parse_accept_language(accept_language or "")
        chosen = Locale.negotiate(preferred, list(self.available), sep="_") if preferred else None
        return str(chosen) if chosen is not None and str(chosen) in self._catalogs else self.default_locale

    def as_json(self, locale: str) -> dict[str, Any]:
        catalog = self._catalogs[locale]
        return {
            "locale": catalog.locale,
            "dir": catalog.direction,
            "messages": dict(catalog.messages),
            "languages": [language.to_json() for language in self.languages],
        }


def _po_path(locales_dir: Path, code: str) -> Path:
    return locales_dir / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read_source(path: Path) -> dict[str, str]:
    """key -> Swedish text (the msgstr, or the msgid when the msgstr is left empty)."""
    texts: dict[str, str] = {}
    for message in _read(path, SOURCE_LOCALE):
        key = message.context
        if not message.id:
            continue
        if not key:
            raise CatalogError(f"{path}: the entry {message.id!r} has no msgctxt (the key the widget uses)")
        if key in texts:
            raise CatalogError(f"{path}: the key {key!r} appears twice")
        texts[key] = str(message.string or message.id)
    return texts


def _read_translation(path: Path, code: str, source: Mapping[str, str]) -> WidgetCatalog:
    translated: dict[str, str] = {}
    unreviewed: list[str] = []
    for message in _read(path, code):
        key, text = message.context, message.string
        if not message.id or not key or key not in source or not isinstance(text, str) or not text.strip():
            continue
        if message.fuzzy or message.id != source[key]:
            continue  # unreviewed, or translated from an older Swedish text
        if set(_PLACEHOLDER.findall(text)) != set(_PLACEHOLDER.findall(source[key])):
            log.warning("widget catalog %s: %s has other placeholders than the source", code, key)
            continue
        translated[key] = text
        if is_unreviewed(message.user_comments):
            unreviewed.append(key)
    messages = {key: translated.get(key, swedish) for key, swedish in source.items()}
    fallbacks = tuple(key for key in source if key not in translated)
    if fallbacks:
        log.info("widget catalog %s: %d strings fall back to Swedish", code, len(fallbacks))
    try:
        direction = Locale.parse(code).text_direction
    except (UnknownLocaleError, ValueError):
        raise CatalogError(f"{path}: Babel does not know the locale {code!r}") from None
    return WidgetCatalog(code, direction, messages, fallbacks, tuple(unreviewed))


def _read(path: Path, code: str) -> list[Any]:
    try:
        with path.open("rb") as fh:
            return list(read_po(fh, locale=code, domain=DOMAIN, ignore_obsolete=True, abort_invalid=True))
    except Exception as exc:
        raise CatalogError(f"{path}: cannot read the catalog: {exc}") from None


def _parse_accept_language(header: str) -> list[str]:
    """'sv-SE,sv;q=0.9,en;q=0.8' -> ['sv_SE', 'sv', 'en'], by quality; a bad header yields []."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        if quality <= 0:
            continue
        ranked.append((-quality, index, tag.replace("-", "_")))
    ranked.sort()
    out: list[str] = []
    for _, _, tag in ranked:
        out.append(tag)
        base = tag.split("_")[0].lower()
        if base != tag:
            out.append(base)
    return out


def language_statuses(library: ContentLibrary, catalogs: WidgetCatalogs) -> list[LanguageStatus]:
    """Every language with a widget or content catalog, measured against the safe-complete definition."""
    codes = set(catalogs.locales) | {SOURCE_LOCALE}
    if library.catalogs is not None:
        codes |= set(library.catalogs.locales)
    return [language_status(code, library, catalogs.status(code)) for code in sorted(codes)]


def offer_safe(library: ContentLibrary, catalogs: WidgetCatalogs, offered: Collection[str]) -> WidgetCatalogs:
    """The catalogs offering only the safe-complete languages of `offered`; each one left out is logged
    as an error with its reasons, so staff see why a language vanished from the menu."""
    statuses = {s.locale: s for s in language_statuses(library, catalogs)}
    wanted = [normalize(code) for code in offered]
    for code in wanted:
        status = statuses.get(code)
        if status is None or not status.safe_complete:
            problems = "; ".join(status.problems()) if status is not None else "no catalogs"
            log.error("OFFERED_LOCALES: %s is not safe-complete and is not offered (%s)", code, problems)
    return catalogs.offering(safe_complete(s for s in statuses.values() if s.locale in wanted))
