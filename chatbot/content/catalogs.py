"""Translations of the answers at run time: gettext catalogs `locales/<lang>/LC_MESSAGES/content.po`, read.

Every string of an answer has a context ('<answer id>:bubble:<n>' or '<answer id>:button:<target>') so
that equal Swedish strings in different answers translate separately, and so that a changed Swedish
text is still recognised as the same string: `update` (chatbot.content.catalog_tools) then keeps the old
translation but marks it fuzzy.

The server reads the .po files themselves, not compiled .mo files: a stale .mo left behind by a
forgotten compile step could otherwise show a child an outdated translation (guideline 9). A
translation is used only when it is not fuzzy and its msgid is exactly the current Swedish text.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, unescape

SOURCE_LOCALE = "sv"
DOMAIN = "content"


class CatalogError(ValueError):
    """A catalog file cannot be read; the message names the file."""


# A translator comment starting with this word marks a translation no person has checked yet (e.g. a
# machine or AI draft). It is served all the same (an unreviewed Arabic crisis answer is far better than
# a Swedish one); `content check` counts them so translators can find and confirm them
# (docs/languages.md). Confirming means deleting the comment line.
UNREVIEWED = "unreviewed"


def is_unreviewed(comments: Iterable[str]) -> bool:
    """Whether a catalog entry's translator comments mark it as not reviewed by a person."""
    return any(c.strip().lower().startswith(UNREVIEWED) for c in comments)


@dataclass(frozen=True)
class Entry:
    msgid: str
    msgstr: str
    reviewed: bool = True


class ContentCatalogs:
    """The current (non-fuzzy) translations per locale, and the order in which locales are tried."""

    def __init__(self, entries: Mapping[str, Mapping[str, Entry]], fallback_locale: str = SOURCE_LOCALE):
        self._entries = entries
        self.fallback_locale = normalize(fallback_locale)

    @classmethod
    def load(cls, locales_dir: Path, fallback_locale: str = SOURCE_LOCALE) -> ContentCatalogs:
        entries = {
            normalize(po.parent.parent.name): _served(read_catalog(po))
            for po in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
        }
        return cls(entries, fallback_locale)

    @classmethod
    def from_texts(cls, texts: Mapping[str, str], fallback_locale: str = SOURCE_LOCALE) -> ContentCatalogs:
        """The same from .po texts by locale (a published content version holds them as text)."""
        entries = {
            normalize(locale): _served(read_po(io.BytesIO(text.encode("utf-8")), abort_invalid=True))
            for locale, text in sorted(texts.items())
        }
        return cls(entries, fallback_locale)

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(sorted(self._entries))

    def chain(self, locale: str | None) -> list[str]:
        """Locales to try in order: 'en-GB' → en_GB, en, then the fallback, then the source."""
        order: list[str] = []
        for wanted in (locale, self.fallback_locale, SOURCE_LOCALE):
            if not wanted:
                continue
            full = normalize(wanted)
            for candidate in (full, full.split("_")[0]):
                if candidate not in order:
                    order.append(candidate)
        return order

    def unreviewed(self, locale: str, current: Mapping[str, str]) -> list[str]:
        """Contexts of current translations (msgid equal to `current[context]`) no person has reviewed."""
        entries = self._entries.get(normalize(locale), {})
        return sorted(
            context
            for context, entry in entries.items()
            if not entry.reviewed and current.get(context) == entry.msgid
        )

    def lookup(self, locale: str, context: str, source: str) -> str | None:
        """The translation of `source` in `locale`, or None if there is no current one."""
        entry = self._entries.get(normalize(locale), {}).get(context)
        if entry is None or entry.msgid != source:
            return None
        return entry.msgstr


def normalize(locale: str) -> str:
    """'en-gb' and 'en_GB' to 'en_GB'; 'SV' to 'sv'."""
    language, _, region = locale.replace("-", "_").partition("_")
    return f"{language.lower()}_{region.upper()}" if region else language.lower()


def read_catalog(path: Path) -> Catalog:
    try:
        with path.open("rb") as fileobj:
            catalog = read_po(fileobj, abort_invalid=True)
        previous = _previous_ids(path.read_text(encoding="utf-8"))
    except (PoFileError, UnicodeDecodeError, ValueError) as exc:
        raise CatalogError(f"{path}: not a valid gettext catalog: {exc}") from None
    for message in catalog:
        if message.context in previous:
            message.previous_id = [previous[message.context]]
    return catalog


def _previous_ids(text: str) -> dict[str, str]:
    """The '#| msgid' (old source text) of fuzzy entries by context; Babel's reader drops them, and a
    translator needs them to see what changed in the Swedish."""
    found: dict[str, str] = {}
    pieces: list[str] = []
    for line in text.splitlines():
        if line.startswith("#| msgid "):
            pieces = [unescape(line[len("#| msgid ") :].strip())]
        elif line.startswith('#| "') and pieces:
            pieces.append(unescape(line[3:].strip()))
        elif line.startswith("msgctxt ") and pieces:
            found[unescape(line[len("msgctxt ") :].strip())] = "".join(pieces)
            pieces = []
        elif not line.startswith("#"):
            pieces = []
    return found


def _served(catalog: Catalog) -> dict[str, Entry]:
    """What a catalog lets children read: translated entries by answer context, never a fuzzy one."""
    return {
        m.context: Entry(m.id, m.string, not is_unreviewed(m.user_comments))
        for m in catalog
        if isinstance(m.id, str)
        and m.id
        and m.context
        and isinstance(m.string, str)
        and m.string
        and not m.fuzzy
    }
