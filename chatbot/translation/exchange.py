"""The .po round trip: one language's catalog exported from the workspace, and an import checked and
previewed before it changes anything (Weblate, Poedit and the workspace exchange .po files).

An export is clean under `msgfmt -c`; a stale entry goes out fuzzy with its old source as `#| msgid`,
a translation no second person has reviewed with the `# unreviewed` comment (docs/languages.md).
Importing an export unchanged changes nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, write_po

from chatbot.content.catalogs import normalize
from chatbot.translation.checks import Finding, check, errors
from chatbot.translation.glossary import Glossary
from chatbot.translation.units import Domain, State, Translation, key_of
from chatbot.translation.workspace import Workspace

UNREVIEWED_NOTE = "unreviewed: a second translator has not reviewed it yet"

_HEADER = """\
# {domain} catalog of the support chat, {locale}, exported from the translators' workspace.
# Translate the msgstr lines; a fuzzy entry shows its old source as '#| msgid'. Import it in the
# workspace (Export and import) or commit it to locales/ (docs/translation.md)."""


class ImportError_(ValueError):
    """The file cannot be imported as a whole; `code` says why."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Change:
    domain: str
    key: str
    source: str
    before: str | None
    after: str
    state_before: State
    theirs: Translation | None = None
    """The workspace's own edit of this entry, saved since the file was exported: a conflict, shown side
    by side; the translator picks the workspace's, the file's or a new text (nothing is overwritten unseen)."""

    @property
    def conflict(self) -> bool:
        return self.theirs is not None


@dataclass
class ImportPlan:
    locale: str
    domain: str
    changes: list[Change] = field(default_factory=list)
    refused: list[tuple[str, list[Finding]]] = field(default_factory=list)
    outdated: list[str] = field(default_factory=list)
    """Entries translated from another source text than today's (left alone)."""
    unknown: list[str] = field(default_factory=list)
    unchanged: int = 0
    fuzzy: int = 0

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.conflict]


def export_po(ws: Workspace, locale: str, domain: Domain, now: datetime, *, served: bool = False) -> bytes:
    """The language's catalog of `domain`. `served`: as children may read it, for publishing: a current
    translation the language holds back until reviewed goes out fuzzy (kept for translators, never shown)."""
    locale = normalize(locale)
    catalog = Catalog(
        locale=locale,
        domain=domain,
        project="stodchat",
        version="1",
        header_comment=_HEADER.format(domain=domain, locale=locale),
        fuzzy=False,
        language_team=f"{locale} translators of the support chat",
        last_translator="the translators' workspace",
        msgid_bugs_address="",
        creation_date=now,
        revision_date=now,
    )
    for unit in ws.in_domain(domain):
        tr = ws.translation(locale, domain, unit.key)
        state = ws.state(locale, unit)
        flags: set[str] = set()
        previous: list[str] = []
        comments: list[str] = []
        text = ""
        if tr is not None and tr.text:
            text = tr.text
            if state is State.STALE or (served and state.current and not ws.served(locale, unit)):
                flags.add("fuzzy")
                if tr.made_from:
                    previous = [tr.made_from]
            if not tr.reviewed:
                comments.append(UNREVIEWED_NOTE)
        notes = [n for n in (f"answer {unit.answer}" if unit.answer else "", unit.note) if n]
        catalog.add(
            unit.source,
            text,
            locations=[_location(unit.where)] if unit.where and domain != "console" else [],
            flags=flags,
            auto_comments=notes[:1] if unit.answer else notes,
            user_comments=comments,
            previous_id=previous,
            context=None if domain == "console" else unit.key,
        )
    out = io.BytesIO()
    write_po(out, catalog, width=100, sort_output=False, ignore_obsolete=True, include_previous=True)
    return out.getvalue()


def plan_import(
    ws: Workspace, locale: str, domain: Domain, data: bytes, glossary: Glossary | None = None
) -> ImportPlan:
    """What importing `data` would change, with every change checked (an entry with an error is refused)."""
    locale = normalize(locale)
    try:
        data.decode("utf-8")
        catalog = read_po(io.BytesIO(data), abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, ValueError) as exc:
        raise ImportError_("unreadable", str(exc)[:200]) from None
    language = catalog.locale_identifier
    if language and normalize(language) != locale:
        raise ImportError_("language", normalize(language))
    plan = ImportPlan(locale, domain)
    # A file without the header (not made by an export or a PO tool): every workspace edit conflicts.
    exported = _ms(catalog.creation_date) if b"POT-Creation-Date:" in data else 0
    for message in catalog:
        if not isinstance(message.id, str) or not message.id or not isinstance(message.string, str):
            continue
        key = key_of(domain, message.context, message.id)
        if (domain, key) not in ws.units:
            plan.unknown.append(key)
            continue
        if message.fuzzy:
            plan.fuzzy += 1
            continue
        if not message.string:
            continue
        unit = ws.units[(domain, key)]
        if message.id != unit.source:
            plan.outdated.append(key)
            continue
        current: Translation | None = ws.translation(locale, domain, key)
        if current is not None and current.text == message.string and current.made_from == unit.source:
            plan.unchanged += 1
            continue
        findings = check(unit.source, message.string, locale=locale, kind=unit.kind, glossary=glossary)
        if errors(findings):
            plan.refused.append((key, findings))
            continue
        # A workspace edit saved in or after the minute the file was made (POT-Creation-Date, which the
        # export sets) is work the file's translator never saw: a conflict, never overwritten silently.
        edit = ws.edit(locale, domain, key)
        theirs = edit if edit is not None and current is edit and edit.at_ms >= exported else None
        plan.changes.append(
            Change(
                domain,
                key,
                unit.source,
                current.text if current else None,
                message.string,
                ws.state(locale, unit),
                theirs,
            )
        )
    return plan


def _ms(moment: datetime | str | None) -> int:
    """A file's date in ms since the epoch (UTC when it names no offset); 0 without a readable one."""
    if not isinstance(moment, datetime):
        return 0
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def _location(where: str) -> tuple[str, int]:
    path, _, line = where.rpartition(":")
    return (path, int(line)) if path and line.isdigit() else (where, 0)
