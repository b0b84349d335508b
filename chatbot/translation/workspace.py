"""The workspace: catalog entries and the translators' edits together, and the questions asked of them.

Per language: coverage of the three catalogs (current, stale, missing, unreviewed), whether the
language is safe-complete and offered, which answers children in it read in Swedish now, the review
queue; saving a translation (checked first), reviewing one (by a second person), suggestions from the
translation memory, and the catalogs the gateway serves.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from chatbot.content.catalogs import SOURCE_LOCALE, ContentCatalogs, Entry, normalize
from chatbot.content.languages import LanguageStatus, WidgetStatus, language_status
from chatbot.content.library import ContentLibrary
from chatbot.nlu.crisis import CRISIS_LANGUAGES
from chatbot.translation.checks import Finding, check, errors
from chatbot.translation.diff import Piece, word_diff
from chatbot.translation.glossary import Glossary
from chatbot.translation.units import (
    DOMAINS,
    State,
    Translation,
    Unit,
    all_units,
    catalog_locales,
    is_source,
    read_translations,
    state_of,
)

Key = tuple[str, str]
"""(domain, key) of a unit."""

SIMILAR = 0.6
"""The least difflib ratio of two source texts for the memory to suggest one's translation for the other."""


class Refused(ValueError):
    """A save or review that cannot be done; `code` says why (the console words it)."""

    def __init__(self, code: str, findings: Sequence[Finding] = ()) -> None:
        super().__init__(code)
        self.code = code
        self.findings = list(findings)


@dataclass(frozen=True)
class LanguageSettings:
    serve_unreviewed: bool = True
    """Whether a current translation no second person has reviewed is shown to children. Yes by default:
    an unreviewed Arabic crisis answer is far better than a Swedish one (docs/languages.md)."""
    switched_on: bool = False
    """A supervisor lets the widget offer it (once it is safe-complete) without a deployment change."""
    started_by: str = ""


@dataclass(frozen=True)
class Coverage:
    total: int = 0
    current: int = 0
    stale: int = 0
    missing: int = 0
    unreviewed: int = 0
    """Of the current ones."""

    @property
    def percent(self) -> int:
        return round(100 * self.current / self.total) if self.total else 100


@dataclass(frozen=True)
class Figures:
    locale: str
    coverage: Mapping[str, Coverage]
    status: LanguageStatus
    offered: bool
    switched_on: bool
    serve_unreviewed: bool
    in_swedish: tuple[str, ...]
    """Answers a child in this language reads in Swedish now (a string stale, missing or held back)."""
    awaiting_review: tuple[Key, ...]
    conflicts: tuple[Key, ...] = field(default=())
    """Workspace edits the catalog has since moved past (a Weblate commit): the catalog's text is used."""


@dataclass(frozen=True)
class Suggestion:
    source: str
    text: str
    score: float
    domain: str
    key: str


