"""The workspace's values as the plain records the store keeps (the store knows no domain type)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatbot.translation.glossary import Glossary, Term
from chatbot.translation.units import Translation
from chatbot.translation.workspace import Key, LanguageSettings


def translation_record(tr: Translation) -> dict[str, Any]:
    return {
        "text": tr.text,
        "from": tr.made_from,
        "by": tr.translated_by,
        "reviewed_by": tr.reviewed_by,
        "at": tr.at_ms,
        "base": tr.base,
    }


def translation_of(data: Mapping[str, Any]) -> Translation:
    return Translation(
        str(data["text"]),
        data.get("from"),
        str(data.get("by", "")),
        str(data.get("reviewed_by", "")),
        int(data.get("at", 0)),
        data.get("base"),
    )


def edits_of(raw: Mapping[str, Mapping[Key, Mapping[str, Any]]]) -> dict[str, dict[Key, Translation]]:
    return {locale: {key: translation_of(r) for key, r in found.items()} for locale, found in raw.items()}


def settings_record(settings: LanguageSettings) -> dict[str, Any]:
    return {
        "serve_unreviewed": settings.serve_unreviewed,
        "switched_on": settings.switched_on,
        "started_by": settings.started_by,
    }


def settings_of(data: Mapping[str, Any]) -> LanguageSettings:
    return LanguageSettings(
        bool(data.get("serve_unreviewed", True)),
        bool(data.get("switched_on", False)),
        str(data.get("started_by", "")),
    )


def glossary_of(locale: str, raw: Mapping[str, Mapping[str, Any]]) -> Glossary:
    terms = [Term(source, str(r["target"]), str(r.get("note", ""))) for source, r in raw.items()]
    return Glossary.with_kept_names(locale, terms)
