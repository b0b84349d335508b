"""The editors' workspace pages (issue 14): browse, drafts with the gate beside each bubble, diff, review,
publish, history and rollback. Thin views over console.domain.editing.Workspace; the JSON answers
(`Accept: application/json`) are the same steps for scripts, with the same refusals."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web
from babel.messages.pofile import read_po

from chatbot.content.catalogs import SOURCE_LOCALE
from chatbot.content.guidelines.contract import INTENTS
from chatbot.content.guidelines.findings import Finding, Words
from chatbot.content.guidelines.graph import taps_from
from chatbot.content.library import Answer, ContentError, ContentLibrary
from chatbot.domain.content_versions import Snapshot, Version
from chatbot.domain.hours import STOCKHOLM
from console import overrule_pages
from console.appkeys import CLOCK, SHOWN, WORKSPACE
from console.domain.accounts import Role
from console.domain.editing import AnswerEdit, ButtonEdit, Draft, EditingError
from console.i18n import N_
from console.security import allow, staff_of
from console.views import render, tr

log = logging.getLogger(__name__)

ROLES = (Role.EDITOR, Role.SUPERVISOR)
MAX_BUBBLES = 8
MAX_BUTTONS = 8

# What the workspace's refusals say on the page (the domain's codes); the guideline findings are quoted.
ERRORS: Mapping[str, str] = {
    "not_author": N_("Only the author edits or submits a draft. Send it back with a comment instead."),
    "locked": N_("This draft is under review or published, so it cannot be changed now."),
    "stale_draft": N_("The draft changed since you opened it. Reload it and make your change again."),
    "unknown_answer": N_("There is no such answer."),
    "unknown_draft": N_("This draft does not exist (or was past its retention)."),
    "check_failed": N_("The guideline check fails, so this cannot go further: %(detail)s"),
    "own_draft": N_("You wrote this draft: another person must review it."),
    "not_submitted": N_("Only a submitted draft can be reviewed."),
    "role": N_("Your role cannot do this."),
    "already": N_("You have already approved this draft, or it has every approval it needs."),
    "supervisor": N_("This change touches a safety-critical answer: a supervisor must approve it too."),
    "comment": N_("Say what to change: a comment is required."),
    "nothing": N_("There is no approved draft to publish."),
    "not_approved": N_("This draft is not approved yet."),
    "overlap": N_("Two approved drafts change the same answer; publish one of them first."),
    "stale": N_(
        "Version %(current)s was published after this draft was started from version %(base)s. "
        "Open the answer again to see the published text, then redo the change."
    ),
    "dangling": N_("Every button must lead to an existing answer or intent."),
    "empty_bubble": N_("Every bubble needs text; remove a bubble you do not want."),
    "empty_label": N_("Every button needs a label."),
    "malformed": N_("The answer cannot be read: %(detail)s"),
    "unknown_version": N_("That version is no longer kept."),
    "no_version": N_("No content version is published yet."),
    "scheduled": N_("This draft is scheduled. Cancel the schedule first."),
    "bad_time": N_("Give a start, and an end after the start and after now (Stockholm time)."),
    "not_scheduled": N_("Nothing is waiting in this draft's schedule."),
    "bad_id": N_(
        "An answer's name is lower-case letters, digits and '_' (2 to 60 characters), and not the name of "
        "an intent or of an answer the dialogue uses."
    ),
    "exists": N_("There is already an answer called %(detail)s."),
    "bad_kind": N_("A new answer is an answer or a canned reply."),
    "bad_intent": N_("Only an answer (not a canned reply) can answer an intent, and only a known intent."),
    "intent_taken": N_("The intent %(detail)s has its answer already: change that answer instead."),
    "referenced_dialogue": N_(
        "The dialogue shows %(detail)s by its name, so it cannot be removed (that needs a developer)."
    ),
    "referenced_intent": N_(
        "This answer is the answer to the intent %(detail)s, so it cannot be removed: the bot would have "
        "nothing to say to it."
    ),
    "referenced_buttons": N_(
        "Buttons of these answers lead to it: %(detail)s. Change those buttons first (in the same draft), "
        "then remove it."
    ),
    "conflict": N_("Something changed at the same moment. Try again."),
}

# Codes whose detail (answer or intent names only) travels with the redirect to the page that shows it.
_DETAILED = ("exists", "intent_taken", "referenced_dialogue", "referenced_intent", "referenced_buttons")
KINDS = {
    "answer": N_("answer (reached by a button or an intent)"),
    "canned": N_("canned reply for counsellors"),
}

SCHEDULE_STATES = {
    "waiting": N_("waiting to publish"),
    "publishing": N_("publishing now"),
    "live": N_("published, reverts at the end"),
    "reverting": N_("reverting now"),
    "done": N_("done"),
    "cancelled": N_("cancelled"),
    "failed": N_("failed"),
}

STATUSES = {
    "editing": N_("being edited"),
    "submitted": N_("waiting for review"),
    "sent_back": N_("sent back"),
    "approved": N_("approved"),
    "published": N_("published"),
}
# Each guideline rule in plain words, as the editor reads it beside a finding (content/guidelines.md).
RULE_TITLES: Mapping[str, str] = {
    "readability": N_("Short and simple (guideline 4)"),
    "blame": N_("Believe me, don't blame me (guideline 1)"),
    "personal_data": N_("Let me stay anonymous: never ask who the child is (guideline 2)"),
    "promise": N_("No promises we cannot keep (guideline 3)"),
    "crisis": N_("Safety first: the emergency numbers at once (guideline 7)"),
    "placeholders": N_("Placeholders the bot fills in"),
    "next_step": N_("I decide: always a next step (guideline 3)"),
    "person": N_("Always a way to a person (guideline 6)"),
    "canned": N_("A canned reply is sent as written by a counsellor"),
    "translation": N_("In my language (guideline 9)"),
    "links": N_("Buttons lead somewhere, and every answer can be reached"),
    "intents": N_("Every intent has its answer"),
    "required": N_("Answers the dialogue needs"),
    "fast_takedown": N_("Help me fast: removal within two taps (guideline 5)"),
    "wording": N_("Blame, promises and personal data are not checked in this language"),
}

LOCALE_STATES = {"current": N_("current"), "stale": N_("stale"), "missing": N_("missing")}


def _message(request: web.Request, exc: EditingError, **values: Any) -> str:
    text = ERRORS.get(exc.code)
    if text is None:
        return exc.message
    return tr(request, text, detail=exc.message, **values)


def said(request: web.Request, words: Words) -> str:
    """A finding's text in the console's language (its values translated first where they are texts)."""
    values = {k: said(request, v) if isinstance(v, Words) else v for k, v in words.values}
    return tr(request, words.template, **values)


def finding_text(request: web.Request, found: Finding) -> str:
    return found.message if found.words is None else said(request, found.words)


def rule_title(request: web.Request, rule: str) -> str:
    return tr(request, RULE_TITLES[rule]) if rule in RULE_TITLES else rule


def _finding_json(request: web.Request, found: Finding) -> dict[str, str]:
    return {
        "level": found.level.value,
        "rule": found.rule,
        "title": rule_title(request, found.rule),
        "message": finding_text(request, found),
        "locale": found.locale,
    }


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _refuse(request: web.Request, exc: EditingError, back: str, status: int = 409) -> web.StreamResponse:
    values: dict[str, Any] = {}
    if exc.code == "stale":
        values = _stale_values(exc.message)
    text = _message(request, exc, **values)
    if _wants_json(request):
        return web.json_response({"error": exc.code, "detail": text}, status=status)
    if exc.code in ERRORS:
        # A form: back to its page, which says what was refused (no error status for a person's click).
        detail = f"&detail={quote(exc.message)}" if exc.code in _DETAILED else ""
        raise web.HTTPSeeOther(f"{back}?error={exc.code}{detail}")
    return render(request, "message.html", status=status, text=text, back=back)


def _stale_values(message: str) -> dict[str, Any]:
    found = re.search(
        r"version (\d+) was published after this change was started from version (\S+);", message
    )
    return {"current": found.group(1), "base": found.group(2)} if found else {"current": "?", "base": "?"}


@dataclass(frozen=True)
class Row:
    answer: Answer
    taps: int | None
    states: Mapping[str, str]
    last: Version | None
    shown: int = 0


SHOWN_DAYS = 7


async def shown_last_days(request: web.Request, days: int) -> dict[str, int]:
    """How often each answer was shown in the last `days` Stockholm days (counts only)."""
    today = request.app[CLOCK].now().astimezone(STOCKHOLM).date()
    total: dict[str, int] = {}
    for back in range(days):
        for answer_id, count in (
            await request.app[SHOWN].day((today - timedelta(days=back)).isoformat())
        ).items():
            total[answer_id] = total.get(answer_id, 0) + count
    return total


def _translated_contexts(snapshot: Snapshot) -> dict[str, set[str]]:
    """Per locale, the contexts that have any translation (current, stale or fuzzy)."""
    found: dict[str, set[str]] = {}
    for locale, text in snapshot.catalogs.items():
        catalog = read_po(io.BytesIO(text.encode("utf-8")))
        found[locale] = {str(m.context) for m in catalog if m.context and m.string}
    return found


def locale_states(
    answer: Answer, library: ContentLibrary, translated: Mapping[str, set[str]]
) -> dict[str, str]:
    states = {}
    for locale in library.catalogs.locales if library.catalogs else ():
        if locale == SOURCE_LOCALE:
            continue
        if answer.localized(locale)[0] == locale:
            states[locale] = "current"
        elif any(m.context in translated.get(locale, set()) for m in answer.messages()):
            states[locale] = "stale"
        else:
            states[locale] = "missing"
    return states


def last_changes(history: list[Version], ids: list[str]) -> dict[str, Version]:
    """For each answer, the newest version that changed it (the seed for those never changed since)."""
    found: dict[str, Version] = {}
    for version in history:  # newest first
        for answer_id in version.changed:
            found.setdefault(answer_id, version)
    seed = history[-1] if history else None
    if seed is not None:
        for answer_id in ids:
            found.setdefault(answer_id, seed)
    return found


@allow(*ROLES)
async def browse(request: web.Request) -> web.Response:
    workspace = request.app[WORKSPACE]
    version, snapshot = await workspace.published()
    library = snapshot.library()
    taps = taps_from("welcome", library) if "welcome" in library else {}
    translated = _translated_contexts(snapshot)
    last = last_changes(await workspace.versions.history(), list(library.answers))
    query = request.query.get("q", "").strip()
    shown = await shown_last_days(request, SHOWN_DAYS)
    rows = []
    for answer in library.answers.values():
        if query:
            haystack = " ".join([answer.id, *answer.bubbles, *(b.label for b in answer.buttons)]).lower()
            if query.lower() not in haystack:
                continue
        rows.append(
            Row(
                answer,
                taps.get(answer.id),
                locale_states(answer, library, translated),
                last.get(answer.id),
                shown.get(answer.id, 0),
            )
        )
    rows.sort(key=lambda r: (r.taps is None, r.taps if r.taps is not None else 0, r.answer.id))
    # Canned replies are the counsellors' words, not a place in the child's graph: their own heading.
    canned = [r for r in rows if r.answer.kind == "canned"]
    rows = [r for r in rows if r.answer.kind != "canned"]
    drafts = [d for d in await workspace.drafts() if d.status != "published"]
    return render(
        request,
        "content.html",
        error=_page_error(request),
        kinds=KINDS,
        free_intents=_free_intents(library),
        all_answers=sorted(library.answers),
        version=version,
        rows=rows,
        canned=canned,
        query=query,
        drafts=drafts,
        statuses=STATUSES,
        locale_states=LOCALE_STATES,
        shown_days=SHOWN_DAYS,
        locales=[c for c in (library.catalogs.locales if library.catalogs else ()) if c != SOURCE_LOCALE],
    )


def _page_error(request: web.Request) -> str:
    """The refusal a form was sent back with (?error=code, and for some codes the names concerned)."""
    code = request.query.get("error", "")
    if code not in ERRORS:
        return ""
    detail = request.query.get("detail", "") if code in _DETAILED else ""
    return tr(request, ERRORS[code], detail=detail, current="?", base="?")


def _free_intents(library: ContentLibrary) -> list[str]:
    """Intents no answer answers yet: a new answer may take one of them."""
    return [i for i in INTENTS if library.for_intent(i) is None]


@allow(*ROLES)
async def new_draft(request: web.Request) -> web.StreamResponse:
    """A draft changing an answer (`answer`), creating one (`new_id`, `kind`, `intent`, `bubble`) or
    removing one (`delete`)."""
    staff = staff_of(request)
    form = await request.post()
    workspace = request.app[WORKSPACE]
    try:
        if form.get("new_id") is not None:
            draft = await workspace.new_answer(
                staff.name,
                str(form.get("new_id", "")),
                str(form.get("kind", "answer")),
                str(form.get("intent", "")),
                str(form.get("bubble", "")),
            )
        elif form.get("delete") is not None:
            draft = await workspace.delete_answer(staff.name, str(form.get("delete", "")))
        else:
            draft = await workspace.create(staff.name, [str(form.get("answer"))])
    except EditingError as exc:
        status = 404 if exc.code == "unknown_answer" else 422
        if exc.code.startswith("referenced") or exc.code == "exists":
            status = 409
        return _refuse(request, exc, "/content", status)
    if _wants_json(request):
        return web.json_response({"draft": draft.id})
    raise web.HTTPSeeOther(f"/content/drafts/{draft.id}")


def _targets(library: ContentLibrary) -> list[tuple[str, str]]:
    """Every place a button may lead: ('goto:<id>', label) and ('intent:<name>', label)."""
    answers = [(f"goto:{a}", a) for a in sorted(library.answers)]
    intents = sorted(set(INTENTS) | {a.intent for a in library.answers.values() if a.intent})
    return answers + [(f"intent:{i}", f"{i} (intent)") for i in intents]


@allow(*ROLES)
async def draft_page(request: web.Request) -> web.Response:
    workspace = request.app[WORKSPACE]
    try:
        draft = await workspace.get(request.match_info["draft_id"])
    except EditingError as exc:
        return render(request, "message.html", status=404, text=_message(request, exc))
    return await _draft_view(request, draft)


async def _draft_view(request: web.Request, draft: Draft, status: int = 200) -> web.Response:
    workspace = request.app[WORKSPACE]
    version, _current = await workspace.published()
    code = request.query.get("error", "")
    error = ""
    if code in _DETAILED:
        error = _page_error(request)
    elif code in ERRORS:
        detail = tr(request, N_("see the findings below"))
        error = tr(request, ERRORS[code], detail=detail, current=version.number, base=draft.base)
    _base_version, base = await workspace.versions.version(draft.base)
    base_library = base.library()
    try:
        draft_library = (await workspace.snapshot_of(draft)).library()
    except (ContentError, EditingError):
        draft_library = base_library
    result = await workspace.check(draft)
    staff = staff_of(request)
    checks = {a.answer_id: a for a in result.answers}
    return render(
        request,
        "content_draft.html",
        status=status,
        draft=draft,
        base_library=base_library,
        checks=checks,
        result=result,
        targets=_targets(draft_library),
        kinds=KINDS,
        free_intents=_free_intents(draft_library),
        other_answers=sorted(a for a in draft_library.answers if a not in draft.edits),
        published=version,
        stale=draft.base != version.number and draft.status != "published",
        statuses=STATUSES,
        error=error,
        is_author=staff.name == draft.author,
        max_bubbles=MAX_BUBBLES,
        max_buttons=MAX_BUTTONS,
        schedule_states=SCHEDULE_STATES,
        local=_local,
        now_local=_local(request.app[CLOCK].now()),
        finding_text=lambda found: finding_text(request, found),
        rule_title=lambda rule: rule_title(request, rule),
        **(await overrule_pages.context(request, draft)),
    )


def _local(moment: datetime | None) -> str:
    """A UTC moment as Stockholm wall time, as the forms show and take it."""
    return "" if moment is None else moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def _from_local(value: object) -> datetime | None:
    """Stockholm wall time from a datetime-local field ("2026-12-24T08:00") as UTC; None when empty."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        wall = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise EditingError("bad_time", f"not a time: {text!r}") from None
    return wall.replace(tzinfo=STOCKHOLM).astimezone(UTC)


