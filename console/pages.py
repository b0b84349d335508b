"""Views of the desk: queue, conversation, actions, supervisor overview and statistics (thin: parse, call, render)."""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from datetime import date
from typing import Any

from aiohttp import web
from babel.dates import format_date

from chatbot.domain.hours import STOCKHOLM, ScheduleError, clock_text
from console.appkeys import ACCOUNTS, AUDIT, CLOCK, CONTENT, DESK, LIVE
from console.domain import stats as stats_rules
from console.domain import throttle as throttle_rules
from console.domain.accounts import Role, Staff
from console.domain.actions import OVER_CAPACITY
from console.domain.canned import canned_replies
from console.domain.deskpart import DeskError
from console.domain.hours_form import DayField, HoursForm, HoursRefused, Problem, SpanField
from console.domain.opening import PreviewDay
from console.i18n import N_
from console.labels import HOURS_PROBLEMS, SCHEDULE_FAULTS
from console.security import allow, staff_of
from console.views import language_of, render, tr

log = logging.getLogger(__name__)

DESK_ROLES = (Role.COUNSELLOR, Role.SUPERVISOR)
STATS_ROLES = (Role.SUPERVISOR, Role.ANALYST)
_CONV_ID = re.compile(r"^[0-9a-f]{24}$")
PERIODS = {"day": 1, "week": 7, "month": 30, "year": 365}
ACTIONS = ("claim", "reply", "offer_upload", "transfer", "requeue", "end", "block", "categorise")
# Messages the pages show after an action, by code: never text that came from a request.
MESSAGES = {
    "taken": N_("A colleague took this conversation."),
    "gone": N_("The child has left or the conversation expired."),
    "away": N_("Set yourself available first (or your colleague is away)."),
    "full": N_("No free chat slot."),
    "not_yours": N_("This conversation is not assigned to you."),
    "forbidden": N_("This conversation is not in the queue or assigned to you."),
    "empty": N_("Write a message first."),
    "too_long": N_("That is too long."),
    "same": N_("Choose a colleague."),
    "bad_category": N_("Choose a topic, an age band and how it was handled."),
    "bad_status": N_("Choose available or away."),
    "bad_display": N_("The name children see must be 1-40 characters."),
    "bad_capacity": N_("Capacity is between 1 and 10 chats."),
    "bad_hours": N_("Those opening hours could not be read."),
    "saved_past": N_("Saved. Dated exceptions for days that have passed were left out: they change nothing."),
    "categorised": N_("Thank you. The categorisation is saved."),
    "ended": N_("The chat is ended. Please categorise it."),
    "saved": N_("Saved."),
    "offered": N_("The secure upload is offered to the child."),
    "blocked": N_("The chat is ended and its client cannot start new chats for a while."),
    "not_blocked": N_("The chat is ended; its client could not be blocked (its hash is kept one day only)."),
    "over_capacity": N_(
        "You took an urgent child over your capacity. Ask a colleague for help if you need it."
    ),
    "lifted": N_("The sign-in block is lifted."),
    "not_lifted": N_("That sign-in block had already ended."),
}


def _message(request: web.Request) -> str:
    found = MESSAGES.get(request.query.get("msg", ""))
    return tr(request, found) if found else ""


def _conv_id(request: web.Request) -> str:
    conv_id = request.match_info["conv_id"]
    if not _CONV_ID.match(conv_id):
        raise web.HTTPNotFound(text="no such conversation")
    return conv_id


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@allow(*DESK_ROLES)
async def queue_page(request: web.Request) -> web.Response:
    staff = staff_of(request)
    desk = request.app[DESK]
    shift = await desk.shifts.shift(staff.name)
    mine = []
    for conv_id in await desk.shifts.assigned(staff.name):
        meta = await desk.transcripts.conversation_meta(conv_id)
        if meta:
            mine.append(
                {"conv_id": conv_id, "urgent": meta.get("urgent") == "1", "locale": meta.get("locale", "")}
            )
    # Chats the child left while she had them: hers to categorise (the load was freed at once).
    left = await desk.shifts.to_categorise(staff.name)
    account = await request.app[ACCOUNTS].account(staff.name)
    return render(
        request,
        "queue.html",
        left=left,
        shift=shift,
        default_display=account.display if account else staff.name,
        default_capacity=account.capacity if account else 2,
        items=await desk.waiting.queue(),
        held=await desk.waiting.out_of_hours(),
        mine=mine,
        message=_message(request),
        is_open=desk.opening.hours.is_open(request.app[CLOCK].now()),
    )


