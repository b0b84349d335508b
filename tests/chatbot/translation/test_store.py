"""The workspace in a real Redis: compare-and-set saves, announced versions, settings, glossary, no TTL by design."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from chatbot.store import keys
from chatbot.store.translations import Conflict, TranslationStore
from chatbot.translation.glossary import Term
from chatbot.translation.records import (
    edits_of,
    glossary_of,
    settings_of,
    settings_record,
    translation_record,
)
from chatbot.translation.units import Translation
from chatbot.translation.workspace import LanguageSettings

# Every test here runs on one Redis and on a Redis Cluster of three primaries (tests/cluster.py).
pytestmark = pytest.mark.cluster

KEY = ("content", "thanks:bubble:0")


async def test_a_save_is_announced_and_a_stale_save_is_refused(redis: Redis) -> None:
    store = TranslationStore(redis)
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.NOTIFY_TRANSLATIONS)
    await pubsub.get_message(timeout=1)
    first = Translation("Thanks!", "Tack!", "tina", "", 1, base="You're welcome!")
    assert await store.save("en", *KEY, translation_record(first), None) == 1
    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
    assert message is not None and message["data"] in (b"1", "1")
    assert edits_of(await store.edits()) == {"en": {KEY: first}}
    # A second translator who read the entry before the first saved cannot overwrite it unseen.
    with pytest.raises(Conflict):
        await store.save(
            "en", *KEY, translation_record(Translation("Thank you!", "Tack!", "rami", "", 2)), None
        )
    reviewed = Translation("Thanks!", "Tack!", "tina", "rami", 3, base="You're welcome!")
    assert await store.save("en", *KEY, translation_record(reviewed), translation_record(first)) == 2
    assert edits_of(await store.edits())["en"][KEY].reviewed_by == "rami"
    assert await store.version() == 2
    await pubsub.aclose()


async def test_settings_glossary_and_imports(redis: Redis) -> None:
    store = TranslationStore(redis)
    await store.set_settings(
        "fa", settings_record(LanguageSettings(serve_unreviewed=False, started_by="tina"))
    )
    assert {k: settings_of(r) for k, r in (await store.settings()).items()} == {
        "fa": LanguageSettings(False, False, "tina")
    }
    await store.set_term("ar", "kurator", "مستشار", "the counsellor in the chat")
    glossary = glossary_of("ar", await store.glossary("ar"))
    assert Term("kurator", "مستشار", "the counsellor in the chat") in glossary.terms
    assert any(t.source == "Stödlinjen" and t.kept for t in glossary.terms)
    await store.delete_term("ar", "kurator")
    assert await store.glossary("ar") == {}
    many = {("widget", "app.title"): Translation("Support chat", "Stödchatten", "tina", "", 4)}
    await store.save_many("en", {k: translation_record(t) for k, t in many.items()})
    assert edits_of(await store.edits())["en"] == many
    assert await store.version() == 4


async def test_the_workspace_keys_are_kept_deliberately(redis: Redis) -> None:
    """Content, like the answers: no TTL (chatbot/store/keys.py says so), and nothing about a child."""
    store = TranslationStore(redis)
    await store.save("en", *KEY, translation_record(Translation("Thanks!", "Tack!", "tina", "", 1)), None)
    await store.set_settings("en", settings_record(LanguageSettings()))
    await store.set_term("en", "kurator", "counsellor", "")
    for key in (keys.TRANSLATIONS, keys.TRANSLATION_SETTINGS, keys.TRANSLATIONS_VERSION, keys.glossary("en")):
        assert await redis.ttl(key) == -1
