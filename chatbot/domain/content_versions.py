"""Published content versions: what every process serves, as immutable numbered snapshots (docs/content.md).

A **snapshot** is the answers (each answer's YAML text, by id) and the translation catalogs (each locale's
`content.po` text): exactly what `content/answers/` and `locales/*/LC_MESSAGES/content.po` hold, so the
repository's files are the first version (the seed) and `content export` writes a version back as files.

A **version** is a snapshot with a number, an author, its reviewers, a time, a note and the version it was
based on. Versions are never changed; publishing makes a new one current, and a rollback publishes an old
snapshot again under a new number. The store (chatbot/store/content_versions.py) refuses a publish whose
base is no longer current, so two editors never overwrite each other silently.

Every gateway and console process serves the current version through a `LiveLibrary`, which a
`ContentFollower` keeps current: a wake-up on publish, and a check every few seconds for a missed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chatbot.clock import Clock
from chatbot.content.catalogs import DOMAIN, SOURCE_LOCALE, ContentCatalogs, normalize
from chatbot.content.library import ContentError, ContentLibrary, parse_answer
from chatbot.store.content_versions import ContentVersionStore

log = logging.getLogger(__name__)

SEED_AUTHOR = "repository"
"""The author of the seed version, made from the repository's files at the first start."""

CHECK_INTERVAL = 2.0
"""Seconds between a process's checks of the current number (the wake-up makes it faster)."""


class StaleVersion(Exception):
    """The version a change was based on is no longer the published one."""

    def __init__(self, base: int | None, current: int) -> None:
        super().__init__(
            f"version {current} was published after this change was started from version {base}; "
            "open the answer again to see the published text, then redo the change"
        )
        self.base = base
        self.current = current


def answer_path(answer_id: str) -> Path:
    return Path("content") / "answers" / f"{answer_id}.yml"


@dataclass(frozen=True)
class Snapshot:
    answers: Mapping[str, str]
    """Answer id → the answer's YAML text."""
    catalogs: Mapping[str, str] = field(default_factory=dict)
    """Locale → its content.po text."""

    @classmethod
    def from_repository(cls, content_dir: Path, locales_dir: Path | None) -> Snapshot:
        answers: dict[str, str] = {}
        for path in sorted((content_dir / "answers").glob("*.yml")):
            text = path.read_text(encoding="utf-8")
            answers[parse_answer(text, path).id] = text
        catalogs: dict[str, str] = {}
        if locales_dir is not None:
            for po in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
                catalogs[normalize(po.parent.parent.name)] = po.read_text(encoding="utf-8")
        return cls(answers, catalogs)

    def with_answers(self, changed: Mapping[str, str | None]) -> Snapshot:
        """This snapshot with answers replaced (None removes one)."""
        answers = dict(self.answers)
        for answer_id, text in changed.items():
            if text is None:
                answers.pop(answer_id, None)
            else:
                answers[answer_id] = text
        return Snapshot(dict(sorted(answers.items())), self.catalogs)

    def with_catalogs(self, changed: Mapping[str, str]) -> Snapshot:
        """This snapshot with translation catalogs replaced (the translators' workspace publishes so)."""
        return Snapshot(self.answers, {**self.catalogs, **{normalize(k): v for k, v in changed.items()}})

    def library(self, fallback_locale: str = SOURCE_LOCALE, version: int | None = None) -> ContentLibrary:
        """The answers as a library, each stamped with `version`; ContentError names a malformed answer."""
        answers = []
        for answer_id, text in self.answers.items():
            answer = parse_answer(text, answer_path(answer_id))
            if answer.id != answer_id:
                raise ContentError(f"{answer_path(answer_id)}: 'id' is {answer.id!r}, expected {answer_id!r}")
            answers.append(replace(answer, version=version))
        return ContentLibrary(answers, ContentCatalogs.from_texts(self.catalogs, fallback_locale))

    def to_json(self) -> str:
        return json.dumps(
            {"answers": dict(self.answers), "catalogs": dict(self.catalogs)},
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str) -> Snapshot:
        data = json.loads(raw)
        return cls(dict(data["answers"]), dict(data.get("catalogs", {})))


