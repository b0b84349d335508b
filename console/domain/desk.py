"""The counsellors' desk: its parts, built once from the console's stores (each part is one idea).

- `shifts`: who is on shift, available or away, and whose console is alive (console/domain/shifts.py);
- `waiting`: the queue and the out-of-hours list, and each waiting child's place (waiting.py);
- `transcripts`: one conversation as a counsellor may read it (transcripts.py);
- `actions`: claim, reply, transfer, requeue, end, block, categorise (actions.py);
- `opening`: the opening hours a supervisor edits, as a week grid and dated exceptions (opening.py,
  hours_form.py);
- `sweep`: time passing: grace periods, closing and opening time, children who left (sweep.py);
- `statistics`: the aggregates the statistics page shows (console/domain/stats.py).
"""

from __future__ import annotations

from chatbot.clock import Clock
from chatbot.content.library import ContentLibrary
from chatbot.domain.floods import FloodGuard
from chatbot.domain.handoff import Handoff
from chatbot.domain.hours import OpeningHours
from chatbot.settings import Settings
from chatbot.store.conversations import ConversationStore
from chatbot.store.hours import HoursStore
from chatbot.store.queue import QueueStore
from console.domain.actions import Actions
from console.domain.deskpart import DeskContext
from console.domain.opening import Opening
from console.domain.shifts import Shifts
from console.domain.stats import Statistics
from console.domain.sweep import Sweep
from console.domain.transcripts import Transcripts
from console.domain.waiting import Waiting
from console.store.handoff import HandoffStore
from console.store.stats import StatsStore


class Desk:
    def __init__(
        self,
        store: HandoffStore,
        conversations: ConversationStore,
        queue: QueueStore,
        stats: StatsStore,
        content: ContentLibrary,
        clock: Clock,
        settings: Settings,
        hours: OpeningHours,
        hours_store: HoursStore | None = None,
        floods: FloodGuard | None = None,
    ) -> None:
        handoff = Handoff.for_settings(queue, conversations, clock, settings)
        context = DeskContext(store, conversations, queue, stats, content, clock, settings, handoff)
        self.shifts = Shifts(context)
        self.waiting = Waiting(context)
        self.transcripts = Transcripts(context)
        self.actions = Actions(context, floods)
        self.opening = Opening(hours, hours_store, clock)
        self.sweeper = Sweep(context, self.opening)
        self.statistics = Statistics(stats)
