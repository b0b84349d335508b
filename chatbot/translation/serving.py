"""What the gateway serves from the translators' workspace: the widget's strings and the offered languages.

The repository's `widget.po` files are the base, the workspace's edits (Redis) stand on top by the
workspace's own rule (`Workspace.translation`, `Workspace.served`), so a child reads exactly what the
dashboard calls served. The offered languages are `OFFERED_LOCALES` plus the languages a supervisor
switched on, safe-complete only (`Workspace.offered_locales`; checked by `offer_safe` on the answers the
gateway serves and these widget strings).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from babel import Locale, UnknownLocaleError

from chatbot.content.catalogs import normalize
from chatbot.content.library import ContentLibrary
from chatbot.content.widget_catalogs import SOURCE_LOCALE, WidgetCatalog, WidgetCatalogs, offer_safe
from chatbot.translation.units import State, Translation, Unit
from chatbot.translation.workspace import Key, LanguageSettings, Workspace

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def widget_catalogs(
    units: Collection[Unit],
    files: Mapping[str, Mapping[Key, Translation]],
    edits: Mapping[str, Mapping[Key, Translation]],
    settings: Mapping[str, LanguageSettings],
    default_locale: str,
) -> WidgetCatalogs:
    """Every language's widget catalog: the repository's entries with the workspace's edits on top.

    `units` are the widget's source strings (`sv/widget.po`), `files` each language's catalog entries,
    `edits` the workspace's. A string not served (missing, stale, held back unreviewed, other
    placeholders) is shown in Swedish, as with the files alone."""
    widget = [u for u in units if u.domain == "widget"]
    only_widget = {
        locale: {k: tr for k, tr in entries.items() if k[0] == "widget"} for locale, entries in edits.items()
    }
    from_files = {
        locale: {k: tr for k, tr in entries.items() if k[0] == "widget"} for locale, entries in files.items()
    }
    ws = Workspace(ContentLibrary(()), widget, from_files, only_widget, settings)
    source = {u.key: u.source for u in widget}
    catalogs = {SOURCE_LOCALE: WidgetCatalog(SOURCE_LOCALE, "ltr", source, ())}
    for locale in ws.locales:
        if locale == SOURCE_LOCALE or not (from_files.get(locale) or only_widget.get(locale)):
            continue
        try:
            direction = Locale.parse(locale).text_direction
        except (UnknownLocaleError, ValueError):
            continue  # the desk refuses such a code; a file with one stops the start (WidgetCatalogs.load)
        messages: dict[str, str] = {}
        fallbacks: list[str] = []
        unreviewed: list[str] = []
        for unit in widget:
            tr = ws.translation(locale, "widget", unit.key)
            if tr is None or not ws.served(locale, unit) or not _same_placeholders(unit.source, tr.text):
                messages[unit.key] = unit.source
                fallbacks.append(unit.key)
                continue
            messages[unit.key] = tr.text
            if ws.state(locale, unit) is State.UNREVIEWED:
                unreviewed.append(unit.key)
        catalogs[locale] = WidgetCatalog(locale, direction, messages, tuple(fallbacks), tuple(unreviewed))
    if default_locale not in catalogs:
        default_locale = SOURCE_LOCALE
    return WidgetCatalogs(catalogs, default_locale)


def offered(deployment: Collection[str], settings: Mapping[str, LanguageSettings]) -> tuple[str, ...]:
    """The languages wanted in the menu: the deployment's `OFFERED_LOCALES` and every switched-on one."""
    wanted = {normalize(c) for c in deployment} | {normalize(c) for c, s in settings.items() if s.switched_on}
    return tuple(sorted(wanted))


def serving(
    content: ContentLibrary,
    catalogs: WidgetCatalogs,
    deployment: Collection[str],
    settings: Mapping[str, LanguageSettings],
) -> WidgetCatalogs:
    """The catalogs offering what the menu may show now: wanted and safe-complete on what is served."""
    return offer_safe(content, catalogs, offered(deployment, settings))


def _same_placeholders(source: str, text: str) -> bool:
    return set(_PLACEHOLDER.findall(source)) == set(_PLACEHOLDER.findall(text))