def _edit_from_form(form: Mapping[str, Any]) -> AnswerEdit:
    bubbles = [str(form.get(f"bubble{i}", "")).strip() for i in range(MAX_BUBBLES)]
    buttons = []
    for i in range(MAX_BUTTONS):
        label = str(form.get(f"label{i}", "")).strip()
        target = str(form.get(f"target{i}", ""))
        if not label and not target:
            continue
        via, _, name = target.partition(":")
        buttons.append(ButtonEdit(label, via, name))
    return AnswerEdit(tuple(b for b in bubbles if b), tuple(buttons))


@allow(*ROLES)
async def draft_action(request: web.Request) -> web.StreamResponse:
    """save | submit | approve | send_back | publish, from the draft page's forms or a script."""
    staff = staff_of(request)
    workspace = request.app[WORKSPACE]
    draft_id = request.match_info["draft_id"]
    back = f"/content/drafts/{draft_id}"
    form = await request.post()
    action = request.match_info["action"]
    try:
        if action == "save":
            answer_id = str(form.get("answer", ""))
            revision = form.get("revision")
            await workspace.save(
                draft_id,
                staff.name,
                answer_id,
                _edit_from_form(form),
                int(revision) if isinstance(revision, str) and revision.isdigit() else None,
            )
        elif action == "submit":
            await workspace.submit(draft_id, staff.name)
        elif action == "approve":
            await workspace.approve(draft_id, staff.name, staff.role)
        elif action == "send_back":
            await workspace.send_back(draft_id, staff.name, staff.role, str(form.get("comment", "")))
        elif action == "schedule":
            at = _from_local(form.get("at")) or request.app[CLOCK].now()
            await workspace.schedule(draft_id, staff.name, staff.role, at, _from_local(form.get("until")))
        elif action == "cancel_schedule":
            await workspace.cancel_schedule(draft_id, staff.name, staff.role)
        elif action == "add":
            await workspace.add_answer(draft_id, staff.name, str(form.get("answer", "")))
        elif action == "new_answer":
            await workspace.new_answer(
                staff.name,
                str(form.get("new_id", "")),
                str(form.get("kind", "answer")),
                str(form.get("intent", "")),
                str(form.get("bubble", "")),
                draft_id,
            )
        elif action == "delete_answer":
            await workspace.delete_answer(staff.name, str(form.get("answer", "")), draft_id)
        elif action == "publish":
            version = await workspace.publish(staff.name, [draft_id])
            if _wants_json(request):
                return web.json_response({"version": version.number})
            raise web.HTTPSeeOther(f"/content/history#v{version.number}")
        else:
            raise web.HTTPNotFound()
    except EditingError as exc:
        status = (
            422
            if exc.code
            in ("check_failed", "dangling", "empty_bubble", "empty_label", "bad_time", "bad_id", "bad_kind")
            else 409
        )
        if exc.code in ("own_draft", "role", "supervisor", "not_author"):
            status = 403
        return _refuse(request, exc, back, status)
    if _wants_json(request):
        draft = await workspace.get(draft_id)
        schedule = None
        if draft.schedule is not None:
            schedule = {
                "state": draft.schedule.state,
                "at": draft.schedule.at.isoformat(),
                "until": None if draft.schedule.until is None else draft.schedule.until.isoformat(),
                "skipped": list(draft.schedule.skipped),
            }
        return web.json_response(
            {"draft": draft.id, "status": draft.status, "revision": draft.revision, "schedule": schedule}
        )
    raise web.HTTPSeeOther(back)