@dataclass(frozen=True)
class Version:
    number: int
    author: str
    at: datetime
    reviewers: tuple[str, ...] = ()
    note: str = ""
    base: int | None = None
    """The version it replaced as current (None for the seed)."""
    kind: str = "publish"
    """seed | publish | rollback | translation (free text for other publishers)."""
    changed: tuple[str, ...] = ()
    """Answer ids (and 'catalog:<locale>') that differ from the base."""

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "number": self.number,
            "author": self.author,
            "at": int(self.at.timestamp() * 1000),
            "reviewers": list(self.reviewers),
            "note": self.note,
            "base": self.base,
            "kind": self.kind,
            "changed": list(self.changed),
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> Version:
        data = json.loads(raw)
        return cls(
            int(data["number"]),
            str(data["author"]),
            datetime.fromtimestamp(data["at"] / 1000, UTC),
            tuple(data.get("reviewers", ())),
            str(data.get("note", "")),
            data.get("base"),
            str(data.get("kind", "publish")),
            tuple(data.get("changed", ())),
        )


def changes(before: Snapshot | None, after: Snapshot) -> tuple[str, ...]:
    """Answer ids and 'catalog:<locale>' entries that differ between two snapshots."""
    if before is None:
        return ()
    ids = sorted(
        a for a in {*before.answers, *after.answers} if before.answers.get(a) != after.answers.get(a)
    )
    locales = sorted(
        f"catalog:{c}"
        for c in {*before.catalogs, *after.catalogs}
        if before.catalogs.get(c) != after.catalogs.get(c)
    )
    return (*ids, *locales)