@allow(*DESK_ROLES)
async def set_status(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    form = await request.post()
    desk = request.app[DESK]
    try:
        capacity = int(str(form.get("capacity", "")))
    except ValueError:
        capacity = 0
    try:
        await desk.shifts.set_status(
            staff.name, str(form.get("status", "")), capacity=capacity, display=str(form.get("display", ""))
        )
    except DeskError as exc:
        raise web.HTTPSeeOther(f"/queue?msg={exc.code}") from None
    request.app[LIVE].changed()
    raise web.HTTPSeeOther("/queue?msg=saved")


@allow(*DESK_ROLES)
async def conversation_page(request: web.Request) -> web.Response:
    staff = staff_of(request)
    conv_id = _conv_id(request)
    desk = request.app[DESK]
    try:
        view = await desk.transcripts.view(conv_id, staff.name, supervisor=staff.role is Role.SUPERVISOR)
    except DeskError as exc:
        status = 403 if exc.code == "forbidden" else 404
        return render(
            request,
            "message.html",
            status=status,
            text=tr(request, MESSAGES.get(exc.code, N_("Not available."))),
        )
    meta = await desk.transcripts.conversation_meta(conv_id)
    colleagues = [s for s in await desk.shifts.on_shift() if s.name != staff.name and s.status == "available"]
    content = request.app[CONTENT]
    # In the child's language; one without a current translation is marked (the page warns before sending).
    canned = canned_replies(content, view.locale)
    return render(
        request,
        "conversation.html",
        view=view,
        mine=view.counsellor == staff.name and view.state == "counsellor",
        queued=view.state == "queued",
        categorise=meta.get("categorise_by") == staff.name,
        supervisor=staff.role is Role.SUPERVISOR,
        colleagues=colleagues,
        canned=canned,
        intents=[i for i in meta.get("intents", "").split(",") if i],
        topics=stats_rules.TOPICS,
        ages=stats_rules.AGE_BANDS,
        handled=stats_rules.HANDLED,
        message=_message(request),
    )


@allow(*DESK_ROLES)
async def conversation_action(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    conv_id = _conv_id(request)
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound(text="no such action")
    form = await request.post()
    desk = request.app[DESK]
    live = request.app[LIVE]
    result: dict[str, Any] = {"ok": True, "conv_id": conv_id}
    after = f"/conversations/{conv_id}"
    try:
        if action == "claim":
            claimed = await desk.actions.claim(conv_id, staff.name)
            if claimed.detail == OVER_CAPACITY:
                result["over_capacity"] = True
                after = f"/conversations/{conv_id}?msg=over_capacity"
        elif action == "reply":
            entry = await desk.actions.reply(conv_id, staff.name, form.get("text"))
            result["seq"] = entry.seq
        elif action == "offer_upload":
            moved = await desk.actions.offer_upload(conv_id, staff.name)
            result["seq"] = moved.entries[-1].seq
            after = f"/conversations/{conv_id}?msg=offered"
        elif action == "transfer":
            await desk.actions.transfer(conv_id, staff.name, str(form.get("to", "")), form.get("note", ""))
            after = "/queue?msg=saved"
        elif action == "requeue":
            await desk.actions.requeue(conv_id, staff.name, form.get("note", ""))
            after = "/queue?msg=saved"
        elif action == "end":
            await desk.actions.end(conv_id, staff.name)
            after = f"/conversations/{conv_id}/done?msg=ended"
        elif action == "block":
            if staff.role is not Role.SUPERVISOR:
                raise web.HTTPForbidden(text="only a supervisor can block a conversation's client")
            moved = await desk.actions.block(conv_id, staff.name)
            result["blocked"] = moved.detail == "blocked"
            after = f"/queue?msg={moved.detail}"
        else:
            await desk.actions.categorise(
                conv_id, staff.name, form.get("topic"), form.get("age"), form.get("handled")
            )
            after = "/queue?msg=categorised"
    except DeskError as exc:
        if _wants_json(request):
            shown = tr(request, MESSAGES[exc.code]) if exc.code in MESSAGES else exc.detail
            return web.json_response(
                {"ok": False, "code": exc.code, "detail": exc.detail, "message": shown}, status=409
            )
        target = "/queue" if exc.code in ("taken", "gone", "forbidden") else f"/conversations/{conv_id}"
        raise web.HTTPSeeOther(f"{target}?msg={exc.code}") from None
    if action not in ("reply", "offer_upload"):  # these add to the chat; its place stays the same
        await live.conversation_changed(conv_id)
    if _wants_json(request):
        return web.json_response(result)
    raise web.HTTPSeeOther(after)


@allow(*DESK_ROLES)
async def categorise_page(request: web.Request) -> web.Response:
    """After ending: the short form (topic, age band, how it was handled), for statistics only."""
    staff = staff_of(request)
    conv_id = _conv_id(request)
    meta = await request.app[DESK].transcripts.conversation_meta(conv_id)
    if meta.get("categorise_by") != staff.name:
        return render(
            request, "message.html", status=404, text=tr(request, N_("Nothing to categorise here."))
        )
    return render(
        request,
        "categorise.html",
        conv_id=conv_id,
        topics=stats_rules.TOPICS,
        ages=stats_rules.AGE_BANDS,
        handled=stats_rules.HANDLED,
        message=_message(request),
    )


@allow(Role.SUPERVISOR)
async def overview(request: web.Request) -> web.Response:
    return await _overview(request)


async def _overview(
    request: web.Request, *, typed: HoursForm | None = None, problems: list[Problem] | None = None
) -> web.Response:
    """The overview; after a refused edit of the hours, with what was typed and what is wrong with it."""
    desk = request.app[DESK]
    items = await desk.waiting.queue()
    waits = [i.waited_s for i in items]
    in_force = await desk.opening.in_force()
    form = typed or HoursForm.of(in_force.hours, desk.opening.today())
    language = language_of(request)
    now = request.app[CLOCK].now()
    return render(
        request,
        "overview.html",
        status=422 if problems else 200,
        items=items,
        urgent=[i for i in items if i.urgent],
        longest_wait=max(waits) if waits else 0,
        on_shift=await desk.shifts.on_shift(),
        hours_form=form,
        blank_span=SpanField(),
        blank_exception=DayField(closed=False),
        problems=_problems(request, problems or []),
        unreadable=_unreadable(request, in_force.unreadable),
        preview=[
            _preview_day(request, day, language, today=desk.opening.today())
            for day in desk.opening.preview(in_force.hours, language)
        ],
        is_open=desk.opening.hours.is_open(now),
        message=_message(request),
        blocks=await request.app[ACCOUNTS].throttle.blocks(),
        limits=throttle_rules,
    )


def _problems(request: web.Request, problems: list[Problem]) -> dict[str, str]:
    """Each wrong field's message in the reader's language, by field name, in the form's order."""
    return {p.field: tr(request, HOURS_PROBLEMS[p.code], **p.params) for p in problems}


def _unreadable(request: web.Request, fault: ScheduleError | None) -> str:
    if fault is None:
        return ""
    return tr(
        request,
        N_(
            "The saved opening hours cannot be read (%(fault)s); the hours from the settings apply until you save."
        ),
        fault=tr(request, SCHEDULE_FAULTS.get(fault.code, fault.code)),
    )


def _preview_day(request: web.Request, day: PreviewDay, language: str, *, today: date) -> dict[str, str]:
    """One row of the next days as children will be told them, in the reader's language."""
    spans = ", ".join(f"{clock_text(a)}–{clock_text(b)}" for a, b in day.spans)
    if day.spans:
        said = tr(request, N_("open %(spans)s"), spans=spans)
    elif day.reason == "holiday":
        said = tr(request, N_("closed: %(holiday)s"), holiday=day.holiday)
    else:
        said = tr(request, N_("closed"))
    why = {"exception": tr(request, N_("dated exception")), "holiday": "", "week": ""}[day.reason]
    when = format_date(day.day, "EEEE d MMMM", locale=language)
    if day.day == today:
        when = tr(request, N_("today, %(day)s"), day=when)
    return {"when": when, "said": said, "why": why, "open": "1" if day.spans else ""}


@allow(Role.SUPERVISOR)
async def lift_block(request: web.Request) -> web.StreamResponse:
    """A supervisor ends a sign-in lock-out or slow-down now (audited, before it is lifted)."""
    staff = staff_of(request)
    form = await request.post()
    member = form.get("block")
    blocks = {b.member: b for b in await request.app[ACCOUNTS].throttle.blocks()}
    block = blocks.get(member) if isinstance(member, str) else None
    if block is None:
        raise web.HTTPSeeOther("/overview?msg=not_lifted#signin-blocks")
    # The log names the account (or none), never the client's hash: the audit log outlives the hash's
    # 15 minutes by years, and a keyed hash kept that long is a pseudonym, not a short-lived counter.
    action = f"signin.lifted.{block.kind.value}" + (f".{block.account}" if block.account else "")
    await request.app[AUDIT].append(staff.name, action)
    await request.app[ACCOUNTS].throttle.lift(block.member)
    log.info("%s lifted a sign-in block (%s %s)", staff.name, block.kind.value, block.account or "-")
    raise web.HTTPSeeOther("/overview?msg=lifted#signin-blocks")


@allow(Role.SUPERVISOR)
async def set_hours(request: web.Request) -> web.StreamResponse:
    """The week grid and the dated exceptions, saved; or the page again with what was typed, each wrong field
    marked and said what is wrong with it. Audited (`hours.changed`) before it is saved."""
    staff: Staff = staff_of(request)
    typed = HoursForm.read(await request.post())
    desk = request.app[DESK]
    try:
        checked = desk.opening.check(typed)
    except HoursRefused as refused:
        return await _overview(request, typed=typed, problems=refused.problems)
    await request.app[AUDIT].append(staff.name, "hours.changed")
    await desk.opening.save(checked)
    log.info("opening hours changed by %s", staff.name)
    request.app[LIVE].changed()
    raise web.HTTPSeeOther("/overview?msg=" + ("saved_past" if checked.past else "saved") + "#opening-hours")


async def _summary(request: web.Request) -> tuple[str, stats_rules.Summary]:
    period = request.query.get("period", "month")
    if period not in PERIODS:
        period = "month"
    count = PERIODS[period]
    today = request.app[CLOCK].now().astimezone(STOCKHOLM).date()
    days = stats_rules.days_back(today, count)
    return period, await request.app[DESK].statistics.summary(days)


@allow(*STATS_ROLES)
async def stats_page(request: web.Request) -> web.Response:
    period, summary = await _summary(request)
    return render(
        request,
        "stats.html",
        period=period,
        summary=summary,
        chart=_bars(summary),
        per_day=list(zip(summary.days, summary.per_day, strict=True)),
        topics=stats_rules.grouped(summary.totals, "topic", stats_rules.TOPICS),
        ages=stats_rules.grouped(summary.totals, "age", stats_rules.AGE_BANDS),
        handled=stats_rules.grouped(summary.totals, "handled", stats_rules.HANDLED),
        satisfaction=stats_rules.grouped(summary.totals, "satisfaction", ("yes", "no")),
        counters=stats_rules.COUNTERS,
    )


@allow(*STATS_ROLES)
async def stats_csv(request: web.Request) -> web.Response:
    _, summary = await _summary(request)
    columns = [
        *stats_rules.COUNTERS,
        *(f"topic:{t}" for t in stats_rules.TOPICS),
        *(f"age:{a}" for a in stats_rules.AGE_BANDS),
        *(f"handled:{h}" for h in stats_rules.HANDLED),
        "satisfaction:yes",
        "satisfaction:no",
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", *columns])
    for day, counters in zip(summary.days, summary.per_day, strict=True):
        writer.writerow([day, *(counters.get(c, 0) for c in columns)])
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="statistics.csv"'},
    )


def _bars(summary: stats_rules.Summary) -> dict[str, Any]:
    """Geometry of an inline SVG bar chart (contacts, queued, handed off per day), drawn by the template,
    with dates along its axis (at most about ten, so they never overlap)."""
    width, height, pad, axis = 720, 180, 20, 20
    count = max(1, len(summary.days))
    series = ("contacts", "queued", "handed_off")
    peak = max([1, *(d.get(name, 0) for d in summary.per_day for name in series)])
    slot = (width - 2 * pad) / count
    base = height - pad - axis
    bars = []
    ticks = []
    every = max(1, math.ceil(count / 10))
    for i, (day, counters) in enumerate(zip(summary.days, summary.per_day, strict=True)):
        for j, name in enumerate(series):
            value = counters.get(name, 0)
            h = (base - pad) * value / peak
            bars.append(
                {
                    "x": round(pad + i * slot + j * slot / len(series), 1),
                    "y": round(base - h, 1),
                    "w": round(max(1.0, slot / len(series) - 1), 1),
                    "h": round(h, 1),
                    "kind": name,
                    "day": day,
                    "value": value,
                }
            )
        if i % every == 0:
            _, month, date_of_month = day.split("-")
            ticks.append(
                {"x": round(pad + (i + 0.5) * slot, 1), "label": f"{int(date_of_month)}/{int(month)}"}
            )
    return {"width": width, "height": height, "base": base, "bars": bars, "peak": peak, "ticks": ticks}
