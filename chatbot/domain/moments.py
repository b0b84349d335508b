"""Dates and times as children read them: explicit patterns per language from `locales/dates.yml`.

Library locale data (CLDR through Babel) changes between releases ("Nov 30" became "November 30" in Babel
2.19), so nothing a child reads comes from it: names, order, punctuation and digits are ours, tested.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

STOCKHOLM = ZoneInfo("Europe/Stockholm")
DATES_FILE = Path(__file__).resolve().parents[2] / "locales" / "dates.yml"
FALLBACK_LOCALE = "sv"
_FIELDS = ("moment", "date", "time")


class DateFormatError(ValueError):
    """`locales/dates.yml` is malformed; the message names the language and the field."""


@dataclass(frozen=True)
class DateFormat:
    """One language's names and patterns."""

    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    moment: str
    date: str
    time: str

    def render(self, pattern: str, local: datetime) -> str:
        return pattern.format(
            weekday=self.weekdays[local.weekday()],
            day=local.day,
            month=self.months[local.month - 1],
            hour=f"{local.hour:02d}",
            minute=f"{local.minute:02d}",
        )


@dataclass(frozen=True)
class DateFormats:
    by_locale: Mapping[str, DateFormat]

    @classmethod
    def load(cls, path: Path = DATES_FILE) -> DateFormats:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise DateFormatError(f"{path}: expected a mapping of languages")
        if FALLBACK_LOCALE not in raw:
            raise DateFormatError(f"{path}: the source language {FALLBACK_LOCALE!r} must have formats")
        return cls({str(lang): _parse(str(lang), entry) for lang, entry in raw.items()})

    def get(self, locale: str) -> DateFormat:
        lang = locale.replace("_", "-").split("-")[0].lower()
        return self.by_locale.get(lang) or self.by_locale[FALLBACK_LOCALE]

    def moment(self, moment: datetime, locale: str) -> str:
        """Weekday, date and time, e.g. 'mån 7 december 09:00' or 'Mon 7 December, 09:00'."""
        fmt = self.get(locale)
        return fmt.render(fmt.moment, _local(moment))

    def day(self, moment: datetime, locale: str) -> str:
        """A date, e.g. '7 december'."""
        fmt = self.get(locale)
        return fmt.render(fmt.date, _local(moment))

    def clock(self, moment: datetime, locale: str) -> str:
        """A time of day, e.g. '16:00'."""
        fmt = self.get(locale)
        return fmt.render(fmt.time, _local(moment))


@lru_cache(maxsize=1)
def default_formats() -> DateFormats:
    return DateFormats.load()


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a moment children read needs an aware datetime")
    return moment.astimezone(STOCKHOLM)


def _parse(lang: str, entry: object) -> DateFormat:
    if not isinstance(entry, dict):
        raise DateFormatError(f"dates.yml: {lang}: expected weekdays, months, {', '.join(_FIELDS)}")
    weekdays, months = entry.get("weekdays"), entry.get("months")
    if not isinstance(weekdays, list) or len(weekdays) != 7:
        raise DateFormatError(f"dates.yml: {lang}: weekdays must list 7 names, Monday first")
    if not isinstance(months, list) or len(months) != 12:
        raise DateFormatError(f"dates.yml: {lang}: months must list 12 names, January first")
    patterns: dict[str, str] = {}
    for name in _FIELDS:
        pattern = entry.get(name)
        if not isinstance(pattern, str) or not pattern.strip():
            raise DateFormatError(f"dates.yml: {lang}: {name} must be a pattern")
        patterns[name] = pattern
    fmt = DateFormat(tuple(map(str, weekdays)), tuple(map(str, months)), **patterns)
    try:
        fmt.render(fmt.moment + fmt.date + fmt.time, datetime(2026, 1, 1, tzinfo=STOCKHOLM))
    except (KeyError, IndexError, ValueError) as error:
        raise DateFormatError(f"dates.yml: {lang}: unknown placeholder {error}") from None
    return fmt
