"""What there is to translate: the units of the three catalogs (answers, widget, console), read from files.

A unit is one source string: an answer's bubble or button (`content`, Swedish, keyed by msgctxt), a widget
string (`widget`, Swedish from `sv/widget.po`, keyed by msgctxt) or a console string (`console`, English
msgid, which Swedish translates). A translation remembers the source text it was made *from*: a
translation made from another text than today's source is stale and never reaches a child.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from chatbot.content.catalogs import SOURCE_LOCALE, _previous_ids, is_unreviewed, read_catalog
from chatbot.content.library import ContentLibrary
from chatbot.translation.checks import Kind

Domain = Literal["content", "widget", "console"]
DOMAINS: tuple[Domain, ...] = ("content", "widget", "console")
CATALOG = "catalog"
"""`reviewed_by` of a catalog entry without the `# unreviewed` comment: reviewed outside the workspace."""


class State(StrEnum):
    MISSING = "missing"
    STALE = "stale"
    UNREVIEWED = "unreviewed"
    """Current, translated by one person, awaiting a second."""
    REVIEWED = "reviewed"

    @property
    def current(self) -> bool:
        return self in (State.UNREVIEWED, State.REVIEWED)


@dataclass(frozen=True)
class Unit:
    domain: Domain
    key: str
    source: str
    kind: Kind
    answer: str = ""
    """The answer id (content only)."""
    note: str = ""
    """Why it says what it says: the editor's comment atop the answer file, or the catalog's `#.` note."""
    where: str = ""


@dataclass(frozen=True)
class Translation:
    text: str
    made_from: str | None
    """The source text it translates; None when unknown (a fuzzy catalog entry without `#| msgid`)."""
    translated_by: str = ""
    reviewed_by: str = ""
    at_ms: int = 0
    base: str | None = None
    """A workspace edit: the catalog's text when it was made. The edit stands while the catalog still
    holds that text; once the catalog moves on (a Weblate commit), the catalog wins (docs/translation.md)."""

    @property
    def reviewed(self) -> bool:
        return bool(self.reviewed_by)

    def state(self, source: str) -> State:
        if not self.text:
            return State.MISSING
        if self.made_from != source:
            return State.STALE
        return State.REVIEWED if self.reviewed else State.UNREVIEWED


CONSOLE_SOURCE = "en"
"""The console's msgids are English: English needs no console translation, Swedish does."""


def is_source(locale: str, domain: str) -> bool:
    """Whether `locale` is the language `domain` is written in (nothing to translate)."""
    return locale == (CONSOLE_SOURCE if domain == "console" else SOURCE_LOCALE)


def state_of(translation: Translation | None, unit: Unit) -> State:
    return State.MISSING if translation is None else translation.state(unit.source)


def catalog_path(locales_dir: Path, locale: str, domain: Domain) -> Path:
    return locales_dir / locale / "LC_MESSAGES" / f"{domain}.po"


def content_units(
    library: ContentLibrary, root: Path | None = None, texts: Mapping[str, str] | None = None
) -> list[Unit]:
    """Every bubble and button; `texts` (answer id -> YAML, a published version's) gives the editors'
    comments, else the answer files do."""
    units = []
    for answer in sorted(library.answers.values(), key=lambda a: a.id):
        note = (
            _leading_comment(texts[answer.id])
            if texts and answer.id in texts
            else editor_comment(answer.source)
        )
        where = str(answer.source.relative_to(root)) if root else answer.source.name
        bubbles = len(answer.bubbles)
        for i, message in enumerate(answer.messages()):
            units.append(
                Unit(
                    "content",
                    message.context,
                    message.text,
                    "bubble" if i < bubbles else "button",
                    answer.id,
                    note,
                    f"{where}:{message.line}",
                )
            )
    return units


def editor_comment(path: Path) -> str:
    """The comment lines atop an answer file: the editors' reason for its wording."""
    try:
        return _leading_comment(path.read_text(encoding="utf-8"))
    except OSError:
        return ""


def _leading_comment(text: str) -> str:
    found = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        found.append(line.lstrip("#").strip())
    return " ".join(found)


def widget_units(locales_dir: Path) -> list[Unit]:
    catalog = read_catalog(catalog_path(locales_dir, SOURCE_LOCALE, "widget"))
    return [
        Unit("widget", m.context, m.string, "widget", note=" ".join(m.auto_comments))
        for m in catalog
        if m.id and m.context and isinstance(m.string, str) and m.string
    ]


def console_units(locales_dir: Path) -> list[Unit]:
    template = locales_dir / "console.pot"
    if not template.exists():
        return []
    catalog = read_catalog(template)
    return [
        Unit(
            "console",
            m.id,
            m.id,
            "console",
            note=" ".join(m.auto_comments),
            where=" ".join(f"{f}:{n}" for f, n in m.locations[:2]),
        )
        for m in catalog
        if isinstance(m.id, str) and m.id
    ]


def all_units(library: ContentLibrary, locales_dir: Path, root: Path | None = None) -> list[Unit]:
    return [*content_units(library, root), *widget_units(locales_dir), *console_units(locales_dir)]


def key_of(domain: Domain, message_context: str | None, message_id: str) -> str:
    """Content and widget entries are keyed by msgctxt, console entries (English msgids) by msgid."""
    return message_id if domain == "console" else (message_context or "")


def catalog_translations(catalog: Catalog, domain: Domain) -> dict[str, Translation]:
    """The entries of one language's catalog as translations: a fuzzy one was made from its `#| msgid`."""
    found: dict[str, Translation] = {}
    for m in catalog:
        if not isinstance(m.id, str) or not m.id or not isinstance(m.string, str) or not m.string:
            continue
        key = key_of(domain, m.context, m.id)
        if not key:
            continue
        made_from = (str(m.previous_id[0]) if m.previous_id else None) if m.fuzzy else m.id
        reviewer = "" if is_unreviewed(m.user_comments) else CATALOG
        found[key] = Translation(m.string, made_from, reviewed_by=reviewer)
    return found


def catalog_from_text(text: str) -> Catalog:
    """A catalog from .po text, with the old source of each fuzzy entry (`#| msgid`) as its previous id."""
    catalog = read_po(io.BytesIO(text.encode("utf-8")), abort_invalid=True)
    previous = _previous_ids(text)
    for message in catalog:
        if message.context in previous:
            message.previous_id = [previous[message.context]]
    return catalog


def read_translations(
    locales_dir: Path, locales: Iterable[str]
) -> dict[str, dict[tuple[str, str], Translation]]:
    """Every language's catalog entries by (domain, key); the source catalogs (Swedish content and widget)
    are not translations."""
    found: dict[str, dict[tuple[str, str], Translation]] = {}
    for locale in locales:
        entries: dict[tuple[str, str], Translation] = {}
        for domain in DOMAINS:
            if domain != "console" and locale == SOURCE_LOCALE:
                continue
            path = catalog_path(locales_dir, locale, domain)
            if path.exists():
                for key, tr in catalog_translations(read_catalog(path), domain).items():
                    entries[(domain, key)] = tr
        found[locale] = entries
    return found


def catalog_locales(locales_dir: Path) -> list[str]:
    return sorted(p.name for p in locales_dir.iterdir() if (p / "LC_MESSAGES").is_dir())


def units_by_key(units: Iterable[Unit]) -> Mapping[tuple[str, str], Unit]:
    return {(u.domain, u.key): u for u in units}
