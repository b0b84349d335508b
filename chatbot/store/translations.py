"""The translators' workspace in Redis: translations, review marks, glossaries, language settings.

Every change raises one version counter and announces it, in the same script, so every process (console
and gateways) knows to reread; a save is a compare-and-set on what the translator saw, so two
translators on one string cannot overwrite each other unseen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

from chatbot.store import keys
from chatbot.translation.glossary import Glossary, Term
from chatbot.translation.units import Translation
from chatbot.translation.workspace import Key, LanguageSettings

_SEP = "\x1f"

# KEYS: hash, version ; ARGV: field, expected ('' for none), new value, channel
_SAVE = """
local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if current ~= ARGV[2] then return false end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[4], version)
return version
"""

# KEYS: hash, version ; ARGV: channel, field, value, field, value, ...
_SAVE_MANY = """
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], version)
return version
"""

# KEYS: hash, version ; ARGV: channel, field
_DELETE = """
redis.call('HDEL', KEYS[1], ARGV[2])
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], version)
return version
"""


class Conflict(Exception):
    """Someone else changed the entry since it was read."""


def encode(tr: Translation) -> str:
    return json.dumps(
        {
            "text": tr.text,
            "from": tr.made_from,
            "by": tr.translated_by,
            "reviewed_by": tr.reviewed_by,
            "at": tr.at_ms,
            "base": tr.base,
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def decode(raw: str) -> Translation:
    data: dict[str, Any] = json.loads(raw)
    return Translation(
        str(data["text"]),
        data.get("from"),
        str(data.get("by", "")),
        str(data.get("reviewed_by", "")),
        int(data.get("at", 0)),
        data.get("base"),
    )


class TranslationStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._save = redis.register_script(_SAVE)
        self._save_many = redis.register_script(_SAVE_MANY)
        self._delete = redis.register_script(_DELETE)

    async def version(self) -> int:
        raw = await self._redis.get(keys.TRANSLATIONS_VERSION)
        return int(raw) if raw else 0

    async def edits(self) -> dict[str, dict[Key, Translation]]:
        raw = await self._redis.hgetall(keys.TRANSLATIONS)  # type: ignore[misc]
        found: dict[str, dict[Key, Translation]] = {}
        for field, value in raw.items():
            locale, domain, key = _text(field).split(_SEP, 2)
            found.setdefault(locale, {})[(domain, key)] = decode(_text(value))
        return found

    async def save(
        self, locale: str, domain: str, key: str, tr: Translation, expected: Translation | None
    ) -> int:
        """Store `tr` if the workspace's entry is still `expected` (None: there was none); the new version."""
        args = [_field(locale, domain, key), encode(expected) if expected else "", encode(tr)]
        version = await self._save(
            keys=[keys.TRANSLATIONS, keys.TRANSLATIONS_VERSION], args=[*args, keys.NOTIFY_TRANSLATIONS]
        )
        if version is None:
            raise Conflict(key)
        return int(version)

    async def save_many(self, locale: str, entries: Mapping[Key, Translation]) -> int:
        """An import's changes in one step (they were checked and previewed together)."""
        args: list[str] = [keys.NOTIFY_TRANSLATIONS]
        for (domain, key), tr in entries.items():
            args += [_field(locale, domain, key), encode(tr)]
        return int(await self._save_many(keys=[keys.TRANSLATIONS, keys.TRANSLATIONS_VERSION], args=args))

    async def settings(self) -> dict[str, LanguageSettings]:
        raw = await self._redis.hgetall(keys.TRANSLATION_SETTINGS)  # type: ignore[misc]
        found = {}
        for locale, value in raw.items():
            data = json.loads(_text(value))
            found[_text(locale)] = LanguageSettings(
                bool(data.get("serve_unreviewed", True)),
                bool(data.get("switched_on", False)),
                str(data.get("started_by", "")),
            )
        return found

    async def set_settings(self, locale: str, settings: LanguageSettings) -> int:
        value = json.dumps(
            {
                "serve_unreviewed": settings.serve_unreviewed,
                "switched_on": settings.switched_on,
                "started_by": settings.started_by,
            }
        )
        return int(
            await self._save_many(
                keys=[keys.TRANSLATION_SETTINGS, keys.TRANSLATIONS_VERSION],
                args=[keys.NOTIFY_TRANSLATIONS, locale, value],
            )
        )

    async def glossary(self, locale: str) -> Glossary:
        raw = await self._redis.hgetall(keys.glossary(locale))  # type: ignore[misc]
        terms = []
        for source, value in raw.items():
            data = json.loads(_text(value))
            terms.append(Term(_text(source), str(data["target"]), str(data.get("note", ""))))
        return Glossary.with_kept_names(locale, terms)

    async def set_term(self, locale: str, term: Term) -> int:
        value = json.dumps({"target": term.target, "note": term.note}, ensure_ascii=False)
        return int(
            await self._save_many(
                keys=[keys.glossary(locale), keys.TRANSLATIONS_VERSION],
                args=[keys.NOTIFY_TRANSLATIONS, term.source, value],
            )
        )

    async def delete_term(self, locale: str, source: str) -> int:
        return int(
            await self._delete(
                keys=[keys.glossary(locale), keys.TRANSLATIONS_VERSION],
                args=[keys.NOTIFY_TRANSLATIONS, source],
            )
        )


def _field(locale: str, domain: str, key: str) -> str:
    return _SEP.join((locale, domain, key))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
