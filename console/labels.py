"""What the console's codes are called on its pages (roles, states, topics, counters…), marked for translation.

Each page gets these translated into the reader's language as the template global `labels` (see
`console.i18n`); a code the table does not know is shown as it is, so a new code is visible, not hidden.
"""

from __future__ import annotations

from collections.abc import Mapping


def N_(text: str) -> str:
    """Mark a string for translation where it is defined; it is translated where it is shown."""
    return text


ROLES = {
    "counsellor": N_("counsellor"),
    "supervisor": N_("supervisor"),
    "editor": N_("editor"),
    "translator": N_("translator"),
    "analyst": N_("analyst"),
    "admin": N_("admin"),
}
STATES = {
    "bot": N_("with the bot"),
    "queued": N_("in the queue"),
    "counsellor": N_("with a counsellor"),
    "ended": N_("ended"),
}
AUTHORS = {"child": N_("child"), "bot": N_("bot"), "counsellor": N_("counsellor"), "system": N_("system")}
CONSENT = {
    "not_asked": N_("not asked"),
    "no_answer": N_("asked, no answer yet"),
    "yes": N_("yes, the counsellor may read it"),
    "no": N_("no"),
}
SHIFT_STATUSES = {"available": N_("available"), "away": N_("away")}
TOPICS = {
    "sextortion": N_("sextortion (threats to spread images)"),
    "image_spreading": N_("images spreading"),
    "grooming": N_("grooming"),
    "takedown": N_("takedown of images"),
    "online_abuse_other": N_("other online abuse"),
    "offline_abuse": N_("abuse offline"),
    "self_harm": N_("self-harm"),
    "other": N_("other"),
}
AGE_BANDS = {"10-12": N_("10–12"), "13-15": N_("13–15"), "16-17": N_("16–17"), "unknown": N_("age not known")}
HANDLED = {
    "listened_advised": N_("listened and advised"),
    "takedown_started": N_("takedown started"),
    "police_report": N_("police report"),
    "referred": N_("referred elsewhere"),
    "emergency": N_("emergency"),
    "child_left": N_("the child left"),
    "other": N_("other"),
}
COUNTERS = {
    "contacts": N_("contacts"),
    "queued": N_("queued"),
    "urgent": N_("urgent"),
    "handed_off": N_("handed off"),
    "abandoned": N_("left the queue"),
    "closed_in_queue": N_("closed while queued"),
    "ended": N_("ended"),
    "transferred": N_("transferred"),
    "requeued": N_("back to the queue"),
    "child_left": N_("the child left"),
}
PERIODS = {"day": N_("day"), "week": N_("week"), "month": N_("month"), "year": N_("year")}
SATISFACTION = {"yes": N_("yes"), "no": N_("no")}
CASE_STATUSES = {
    "received": N_("received"),
    "reviewed": N_("reviewed"),
    "reported": N_("reported"),
    "removed": N_("removed"),
    "closed": N_("closed"),
}

# What is wrong with a field of the opening-hours editor (console/domain/hours_form.py), by code.
HOURS_PROBLEMS = {
    "missing_time": N_("Give both a start and an end time."),
    "bad_time": N_("Write a time of day as hours and minutes, e.g. 09:00."),
    "ends_before_start": N_("The time must end after it starts (%(start)s–%(end)s)."),
    "overlap": N_("This time overlaps %(other)s on the same day."),
    "too_many_spans": N_("At most %(count)s times a day."),
    "no_spans": N_("Give an opening time, or mark the day closed."),
    "missing_date": N_("Give the date."),
    "bad_date": N_("Write the date as year-month-day, e.g. 2026-12-23."),
    "duplicate_date": N_("%(date)s is in the list twice."),
    "too_many_exceptions": N_("At most %(count)s dated exceptions."),
}
# Why a schedule text cannot be read (chatbot.domain.hours.ScheduleError codes), by code.
SCHEDULE_FAULTS = {
    "bad_days": N_("a day that is not mon, tue, wed, thu, fri, sat or sun"),
    "days_backwards": N_("a range of days that goes backwards"),
    "bad_span": N_("times not written like 09:00-16:00"),
    "bad_time": N_("a time that is not a time of day"),
    "ends_before_start": N_("a time that ends before it starts"),
    "overlap": N_("times that overlap"),
    "bad_date": N_("a date not written like 2026-12-23"),
}
WEEKDAYS = {
    "0": N_("Monday"),
    "1": N_("Tuesday"),
    "2": N_("Wednesday"),
    "3": N_("Thursday"),
    "4": N_("Friday"),
    "5": N_("Saturday"),
    "6": N_("Sunday"),
}

# What console.js writes into the page (live rows, alerts, typing), by key.
JS_TEXTS = {
    "urgent_mine": N_(
        "Urgent: the child in your chat %(conv)s may be in danger. They were shown the emergency numbers."
    ),
    "urgent_queue": N_("An urgent conversation is waiting in the queue."),
    "minutes": N_("%(minutes)s min"),
    "take": N_("Take"),
    "look": N_("Look"),
    "urgent": N_("urgent"),
    "load": N_("Chats now: %(load)s of %(cap)s"),
    "child_left": N_("The child has left."),
    "child_left_mine": N_("A child has left one of your chats."),
    "categorise": N_("Categorise"),
    "nobody": N_("Nobody"),
    "typing": N_("The child is typing…"),
    "not_sent": N_("Not sent. Check the connection and try again."),
    "available": N_("available"),
    "away": N_("away"),
    "yes": N_("yes"),
    "no": N_("no"),
    "state_bot": N_("with the bot"),
    "state_queued": N_("in the queue"),
    "state_counsellor": N_("with a counsellor"),
    "state_ended": N_("ended"),
    "tap": N_("a button the child pressed"),
    "author_child": N_("child"),
    "author_bot": N_("bot"),
    "author_counsellor": N_("counsellor"),
    "author_system": N_("system"),
}

TABLES: Mapping[str, Mapping[str, str]] = {
    "role": ROLES,
    "state": STATES,
    "author": AUTHORS,
    "consent": CONSENT,
    "shift": SHIFT_STATUSES,
    "topic": TOPICS,
    "age": AGE_BANDS,
    "handled": HANDLED,
    "counter": COUNTERS,
    "period": PERIODS,
    "satisfaction": SATISFACTION,
    "case_status": CASE_STATUSES,
    "hours_problem": HOURS_PROBLEMS,
    "schedule_fault": SCHEDULE_FAULTS,
    "weekday": WEEKDAYS,
    "js": JS_TEXTS,
}