@allow(*ROLES)
async def check_edit(request: web.Request) -> web.Response:
    """The gate on an unsaved edit, as the editor types (JSON: findings by bubble)."""
    workspace = request.app[WORKSPACE]
    form = await request.post()
    try:
        draft = await workspace.get(request.match_info["draft_id"])
        answer_id = str(form.get("answer", ""))
        result = await workspace.check_edit(draft, answer_id, _edit_from_form(form))
    except EditingError as exc:
        return web.json_response({"error": exc.code, "detail": _message(request, exc)}, status=422)
    answer = next((a for a in result.answers if a.answer_id == answer_id), None)
    return web.json_response(
        {
            "ok": result.ok,
            "bubbles": [
                [_finding_json(request, f) for f in b.findings] for b in (answer.bubbles if answer else ())
            ],
            "other": [_finding_json(request, f) for f in (answer.other if answer else ())],
        }
    )


@allow(*ROLES)
async def history(request: web.Request) -> web.Response:
    workspace = request.app[WORKSPACE]
    version, _ = await workspace.published()
    code = request.query.get("error", "")
    return render(
        request,
        "content_history.html",
        versions=await workspace.versions.history(),
        current=version.number,
        scheduled=[d for d in await workspace.drafts() if d.schedule is not None],
        schedule_states=SCHEDULE_STATES,
        local=_local,
        error=tr(request, ERRORS[code], detail="", current="", base="") if code in ERRORS else "",
    )


@allow(Role.SUPERVISOR)
async def rollback(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    try:
        number = int(request.match_info["number"])
        version = await request.app[WORKSPACE].rollback(staff.name, staff.role, number)
    except EditingError as exc:
        return _refuse(request, exc, "/content/history")
    if _wants_json(request):
        return web.json_response({"version": version.number})
    raise web.HTTPSeeOther(f"/content/history#v{version.number}")
