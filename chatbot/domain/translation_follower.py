"""Keeps a gateway's widget strings and language menu on the translators' workspace, live (docs/translation.md).

As `ContentFollower` does for answers: a wake-up on every change the workspace announces
(`sc:notify:translations`), and a check of its version counter every few seconds for a missed one (or a
new content version, which can make a language safe-complete or not). What it rebuilds is adopted in one
synchronous step, so a request sees the old strings and menu or the new ones, never a mix.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterator, Mapping

from chatbot.content.widget_catalogs import WidgetCatalogs
from chatbot.domain.content_versions import CHECK_INTERVAL, LiveLibrary, follow
from chatbot.store.translations import TranslationStore
from chatbot.translation.records import edits_of, settings_of
from chatbot.translation.serving import serving, widget_catalogs
from chatbot.translation.units import Translation, Unit
from chatbot.translation.workspace import Key

log = logging.getLogger(__name__)


class LiveWidgetCatalogs(WidgetCatalogs):
    """WidgetCatalogs replaced in place when the workspace changes: the chat page, the catalog view and
    the socket namespace all hold this one object, so all of them serve the new strings and menu at once."""

    @classmethod
    def serving(cls, catalogs: WidgetCatalogs) -> LiveWidgetCatalogs:
        live = cls.__new__(cls)
        live.adopt(catalogs)
        return live

    def adopt(self, catalogs: WidgetCatalogs) -> None:
        vars(self).update(vars(catalogs))


class OfferedLocales(Collection[str]):
    """The languages offered now, as a collection the namespace and the bot ask `in` of."""

    def __init__(self, catalogs: WidgetCatalogs) -> None:
        self._catalogs = catalogs

    def __contains__(self, locale: object) -> bool:
        return locale in self._catalogs.available

    def __iter__(self) -> Iterator[str]:
        return iter(self._catalogs.available)

    def __len__(self) -> int:
        return len(self._catalogs.available)


class TranslationFollower:
    """Rebuilds the widget's catalogs and the offered languages whenever the workspace or the served
    content changes: the repository's `widget.po` files (read once) with the workspace's edits on top."""

    def __init__(
        self,
        store: TranslationStore,
        content: LiveLibrary,
        live: LiveWidgetCatalogs,
        units: Collection[Unit],
        files: Mapping[str, Mapping[Key, Translation]],
        deployment: Collection[str],
        default_locale: str,
        interval: float = CHECK_INTERVAL,
    ) -> None:
        self._store = store
        self._content = content
        self._live = live
        self._units = tuple(units)
        self._files = files
        self._deployment = tuple(deployment)
        self._default = default_locale
        self._interval = interval
        self._seen: tuple[int, int | None] | None = None
        self._wake = asyncio.Event()

    @property
    def live(self) -> LiveWidgetCatalogs:
        return self._live

    async def check(self) -> bool:
        """Adopt the workspace's current state if it is not the one served; True if it was rebuilt."""
        seen = (await self._store.version(), self._content.version)
        if seen == self._seen:
            return False
        edits = edits_of(await self._store.edits())
        settings = {code: settings_of(r) for code, r in (await self._store.settings()).items()}
        catalogs = widget_catalogs(self._units, self._files, edits, settings, self._default)
        before = self._live.available
        self._live.adopt(serving(self._content, catalogs, self._deployment, settings))
        self._seen = seen
        if self._live.available != before:
            log.info("languages offered now: %s", ", ".join(self._live.available))
        return True

    async def run(self) -> None:
        await follow(self._store.listen, self.check, self._wake, self._interval, "translation")
