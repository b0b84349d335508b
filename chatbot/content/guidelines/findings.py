"""What a guideline check finds (a warning or a violation, with its reason), and how it quotes the text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from chatbot.content.catalogs import SOURCE_LOCALE


class Level(StrEnum):
    WARNING = "warning"
    VIOLATION = "violation"


@dataclass(frozen=True)
class Finding:
    level: Level
    rule: str
    message: str
    locale: str = SOURCE_LOCALE


def quote(text: str, width: int = 50) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def braced(names: Iterable[str]) -> str:
    return ", ".join("{" + n + "}" for n in sorted(names))
