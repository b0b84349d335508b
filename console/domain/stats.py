"""Categories counsellors choose after a chat, and the aggregates the statistics page shows."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from chatbot.domain.hours import STOCKHOLM
from console.store.stats import StatsStore

TOPICS = (
    "sextortion",
    "image_spreading",
    "grooming",
    "takedown",
    "online_abuse_other",
    "offline_abuse",
    "self_harm",
    "other",
)
AGE_BANDS = ("10-12", "13-15", "16-17", "unknown")
# child_left: the child left (quick exit, end chat, a closed tab, expiry) before the counsellor could finish.
HANDLED = (
    "listened_advised",
    "takedown_started",
    "police_report",
    "referred",
    "emergency",
    "child_left",
    "other",
)
# The buttons of content/answers/satisfaction.yml: the payloads the child's press arrives as.
SATISFACTION_PAYLOADS = {"/satisfaction_yes": "yes", "/satisfaction_no": "no"}
COUNTERS = (
    "contacts",
    "queued",
    "urgent",
    "handed_off",
    "abandoned",
    "closed_in_queue",
    "ended",
    "transferred",
    "requeued",
    "child_left",
    # Left for the counsellors (issue 20): entered the queue at opening; expired before anyone took it.
    "held_queued",
    "held_expired",
)
# What became of a chat the child left for the counsellors, recorded with its categorisation: the child
# came back with the return code (and read what was written), or never did.
OUTCOMES = ("returned", "not_returned")


def day_of(moment: datetime) -> str:
    """Days are Stockholm days: a chat at 00:30 local time belongs to that morning, not to UTC's evening."""
    return moment.astimezone(STOCKHOLM).date().isoformat()


def days_back(today: date, count: int) -> list[str]:
    return [(today - timedelta(days=i)).isoformat() for i in range(count - 1, -1, -1)]


def percentile(values: list[int], share: float) -> int | None:
    """Nearest-rank percentile; None without data."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Summary:
    days: list[str]
    per_day: list[dict[str, int]]
    totals: dict[str, int]
    wait_p50_s: int | None
    wait_p90_s: int | None
    wait_max_s: int | None

    @property
    def handoff_share(self) -> float | None:
        """Hand-offs per contact (every conversation the gateway opened); a requeued chat can be handed
        off twice, so cap at 100 %. None without contacts (also for days before they were counted)."""
        contacts = self.totals.get("contacts", 0)
        return None if not contacts else min(1.0, self.totals.get("handed_off", 0) / contacts)

    @property
    def contacts_per_day(self) -> float | None:
        return self.totals.get("contacts", 0) / len(self.days) if self.days else None


def summarise(days: list[str], per_day: list[dict[str, int]], waits: Iterable[int]) -> Summary:
    totals: dict[str, int] = {}
    for counters in per_day:
        for name, value in counters.items():
            totals[name] = totals.get(name, 0) + value
    all_waits = [w // 1000 for w in waits]
    return Summary(
        days,
        per_day,
        totals,
        percentile(all_waits, 0.5),
        percentile(all_waits, 0.9),
        max(all_waits) if all_waits else None,
    )


def grouped(totals: Mapping[str, int], prefix: str, names: Iterable[str]) -> list[tuple[str, int]]:
    return [(name, totals.get(f"{prefix}:{name}", 0)) for name in names]


class Statistics:
    """The statistics page's questions, answered from the day's aggregates (counts only, never a child)."""

    def __init__(self, store: StatsStore) -> None:
        self._store = store

    async def day(self, day: str) -> dict[str, int]:
        return await self._store.day(day)

    async def waits(self, day: str) -> list[int]:
        return await self._store.waits(day)

    async def summary(self, days: list[str]) -> Summary:
        per_day = [await self._store.day(d) for d in days]
        waits: list[int] = []
        for d in days:
            waits += await self._store.waits(d)
        return summarise(days, per_day, waits)
