"""The console's metrics wiring: which desk codes and events may be labels, and what is read at scrape.

The desk never sees a metric: its stats store tells the instruments what it counts (`StatsObserver`),
the live delivery tells them what it sent, and the figures of the whole line (counsellors on shift and
their load, the queue's waits, cases by status) are read here when Prometheus scrapes.
"""

from __future__ import annotations

from chatbot.observability import Instruments
from chatbot.upload.cases import CaseService
from console.domain import stats as stats_rules
from console.domain.desk import Desk

# Every code a DeskError carries (tests/console/test_observing.py reads the desk's source to keep this
# list whole); anything else would be counted as "other", never as itself.
DESK_ERROR_CODES = (
    "away",
    "bad_capacity",
    "bad_category",
    "bad_display",
    "bad_hours",
    "bad_status",
    "empty",
    "forbidden",
    "full",
    "gone",
    "not_yours",
    "same",
    "taken",
    "too_long",
)


def instruments_for_console() -> Instruments:
    instruments = Instruments()
    instruments.errors.know("code", DESK_ERROR_CODES)
    instruments.desk_events.know("event", stats_rules.COUNTERS)
    return instruments


def watch_desk(instruments: Instruments, desk: Desk, cases: CaseService) -> None:
    async def shifts() -> None:
        instruments.shifts_now([(s.status, s.load, s.capacity) for s in await desk.shifts.on_shift()])

    async def waits() -> None:
        instruments.waits_now(item.waited_s for item in await desk.waiting.queue())

    async def case_statuses() -> None:
        instruments.cases_now(case.status.value for case in await cases.list_cases())

    for read in (shifts, waits, case_statuses):
        instruments.watch(read)