class ContentVersions:
    """Publishing and reading versions. The API the editors' and translators' workspaces use:

    - `current()` → (Version, Snapshot) now published (None before the seed);
    - `publish(snapshot, base=, author=, reviewers=, note=, kind=)` → the new Version, or StaleVersion;
    - `version(n)`, `history()`: read what was published.
    """

    def __init__(self, store: ContentVersionStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._cache: dict[int, tuple[Version, Snapshot]] = {}

    async def current_number(self) -> int | None:
        return await self._store.current()

    async def current(self) -> tuple[Version, Snapshot] | None:
        number = await self._store.current()
        if number is None:
            return None
        return await self.version(number)

    async def version(self, number: int) -> tuple[Version, Snapshot]:
        cached = self._cache.get(number)
        if cached is not None:
            return cached
        meta, snap = await self._store.meta(number), await self._store.snapshot(number)
        if meta is None or snap is None:
            raise KeyError(f"content version {number} is not kept (older than the retention?)")
        found = Version.from_json(meta), Snapshot.from_json(snap)
        self._cache[number] = found
        return found

    async def history(self) -> list[Version]:
        found = []
        for number in await self._store.numbers():
            meta = await self._store.meta(number)
            if meta is not None:
                found.append(Version.from_json(meta))
        return found

    async def publish(
        self,
        snapshot: Snapshot,
        *,
        base: int | None,
        author: str,
        reviewers: tuple[str, ...] = (),
        note: str = "",
        kind: str = "publish",
        any_base: bool = False,
    ) -> Version:
        """Make `snapshot` the published version, if `base` is still current (StaleVersion otherwise).
        `any_base` publishes over whatever is current (a supervisor's rollback). The caller has run the
        guideline check; the snapshot must at least load (ContentError otherwise)."""
        snapshot.library()  # a snapshot that cannot be served is never published
        current = await self._store.current()
        before = (await self.version(current))[1] if current is not None else None
        if not any_base and current != base:
            raise StaleVersion(base, current or 0)
        number = await self._store.next_number()
        version = Version(
            number,
            author,
            self._clock.now(),
            tuple(reviewers),
            note,
            current,
            kind,
            changes(before, snapshot),
        )
        expected: int | str | None = "*" if any_base else current
        refused = await self._store.publish(number, snapshot.to_json(), version.to_json(), expected)
        if refused is not None:
            raise StaleVersion(base, refused)
        self._cache[number] = (version, snapshot)
        log.info("content version %d published (%s) by %s", number, kind, author)
        return version

    async def seed(self, snapshot: Snapshot) -> int:
        """At the first start, publish the repository's content as the first version; returns the current
        number (the seed's, or the one another process published first)."""
        current = await self._store.current()
        if current is not None:
            return current
        number = await self._store.next_number()
        version = Version(number, SEED_AUTHOR, self._clock.now(), kind="seed", note="content/ at first start")
        refused = await self._store.publish(number, snapshot.to_json(), version.to_json(), None)
        if refused is not None:
            return refused
        self._cache[number] = (version, snapshot)
        return number

    async def keep(self, number: int) -> None:
        await self._store.keep(number)


class LiveLibrary(ContentLibrary):
    """A ContentLibrary whose answers are replaced in place when a new version is adopted, so every
    service holding it (the dialogue, the endings, the console's desk) serves the new version at once."""

    version: int | None = None

    @classmethod
    def serving(cls, library: ContentLibrary) -> LiveLibrary:
        """Serves `library` (the repository's files, chatbot/content/loading.py) until the process adopts
        the published version at start."""
        live = cls(())
        live.adopt(library, None)
        return live

    def adopt(self, library: ContentLibrary, version: int | None) -> None:
        # One synchronous step (asyncio): a request sees either the old or the new version, never a mix.
        vars(self).update(vars(library))
        self.version = version


class ContentFollower:
    """Keeps a LiveLibrary on the published version: seeds at the first start, then follows."""

    def __init__(
        self,
        versions: ContentVersions,
        store: ContentVersionStore,
        live: LiveLibrary,
        fallback_locale: str = SOURCE_LOCALE,
        interval: float = CHECK_INTERVAL,
    ) -> None:
        self._versions = versions
        self._store = store
        self._live = live
        self._fallback = fallback_locale
        self._interval = interval
        self._wake = asyncio.Event()
        self._checks = 0

    @property
    def live(self) -> LiveLibrary:
        return self._live

    async def start(self, seed: Snapshot) -> None:
        """Seed (first start) or load the current version, before the process serves anyone."""
        number = await self._versions.seed(seed)
        await self._versions.keep(number)
        await self.check()

    async def check(self) -> bool:
        """Adopt the current version if it is not the one served; True if it changed."""
        number = await self._versions.current_number()
        self._checks += 1
        if number is not None and self._checks % 900 == 0:
            await self._versions.keep(number)
        if number is None or number == self._live.version:
            return False
        _version, snapshot = await self._versions.version(number)
        try:
            library = snapshot.library(self._fallback, number)
        except Exception:
            log.exception("content version %d cannot be loaded; still serving %s", number, self._live.version)
            return False
        self._live.adopt(library, number)
        log.info("now serving content version %d", number)
        return True

    async def run(self) -> None:
        await follow(self._store.listen, self.check, self._wake, self._interval, "content version")


async def follow(
    listen: Callable[[Callable[[], None], asyncio.Event], Coroutine[Any, Any, None]],
    check: Callable[[], Awaitable[bool]],
    wake: asyncio.Event,
    interval: float,
    what: str,
) -> None:
    """Check on every announcement `listen` hears, and every `interval` seconds in case one was missed
    (pub/sub drops what is sent while Redis is away), until cancelled; a failed check is retried."""
    stop = asyncio.Event()
    listener = asyncio.create_task(listen(wake.set, stop))
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), interval)
            wake.clear()
            try:
                await check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("%s check failed; retrying", what, exc_info=True)
    finally:
        stop.set()
        # The listener ends by itself within half a second; never wait for ever at shutdown.
        await asyncio.wait([listener], timeout=2.0)
        if not listener.done():
            listener.cancel()
