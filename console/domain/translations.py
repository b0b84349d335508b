"""The translators' desk: the workspace on the catalogs plus the edits in Redis, and every change audited.

Views ask it named questions (the workspace now, save, review, import, glossary, languages); it writes the
audit entry before each change (as the analysts' log does) and the store announces the change, so every
gateway rereads within seconds (docs/translation.md, "Live").
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError

from chatbot.clock import Clock
from chatbot.content.catalogs import SOURCE_LOCALE, normalize
from chatbot.content.library import ContentLibrary
from chatbot.domain.content_versions import ContentVersions, Snapshot, StaleVersion
from chatbot.store.audit import AuditLog
from chatbot.store.translations import TranslationStore
from chatbot.translation.checks import same_markup
from chatbot.translation.exchange import ImportPlan, export_po, plan_import
from chatbot.translation.glossary import Glossary, Term
from chatbot.translation.records import (
    edits_of,
    glossary_of,
    settings_of,
    settings_record,
    translation_record,
)
from chatbot.translation.units import (
    Domain,
    Translation,
    Unit,
    all_units,
    catalog_from_text,
    catalog_locales,
    catalog_translations,
    content_units,
    read_translations,
)
from chatbot.translation.workspace import Key, LanguageSettings, Refused, Workspace

log = logging.getLogger(__name__)


class TranslationDesk:
    def __init__(
        self,
        content_dir: Path,
        locales_dir: Path,
        store: TranslationStore,
        audit: AuditLog,
        clock: Clock,
        offered: Collection[str],
        versions: ContentVersions | None = None,
    ) -> None:
        self._versions = versions
        self._store = store
        self._audit = audit
        self._clock = clock
        self._offered = tuple(offered)
        self._library = ContentLibrary.load(content_dir, locales_dir)
        self._files_units: list[Unit] = all_units(self._library, locales_dir, content_dir.parent)
        self._units = self._files_units
        self._catalog = read_translations(locales_dir, catalog_locales(locales_dir))
        self._content_version: int | None = None
        self._cached: tuple[int, int | None, Workspace] | None = None

    async def _follow_content(self) -> Snapshot | None:
        """Answers and answer catalogs from the published content version (the editors' changes and the
        translations published before), widget and console strings from the repository's catalogs."""
        if self._versions is None:
            return None
        current = await self._versions.current()
        if current is None:
            return None
        version, snapshot = current
        if version.number != self._content_version:
            self._library = snapshot.library(version=version.number)
            others = [u for u in self._files_units if u.domain != "content"]
            self._units = [*content_units(self._library, texts=snapshot.answers), *others]
            for locale, text in snapshot.catalogs.items():
                entries = {k: v for k, v in self._catalog.get(locale, {}).items() if k[0] != "content"}
                for key, tr in catalog_translations(catalog_from_text(text), "content").items():
                    entries[("content", key)] = tr
                self._catalog[locale] = entries
            self._content_version = version.number
        return snapshot

    async def workspace(self) -> Workspace:
        """The workspace as of the store's current version (rebuilt only when something changed)."""
        await self._follow_content()
        version = await self._store.version()
        if self._cached is None or self._cached[:2] != (version, self._content_version):
            edits = edits_of(await self._store.edits())
            settings = {code: settings_of(r) for code, r in (await self._store.settings()).items()}
            ws = Workspace(self._library, self._units, self._catalog, edits, settings, offered=self._offered)
            self._cached = (version, self._content_version, ws)
        return self._cached[2]

    async def _publish(self, locale: str, by: str, note: str) -> None:
        """Answers' translations go live like answers do: the language's catalog, as children may read it,
        published as a new content version that every gateway adopts within seconds."""
        if self._versions is None:
            return
        for _attempt in range(3):
            snapshot = await self._follow_content()
            if snapshot is None:
                return
            ws = await self.workspace()
            text = export_po(ws, locale, "content", self._clock.now(), served=True).decode("utf-8")
            if snapshot.catalogs.get(locale) == text:
                return
            try:
                await self._versions.publish(
                    snapshot.with_catalogs({locale: text}),
                    base=self._content_version,
                    author=by,
                    note=note,
                    kind="translation",
                )
                return
            except StaleVersion:
                continue  # an editor published in between: rebuild on theirs
        log.warning("translation of %s not published: the content version kept changing", locale)

    async def console_strings(self, language: str) -> dict[str, str]:
        """The console's strings in `language` that the workspace serves over the catalog: edits that
        stand and may be shown (reviewed, or unreviewed where the language serves those)."""
        ws = await self.workspace()
        found: dict[str, str] = {}
        for unit in ws.in_domain("console"):
            edit = ws.edit(language, "console", unit.key)
            stands = edit is not None and ws.translation(language, "console", unit.key) is edit
            # Markup is checked on save; an edit stored before that check existed is held back here.
            if edit is not None and stands and ws.served(language, unit) and same_markup(unit.key, edit.text):
                found[unit.key] = edit.text
        return found

    async def listen(self, wake: Callable[[], Awaitable[None] | None], stop: asyncio.Event) -> None:
        """Call `wake` on every change of the workspace, from any console process."""
        await self._store.listen(wake, stop)

    async def glossary(self, locale: str) -> Glossary:
        locale = normalize(locale)
        return glossary_of(locale, await self._store.glossary(locale))

    def _ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    async def save(self, locale: str, domain: str, key: str, text: str, by: str, seen: str) -> Translation:
        """Save a translation (checked; Refused with findings). `seen` is the digest of the entry the
        translator read: a colleague's save in between is refused rather than overwritten."""
        locale = normalize(locale)
        ws = await self.workspace()
        before = ws.translation(locale, domain, key)
        if seen != digest(before):
            raise Refused("conflict")
        tr, _ = ws.translate(locale, domain, key, text, by, self._ms(), await self.glossary(locale))
        await self._audit.append(by, f"translation.saved.{locale}.{domain}.{_short(key)}")
        await self._store.save(
            locale, domain, key, translation_record(tr), _record(ws.edit(locale, domain, key))
        )
        log.info("translation saved: %s %s %s by %s", locale, domain, key, by)
        if domain == "content":
            await self._publish(locale, by, f"translation {locale}: {key}")
        return tr

    async def review(self, locale: str, domain: str, key: str, by: str) -> Translation:
        locale = normalize(locale)
        ws = await self.workspace()
        tr = ws.review(locale, domain, key, by, self._ms())
        await self._audit.append(by, f"translation.reviewed.{locale}.{domain}.{_short(key)}")
        await self._store.save(
            locale, domain, key, translation_record(tr), _record(ws.edit(locale, domain, key))
        )
        if domain == "content":
            await self._publish(locale, by, f"review {locale}: {key}")
        return tr

    async def export(self, locale: str, domain: Domain) -> bytes:
        return export_po(await self.workspace(), locale, domain, self._clock.now())

    async def plan(self, locale: str, domain: Domain, data: bytes) -> ImportPlan:
        return plan_import(await self.workspace(), locale, domain, data, await self.glossary(locale))

    async def apply(
        self,
        locale: str,
        domain: Domain,
        data: bytes,
        by: str,
        expected: str,
        choices: Mapping[int, tuple[str, str]] | None = None,
    ) -> ImportPlan:
        """Apply an import exactly as previewed: `expected` is the preview's digest; anything else refuses.
        `choices`: for each conflict (by its index among the changes) what the translator picked:
        ("workspace", _) keeps the workspace's edit, ("file", _) takes the file's, ("edit", text) a new
        text (checked). A conflict without a choice refuses the whole import ("choose")."""
        locale = normalize(locale)
        plan = await self.plan(locale, domain, data)
        if plan_digest(plan) != expected:
            raise Refused("conflict")
        ws = await self.workspace()
        glossary = await self.glossary(locale)
        entries: dict[Key, Translation] = {}
        decided: list[str] = []
        for index, change in enumerate(plan.changes):
            text = change.after
            if change.conflict:
                choice, typed = (choices or {}).get(index, ("", ""))
                if choice not in CHOICES:
                    raise Refused("choose")
                decided.append(f"translation.import_conflict.{locale}.{domain}.{_short(change.key)}.{choice}")
                if choice == "workspace":
                    continue
                text = typed if choice == "edit" else change.after
            tr, _ = ws.translate(locale, change.domain, change.key, text, by, self._ms(), glossary)
            entries[(change.domain, change.key)] = tr
        for action in decided:
            await self._audit.append(by, action)
        if entries:
            await self._audit.append(by, f"translation.imported.{locale}.{domain}.{len(entries)}")
            await self._store.save_many(locale, {k: translation_record(t) for k, t in entries.items()})
            if domain == "content":
                await self._publish(locale, by, f"import {locale}: {len(entries)}")
        return plan

    async def set_term(self, locale: str, term: Term, by: str) -> None:
        locale = normalize(locale)
        await self._audit.append(by, f"glossary.set.{locale}")
        await self._store.set_term(locale, term.source, term.target, term.note)

    async def delete_term(self, locale: str, source: str, by: str) -> None:
        locale = normalize(locale)
        await self._audit.append(by, f"glossary.deleted.{locale}")
        await self._store.delete_term(locale, source)

    async def start_language(self, code: str, by: str) -> str:
        """A translator starts a new locale; it stays out of the widget until safe-complete and switched on."""
        locale = normalize(code.strip())
        try:
            Locale.parse(locale)
        except (UnknownLocaleError, ValueError):
            raise Refused("bad_locale") from None
        ws = await self.workspace()
        if locale in ws.locales or locale == SOURCE_LOCALE:
            raise Refused("exists")
        await self._audit.append(by, f"language.started.{locale}")
        await self._store.set_settings(locale, settings_record(LanguageSettings(started_by=by)))
        return locale

    async def set_serving(self, locale: str, serve_unreviewed: bool, by: str) -> None:
        locale = normalize(locale)
        settings = (await self.workspace()).settings.get(locale, LanguageSettings())
        await self._audit.append(
            by, f"language.serve_unreviewed.{locale}.{'on' if serve_unreviewed else 'off'}"
        )
        await self._store.set_settings(
            locale, settings_record(replace(settings, serve_unreviewed=serve_unreviewed))
        )
        await self._publish(locale, by, f"serving {locale}")

    async def switch(self, locale: str, on: bool, by: str) -> None:
        """A supervisor lets the widget offer the language (it still must be safe-complete) or stops it."""
        locale = normalize(locale)
        ws = await self.workspace()
        if on and not ws.status(locale).safe_complete:
            raise Refused("not_safe_complete")
        await self._audit.append(by, f"language.switched_{'on' if on else 'off'}.{locale}")
        settings = ws.settings.get(locale, LanguageSettings())
        await self._store.set_settings(locale, settings_record(replace(settings, switched_on=on)))


def _record(tr: Translation | None) -> dict[str, Any] | None:
    return translation_record(tr) if tr is not None else None


def digest(tr: Translation | None) -> str:
    """A short fingerprint of an entry as a page showed it (for the compare on save)."""
    if tr is None:
        return "none"
    raw = "\x1f".join((tr.text, tr.made_from or "", tr.translated_by, tr.reviewed_by, str(tr.at_ms)))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


CHOICES = ("workspace", "file", "edit")
"""What a translator may pick for an import's conflict (docs/translation.md)."""


def plan_digest(plan: ImportPlan) -> str:
    """The preview's fingerprint: a workspace edit in between (a new conflict) changes it too."""
    raw = "\x1e".join(
        f"{c.domain}\x1f{c.key}\x1f{c.after}\x1f{c.theirs.text if c.theirs else ''}" for c in plan.changes
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _short(key: str) -> str:
    """A key for the audit line: answer contexts as they are, a console msgid by its digest (no prose)."""
    return key if len(key) <= 60 and " " not in key else hashlib.sha256(key.encode()).hexdigest()[:12]