class Workspace:
    """An immutable view; the store builds a new one when anything changes."""

    def __init__(
        self,
        library: ContentLibrary,
        units: Iterable[Unit],
        catalog: Mapping[str, Mapping[Key, Translation]],
        edits: Mapping[str, Mapping[Key, Translation]] | None = None,
        settings: Mapping[str, LanguageSettings] | None = None,
        *,
        offered: Collection[str] = (),
        crisis_languages: Collection[str] = CRISIS_LANGUAGES,
    ) -> None:
        self.library = library
        self.units: dict[Key, Unit] = {(u.domain, u.key): u for u in units}
        self._catalog = catalog
        self._edits = edits or {}
        self.settings = dict(settings or {})
        self._offered = {normalize(c) for c in offered}
        self._crisis = crisis_languages

    # -- reading -------------------------------------------------------------------------------

    @property
    def locales(self) -> list[str]:
        found = set(self._catalog) | set(self._edits) | set(self.settings)
        return sorted(normalize(c) for c in found)

    def unit(self, domain: str, key: str) -> Unit:
        try:
            return self.units[(domain, key)]
        except KeyError:
            raise Refused("unknown") from None

    def translation(self, locale: str, domain: str, key: str) -> Translation | None:
        """The workspace's edit while the catalog still holds what the edit was made on; else the catalog's."""
        from_catalog = self._catalog.get(locale, {}).get((domain, key))
        edit = self._edits.get(locale, {}).get((domain, key))
        if edit is not None:
            # The edit stands while the catalog holds what it was made on, or holds the edit itself (it was
            # published into the catalog); a catalog that moved on to anything else wins.
            if edit.base == (from_catalog.text if from_catalog else None):
                return edit
            if from_catalog is not None and (from_catalog.text, from_catalog.made_from) == (
                edit.text,
                edit.made_from,
            ):
                return edit
        return from_catalog

    def edit(self, locale: str, domain: str, key: str) -> Translation | None:
        return self._edits.get(locale, {}).get((domain, key))

    def state(self, locale: str, unit: Unit) -> State:
        return state_of(self.translation(locale, unit.domain, unit.key), unit)

    def served(self, locale: str, unit: Unit) -> bool:
        state = self.state(locale, unit)
        if state is State.REVIEWED:
            return True
        return state is State.UNREVIEWED and self.settings.get(locale, LanguageSettings()).serve_unreviewed

    def stale_diff(self, locale: str, unit: Unit) -> list[Piece] | None:
        """What changed in the source since the translation was made, or None (not stale, or unknown)."""
        tr = self.translation(locale, unit.domain, unit.key)
        if tr is None or tr.made_from is None or tr.made_from == unit.source:
            return None
        return word_diff(tr.made_from, unit.source)

    def in_domain(self, domain: str) -> list[Unit]:
        return [u for u in self.units.values() if u.domain == domain]

    def answer_units(self, answer_id: str) -> list[Unit]:
        return [u for u in self.units.values() if u.domain == "content" and u.answer == answer_id]

    # -- the dashboard -------------------------------------------------------------------------

    def figures(self, locale: str) -> Figures:
        locale = normalize(locale)
        coverage: dict[str, Coverage] = {}
        for domain in DOMAINS:
            units = self.in_domain(domain)
            if is_source(locale, domain):
                coverage[domain] = Coverage(len(units), len(units))
                continue
            states = [self.state(locale, u) for u in units]
            coverage[domain] = Coverage(
                len(units),
                sum(s.current for s in states),
                states.count(State.STALE),
                states.count(State.MISSING),
                states.count(State.UNREVIEWED),
            )
        status = self.status(locale)
        settings = self.settings.get(locale, LanguageSettings())
        offered = status.safe_complete and (locale in self._offered or settings.switched_on)
        in_swedish: tuple[str, ...] = ()
        if locale != SOURCE_LOCALE:
            in_swedish = tuple(
                sorted(
                    answer_id
                    for answer_id in self.library.answers
                    if not all(self.served(locale, u) for u in self.answer_units(answer_id))
                )
            )
        awaiting = tuple(
            (u.domain, u.key)
            for u in self.units.values()
            if not is_source(locale, u.domain) and self.state(locale, u) is State.UNREVIEWED
        )
        conflicts = tuple(
            key
            for key, edit in self._edits.get(locale, {}).items()
            if self.translation(locale, *key) is not edit
        )
        return Figures(
            locale,
            coverage,
            status,
            offered,
            settings.switched_on,
            settings.serve_unreviewed,
            in_swedish,
            awaiting,
            conflicts,
        )

    def status(self, locale: str) -> LanguageStatus:
        """The language against the safe-complete definition (chatbot.domain.languages), on what is served."""
        widget = self.in_domain("widget")
        missing = tuple(u.key for u in widget if locale != SOURCE_LOCALE and not self.served(locale, u))
        unreviewed = tuple(u.key for u in widget if self.state(locale, u) is State.UNREVIEWED)
        has_widget = locale == SOURCE_LOCALE or any(
            d == "widget" for d, _ in [*self._catalog.get(locale, {}), *self._edits.get(locale, {})]
        )
        library = ContentLibrary(self.library.answers.values(), self.served_content())
        return language_status(
            locale,
            library,
            WidgetStatus(missing, unreviewed) if has_widget else None,
            self._crisis,
        )

    def offered_locales(self) -> tuple[str, ...]:
        """What the widget's menu offers: Swedish first, then every safe-complete language that the
        deployment offers or a supervisor switched on."""
        wanted = self._offered | {c for c, s in self.settings.items() if s.switched_on} | {SOURCE_LOCALE}
        found = [c for c in sorted(wanted) if self.status(c).safe_complete]
        return tuple(sorted(found, key=lambda c: (c != SOURCE_LOCALE, c)))

    # -- what the gateway serves ---------------------------------------------------------------

    def served_content(self, fallback_locale: str = SOURCE_LOCALE) -> ContentCatalogs:
        entries: dict[str, dict[str, Entry]] = {}
        for locale in self.locales:
            if locale == SOURCE_LOCALE:
                continue
            found: dict[str, Entry] = {}
            for unit in self.in_domain("content"):
                tr = self.translation(locale, "content", unit.key)
                if tr is not None and self.served(locale, unit):
                    found[unit.key] = Entry(unit.source, tr.text, tr.reviewed)
            entries[locale] = found
        return ContentCatalogs(entries, fallback_locale)

    def served_widget(self, locale: str) -> dict[str, str]:
        """The widget strings of `locale` a child may see (the rest are shown in Swedish)."""
        found = {}
        for unit in self.in_domain("widget"):
            tr = self.translation(locale, "widget", unit.key)
            if tr is not None and self.served(locale, unit):
                found[unit.key] = tr.text
        return found

    # -- changing ------------------------------------------------------------------------------

    def translate(
        self,
        locale: str,
        domain: str,
        key: str,
        text: str,
        by: str,
        at_ms: int,
        glossary: Glossary | None = None,
    ) -> tuple[Translation, list[Finding]]:
        """A new translation of a unit, checked; Refused('checks') with the findings when any is an error."""
        locale = normalize(locale)
        if is_source(locale, domain):
            raise Refused("source")
        unit = self.unit(domain, key)
        findings = check(unit.source, text, locale=locale, kind=unit.kind, glossary=glossary)
        if errors(findings):
            raise Refused("checks", findings)
        from_catalog = self._catalog.get(locale, {}).get((domain, key))
        return (
            Translation(text, unit.source, by, "", at_ms, from_catalog.text if from_catalog else None),
            findings,
        )

    def review(self, locale: str, domain: str, key: str, reviewer: str, at_ms: int) -> Translation:
        """The translation confirmed by a second person: never by the one who translated it."""
        locale = normalize(locale)
        unit = self.unit(domain, key)
        tr = self.translation(locale, domain, key)
        state = state_of(tr, unit)
        if tr is None or not state.current:
            raise Refused("not_current")
        if state is State.REVIEWED:
            raise Refused("already")
        if tr.translated_by == reviewer:
            raise Refused("own")
        from_catalog = self._catalog.get(locale, {}).get((domain, key))
        base = from_catalog.text if from_catalog else None
        return replace(tr, reviewed_by=reviewer, at_ms=at_ms, base=base)

    # -- translation memory --------------------------------------------------------------------

    def suggestions(
        self, locale: str, source: str, *, exclude: Key | None = None, limit: int = 5
    ) -> list[Suggestion]:
        """Current translations into `locale` of the same or a similar source text, best first."""
        locale = normalize(locale)
        found: dict[str, Suggestion] = {}
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(source.casefold())
        for (domain, key), unit in self.units.items():
            if (domain, key) == exclude or is_source(locale, domain):
                continue
            matcher.set_seq1(unit.source.casefold())
            if matcher.real_quick_ratio() < SIMILAR or matcher.quick_ratio() < SIMILAR:
                continue
            score = 1.0 if unit.source == source else matcher.ratio()
            if score < SIMILAR:
                continue
            tr = self.translation(locale, domain, key)
            if tr is None or not tr.state(unit.source).current:
                continue
            best = found.get(tr.text)
            if best is None or best.score < score:
                found[tr.text] = Suggestion(unit.source, tr.text, round(score, 2), domain, key)
        return sorted(found.values(), key=lambda s: -s.score)[:limit]


def load_workspace(
    content_dir: Path,
    locales_dir: Path,
    edits: Mapping[str, Mapping[Key, Translation]] | None = None,
    settings: Mapping[str, LanguageSettings] | None = None,
    *,
    offered: Collection[str] = (),
    crisis_languages: Collection[str] = CRISIS_LANGUAGES,
) -> Workspace:
    """The workspace on the answers and catalogs on disk, with the translators' edits and settings."""
    library = ContentLibrary.load(content_dir, locales_dir)
    units = all_units(library, locales_dir, content_dir.parent)
    locales = set(catalog_locales(locales_dir)) | set(edits or {}) | set(settings or {})
    catalog = read_translations(locales_dir, sorted(locales))
    return Workspace(
        library, units, catalog, edits, settings, offered=offered, crisis_languages=crisis_languages
    )
