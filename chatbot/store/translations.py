"""The translators' workspace in Redis: translations, review marks, glossaries, language settings.

Every change raises one version counter and announces it, in the same script, so every process (console
and gateways) knows to reread; a save is a compare-and-set on what the translator saw, so two
translators on one string cannot overwrite each other unseen. Values are plain records (JSON objects);
`chatbot.translation.records` turns them into the workspace's types.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from redis.asyncio import Redis

from chatbot.store import keys
from chatbot.store.content_versions import listen

_SEP = "\x1f"
Record = Mapping[str, Any]

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


def _dump(record: Record) -> str:
    return json.dumps(dict(record), ensure_ascii=False, sort_keys=True)


class TranslationStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._save = redis.register_script(_SAVE)
        self._save_many = redis.register_script(_SAVE_MANY)
        self._delete = redis.register_script(_DELETE)

    async def listen(self, wake: Callable[[], Awaitable[None] | None], stop: asyncio.Event) -> None:
        """Call `wake` on every announced change until `stop` is set (gateways follow the workspace)."""
        await listen(self._redis, keys.NOTIFY_TRANSLATIONS, wake, stop)

    async def version(self) -> int:
        raw = await self._redis.get(keys.TRANSLATIONS_VERSION)
        return int(raw) if raw else 0

    async def edits(self) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
        """Every workspace translation: locale -> (domain, key) -> record."""
        raw = await self._redis.hgetall(keys.TRANSLATIONS)  # type: ignore[misc]
        found: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        for field, value in raw.items():
            locale, domain, key = _text(field).split(_SEP, 2)
            found.setdefault(locale, {})[(domain, key)] = json.loads(_text(value))
        return found

    async def save(self, locale: str, domain: str, key: str, record: Record, expected: Record | None) -> int:
        """Store `record` if the entry is still `expected` (None: there was none); the new version."""
        args = [_field(locale, domain, key), _dump(expected) if expected else "", _dump(record)]
        version = await self._save(
            keys=[keys.TRANSLATIONS, keys.TRANSLATIONS_VERSION], args=[*args, keys.NOTIFY_TRANSLATIONS]
        )
        if version is None:
            raise Conflict(key)
        return int(version)

    async def save_many(self, locale: str, records: Mapping[tuple[str, str], Record]) -> int:
        """An import's changes in one step (they were checked and previewed together)."""
        args: list[str] = [keys.NOTIFY_TRANSLATIONS]
        for (domain, key), record in records.items():
            args += [_field(locale, domain, key), _dump(record)]
        return int(await self._save_many(keys=[keys.TRANSLATIONS, keys.TRANSLATIONS_VERSION], args=args))

    async def settings(self) -> dict[str, dict[str, Any]]:
        raw = await self._redis.hgetall(keys.TRANSLATION_SETTINGS)  # type: ignore[misc]
        return {_text(locale): json.loads(_text(value)) for locale, value in raw.items()}

    async def set_settings(self, locale: str, record: Record) -> int:
        return int(
            await self._save_many(
                keys=[keys.TRANSLATION_SETTINGS, keys.TRANSLATIONS_VERSION],
                args=[keys.NOTIFY_TRANSLATIONS, locale, _dump(record)],
            )
        )

    async def glossary(self, locale: str) -> dict[str, dict[str, Any]]:
        """Swedish term -> {target, note}."""
        raw = await self._redis.hgetall(keys.glossary(locale))  # type: ignore[misc]
        return {_text(source): json.loads(_text(value)) for source, value in raw.items()}

    async def set_term(self, locale: str, source: str, target: str, note: str) -> int:
        return int(
            await self._save_many(
                keys=[keys.glossary(locale), keys.TRANSLATIONS_VERSION],
                args=[keys.NOTIFY_TRANSLATIONS, source, _dump({"target": target, "note": note})],
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
