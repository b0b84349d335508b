"""The editors' workspace: drafts of answers, the guideline gate, two-person review and publishing.

A draft holds edits of existing answers (bubbles and buttons) made against one published content version
(its base). The gate is `content check` itself (chatbot.content.guidelines.report.check_library), run on the
whole library the draft would produce. Submitting asks another person to review: never the author. A
draft that touches a safety-critical answer (crisis, welcome, hand-off, opening hours, or any answer with
an emergency number) also needs a supervisor's sign-off, from a third person. Approved drafts publish
together as one content version (chatbot.domain.content_versions); the server re-runs the gate and refuses
violations and stale bases whatever the page allowed. Every step is written to the audit log first.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from chatbot.clock import Clock
from chatbot.content.catalogs import SOURCE_LOCALE
from chatbot.content.guidelines.contract import DIALOGUE_ANSWERS, INTENTS
from chatbot.content.guidelines.findings import Finding, Level
from chatbot.content.guidelines.report import Report, check_library
from chatbot.content.library import Answer, ContentError, ContentLibrary
from chatbot.domain.content_versions import ContentVersions, Snapshot, StaleVersion, Version
from chatbot.store.audit import AuditLog
from console.domain.accounts import Role
from console.store.drafts import DraftStore

SAFETY_ANSWERS = frozenset(
    {
        "crisis",
        "crisis_closed",
        "crisis_counsellor",
        "crisis_who",
        "welcome",
        "ask_human",
        "handoff_queued",
        "handoff_closed",
        "opening_hours",
        "opening_hours_open",
        "hours_unknown",
    }
)
"""Answers whose change also needs a supervisor's sign-off (child safety)."""

EMERGENCY_NUMBERS = ("112", "116 111", "90101", "114 14")
"""An answer that mentions one of these (before or after the change) is safety-critical too."""

EDITOR_ROLES = (Role.EDITOR, Role.SUPERVISOR)

# Draft states.
EDITING = "editing"
SUBMITTED = "submitted"
SENT_BACK = "sent_back"
APPROVED = "approved"
PUBLISHED = "published"

# Schedule states: waiting to publish; claimed by one console process; published and waiting to revert
# (a time box); claimed to revert; finished; cancelled; failed (the reason in `note`).
WAITING = "waiting"
PUBLISHING = "publishing"
LIVE = "live"
REVERTING = "reverting"
DONE = "done"
CANCELLED = "cancelled"
FAILED = "failed"
SCHEDULE_AUTHOR = "schedule"
CLAIM_LEASE = timedelta(seconds=60)
"""How long a console process holds a claimed schedule step; a publish takes well under a second."""

_BUBBLE = re.compile(r"\bbubble (\d+)\b")


class EditingError(Exception):
    """A step the workspace refuses, with a message for the person (code for tests and the API)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ButtonEdit:
    label: str
    via: str
    """'goto' (an answer id) or 'intent'."""
    target: str


@dataclass(frozen=True)
class AnswerEdit:
    bubbles: tuple[str, ...]
    buttons: tuple[ButtonEdit, ...]


@dataclass(frozen=True)
class NewAnswer:
    """An answer the draft creates: what it is (its words are the draft's edit of it)."""

    kind: str
    intent: str | None


NEW_KINDS = ("answer", "canned")
"""What an editor may create: an answer reached by a button or an intent, or a counsellor's canned reply.
Dialogue and notice answers are shown by the code by id, so a new one needs a developer."""

_ANSWER_ID = re.compile(r"[a-z][a-z0-9_]{1,59}")


@dataclass(frozen=True)
class ReviewStep:
    name: str
    role: str
    verdict: str
    """'content' or 'safety' (an approval), or 'sent_back'."""
    comment: str
    at: datetime


@dataclass
class Schedule:
    """When an approved draft publishes, and (time-boxed) when its answers return to what was before."""

    at: datetime
    until: datetime | None
    by: str
    state: str = WAITING
    note: str = ""
    reverted: int | None = None
    """The version that reverted it."""
    skipped: tuple[str, ...] = ()
    """Answers changed by someone else meanwhile: the revert left them as they were."""
    lease: datetime | None = None
    """While publishing or reverting: until when the console process that claimed the step holds it. A
    process that dies mid-step leaves the claim; once the lease has passed another process takes it over."""

    @property
    def due(self) -> datetime | None:
        if self.state == WAITING:
            return self.at
        if self.state == LIVE:
            return self.until
        if self.state in (PUBLISHING, REVERTING):
            return self.lease if self.lease is not None else self.at
        return None

    def to_list(self) -> list[Any]:
        until = None if self.until is None else _ms(self.until)
        lease = None if self.lease is None else _ms(self.lease)
        return [_ms(self.at), until, self.by, self.state, self.note, self.reverted, list(self.skipped), lease]

    @classmethod
    def from_list(cls, raw: list[Any]) -> Schedule:
        at, until, by, state, note, reverted, skipped = raw[:7]
        lease = raw[7] if len(raw) > 7 else None
        return cls(
            _dt(at),
            None if until is None else _dt(until),
            by,
            state,
            note,
            reverted,
            tuple(skipped),
            None if lease is None else _dt(lease),
        )


@dataclass
class Draft:
    id: str
    author: str
    base: int
    created: datetime
    updated: datetime
    revision: int = 0
    status: str = EDITING
    edits: dict[str, AnswerEdit] = field(default_factory=dict)
    reviews: list[ReviewStep] = field(default_factory=list)
    published: int | None = None
    safety: bool = False
    """Whether it touches a safety-critical answer (computed at every save)."""
    schedule: Schedule | None = None
    new: dict[str, NewAnswer] = field(default_factory=dict)
    """Answers this draft creates (their bubbles and buttons are in `edits`)."""
    deleted: list[str] = field(default_factory=list)
    """Published answers this draft removes."""

    @property
    def touched(self) -> list[str]:
        """Every answer the draft changes, creates or removes."""
        return [*self.edits, *self.deleted]

    def approvals(self, verdict: str) -> list[ReviewStep]:
        return [r for r in self.reviews if r.verdict == verdict]

    @property
    def content_approved(self) -> bool:
        return bool(self.approvals("content"))

    @property
    def safety_approved(self) -> bool:
        return bool(self.approvals("safety"))

    @property
    def reviewers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.name for r in self.reviews if r.verdict in ("content", "safety")))

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "author": self.author,
                "base": self.base,
                "created": _ms(self.created),
                "updated": _ms(self.updated),
                "revision": self.revision,
                "status": self.status,
                "edits": {
                    k: {
                        "bubbles": list(e.bubbles),
                        "buttons": [[b.label, b.via, b.target] for b in e.buttons],
                    }
                    for k, e in self.edits.items()
                },
                "reviews": [[r.name, r.role, r.verdict, r.comment, _ms(r.at)] for r in self.reviews],
                "published": self.published,
                "safety": self.safety,
                "schedule": None if self.schedule is None else self.schedule.to_list(),
                "new": {k: [n.kind, n.intent] for k, n in self.new.items()},
                "deleted": self.deleted,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str) -> Draft:
        d = json.loads(raw)
        return cls(
            d["id"],
            d["author"],
            int(d["base"]),
            _dt(d["created"]),
            _dt(d["updated"]),
            int(d["revision"]),
            d["status"],
            {
                k: AnswerEdit(tuple(e["bubbles"]), tuple(ButtonEdit(*b) for b in e["buttons"]))
                for k, e in d["edits"].items()
            },
            [ReviewStep(n, r, v, c, _dt(at)) for n, r, v, c, at in d["reviews"]],
            d.get("published"),
            bool(d.get("safety")),
            None if d.get("schedule") is None else Schedule.from_list(d["schedule"]),
            {k: NewAnswer(kind, intent) for k, (kind, intent) in d.get("new", {}).items()},
            list(d.get("deleted", [])),
        )


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@dataclass(frozen=True)
class BubbleCheck:
    text: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class AnswerCheck:
    answer_id: str
    bubbles: tuple[BubbleCheck, ...]
    other: tuple[Finding, ...]
    """Findings about the answer as a whole or its buttons."""
    lix: Mapping[str, float]

    @property
    def violations(self) -> int:
        found = [f for b in self.bubbles for f in b.findings] + list(self.other)
        return sum(1 for f in found if f.level is Level.VIOLATION)


@dataclass(frozen=True)
class DraftCheck:
    """The gate's verdict on the library a draft would produce."""

    report: Report
    answers: tuple[AnswerCheck, ...]
    library_findings: tuple[Finding, ...]
    stale_translations: Mapping[str, tuple[str, ...]]
    """Answer id → locales whose children will see Swedish there until a translator updates it."""

    @property
    def ok(self) -> bool:
        return self.report.ok

    @property
    def violations(self) -> list[tuple[str, Finding]]:
        return self.report.violations


def answer_edit(answer: Answer) -> AnswerEdit:
    return AnswerEdit(answer.bubbles, tuple(ButtonEdit(b.label, b.via, b.name) for b in answer.buttons))


def render_answer(published_text: str, edit: AnswerEdit) -> str:
    """The answer's YAML with the edited bubbles and buttons; its comment and other fields unchanged."""
    data: dict[str, Any] = yaml.safe_load(published_text)
    comments = []
    for line in published_text.splitlines():
        if not line.startswith("#"):
            break
        comments.append(line)
    data["bubbles"] = [b.strip() for b in edit.bubbles]
    if edit.buttons:
        data["buttons"] = [{"label": b.label.strip(), b.via: b.target} for b in edit.buttons]
    else:
        data.pop("buttons", None)
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=None)
    return "\n".join([*comments, body.rstrip("\n")]) + "\n"


def render_new_answer(answer_id: str, new: NewAnswer, edit: AnswerEdit) -> str:
    """A created answer's YAML, as a file of content/answers/ would say it."""
    data: dict[str, Any] = {"id": answer_id}
    if new.kind != "answer":
        data["kind"] = new.kind
    if new.intent:
        data["intent"] = new.intent
    data["bubbles"] = [b.strip() for b in edit.bubbles]
    if edit.buttons:
        data["buttons"] = [{"label": b.label.strip(), b.via: b.target} for b in edit.buttons]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=None)


def draft_answers(draft: Draft, base: Snapshot) -> dict[str, str | None]:
    """The answer texts the draft puts on top of `base` (None: removed)."""
    changed: dict[str, str | None] = {}
    for answer_id, edit in draft.edits.items():
        if answer_id in draft.new:
            if answer_id in base.answers:
                raise EditingError("exists", answer_id)
            changed[answer_id] = render_new_answer(answer_id, draft.new[answer_id], edit)
        elif answer_id in base.answers:
            changed[answer_id] = render_answer(base.answers[answer_id], edit)
    for answer_id in draft.deleted:
        changed[answer_id] = None
    return changed


def references(answer: Answer, library: ContentLibrary) -> tuple[str, str] | None:
    """What still leads to an answer, as (code, detail), or None when nothing does: the dialogue code
    (by id), an intent it answers, or buttons of other answers in `library` (their ids)."""
    answer_id = answer.id
    if answer_id in DIALOGUE_ANSWERS or answer.kind in ("dialogue", "notice"):
        return "referenced_dialogue", answer_id
    if answer.intent is not None:
        return "referenced_intent", answer.intent
    sources = []
    for other in library.answers.values():
        if other.id == answer_id:
            continue
        for button in other.buttons:
            leads = button.name == answer_id if button.via == "goto" else button.name == answer.intent
            if leads:
                sources.append(other.id)
                break
    if sources:
        return "referenced_buttons", ", ".join(sorted(sources))
    return None


def is_safety_critical(answer_id: str, texts: Iterable[str]) -> bool:
    if answer_id in SAFETY_ANSWERS:
        return True
    return any(number in text for text in texts for number in EMERGENCY_NUMBERS)


def check_snapshot(snapshot: Snapshot, edited: Sequence[str], published: ContentLibrary | None) -> DraftCheck:
    """`content check` on the whole library of `snapshot`; the findings of `edited` answers by bubble."""
    try:
        library = snapshot.library()
    except ContentError as exc:
        raise EditingError("malformed", str(exc)) from None
    report = check_library(library)
    by_id = {r.answer_id: r for r in report.answers}
    answers = []
    for answer_id in edited:
        entry = by_id.get(answer_id)
        if entry is None:
            continue
        answer = library.get(answer_id)
        per_bubble: list[list[Finding]] = [[] for _ in answer.bubbles]
        other: list[Finding] = []
        for finding in entry.findings:
            match = _BUBBLE.search(finding.message)
            index = int(match.group(1)) - 1 if match else -1
            if finding.locale == SOURCE_LOCALE and 0 <= index < len(per_bubble):
                per_bubble[index].append(finding)
            else:
                other.append(finding)
        other += [f for f in report.library if re.search(rf"\b{re.escape(answer_id)}\b", f.message)]
        answers.append(
            AnswerCheck(
                answer_id,
                tuple(BubbleCheck(t, tuple(f)) for t, f in zip(answer.bubbles, per_bubble, strict=True)),
                tuple(other),
                dict(entry.lix),
            )
        )
    stale: dict[str, tuple[str, ...]] = {}
    if published is not None:
        for answer_id in edited:
            if answer_id not in published or answer_id not in library:
                continue
            before = published.get(answer_id)
            after = library.get(answer_id)
            locales = library.catalogs.locales if library.catalogs else ()
            lost = tuple(
                loc
                for loc in locales
                if loc != SOURCE_LOCALE and before.localized(loc)[0] == loc and after.localized(loc)[0] != loc
            )
            if lost:
                stale[answer_id] = lost
    mentioned = {a.answer_id for a in answers}
    general = tuple(
        f for f in report.library if not any(re.search(rf"\b{re.escape(m)}\b", f.message) for m in mentioned)
    )
    return DraftCheck(report, tuple(answers), general, stale)


class Workspace:
    """Drafts, review and publishing. Roles are checked here as well as on the routes."""

    def __init__(self, drafts: DraftStore, versions: ContentVersions, audit: AuditLog, clock: Clock) -> None:
        self._drafts = drafts
        self._versions = versions
        self._audit = audit
        self._clock = clock

    @property
    def versions(self) -> ContentVersions:
        return self._versions

    async def published(self) -> tuple[Version, Snapshot]:
        current = await self._versions.current()
        if current is None:
            raise EditingError("no_version", "no content version is published yet")
        return current

    async def create(self, author: str, answer_ids: Sequence[str]) -> Draft:
        version, snapshot = await self.published()
        library = snapshot.library()
        edits = {}
        for answer_id in answer_ids:
            if answer_id not in library:
                raise EditingError("unknown_answer", f"there is no answer {answer_id!r}")
            edits[answer_id] = answer_edit(library.get(answer_id))
        now = self._clock.now()
        draft = Draft(secrets.token_hex(6), author, version.number, now, now, edits=edits)
        draft.safety = self._safety(draft, snapshot)
        await self._audit.append(author, "content.draft.created", file_id=draft.id)
        if not await self._drafts.save(draft.id, draft.to_json(), None, _ms(now)):
            raise EditingError("conflict", "a draft with this id exists; try again")
        return draft

    async def get(self, draft_id: str) -> Draft:
        raw = await self._drafts.load(draft_id)
        if raw is None:
            raise EditingError("unknown_draft", "this draft does not exist (or was kept past its retention)")
        return Draft.from_json(raw)

    async def drafts(self) -> list[Draft]:
        found = []
        for draft_id in await self._drafts.ids():
            raw = await self._drafts.load(draft_id)
            if raw is not None:
                found.append(Draft.from_json(raw))
        return found

    async def snapshot_of(self, draft: Draft) -> Snapshot:
        """The snapshot the draft would publish: its base with the edited answers."""
        _version, base = await self._versions.version(draft.base)
        return base.with_answers(draft_answers(draft, base))

    async def check(self, draft: Draft) -> DraftCheck:
        _version, base = await self._versions.version(draft.base)
        return check_snapshot(await self.snapshot_of(draft), list(draft.edits), base.library())

    async def check_edit(self, draft: Draft, answer_id: str, edit: AnswerEdit) -> DraftCheck:
        """The gate on an unsaved edit (as the editor types)."""
        trial = replace(draft, edits={**draft.edits, answer_id: edit})
        return await self.check(trial)

    async def save(
        self, draft_id: str, actor: str, answer_id: str, edit: AnswerEdit, revision: int | None = None
    ) -> Draft:
        draft = await self._editable(draft_id, actor)
        if revision is not None and revision != draft.revision:
            raise EditingError("stale_draft", "the draft changed since you opened it; reload and redo")
        _version, base = await self._versions.version(draft.base)
        if answer_id not in draft.edits:
            raise EditingError("unknown_answer", f"there is no answer {answer_id!r} in this draft")
        self._validate(edit, draft, base)
        draft.edits[answer_id] = edit
        draft.safety = self._safety(draft, base)
        draft.status = EDITING
        await self._audit.append(actor, f"content.draft.saved {answer_id}", file_id=draft.id)
        return await self._write(draft)

    async def _editable(self, draft_id: str, actor: str) -> Draft:
        draft = await self.get(draft_id)
        if actor != draft.author:
            raise EditingError("not_author", "only the author edits a draft; send it back with a comment")
        if draft.status not in (EDITING, SENT_BACK):
            raise EditingError("locked", "this draft is under review or published; it cannot be edited now")
        return draft

    async def _draft_for(self, actor: str, draft_id: str | None) -> Draft:
        """The author's draft to add to, or a new empty one against the published version."""
        if draft_id is not None:
            return await self._editable(draft_id, actor)
        version, _snapshot = await self.published()
        now = self._clock.now()
        return Draft(secrets.token_hex(6), actor, version.number, now, now)

    async def _store_new_or_changed(self, draft: Draft, fresh: bool) -> Draft:
        if not fresh:
            return await self._write(draft)
        if not await self._drafts.save(draft.id, draft.to_json(), None, _ms(draft.created)):
            raise EditingError("conflict", "a draft with this id exists; try again")
        return draft

    async def add_answer(self, draft_id: str, actor: str, answer_id: str) -> Draft:
        """Change one more published answer in the draft (e.g. to give it a button to a new answer)."""
        draft = await self._editable(draft_id, actor)
        _version, base = await self._versions.version(draft.base)
        if answer_id not in base.answers or answer_id in draft.deleted:
            raise EditingError("unknown_answer", f"there is no answer {answer_id!r}")
        if answer_id not in draft.edits:
            draft.edits[answer_id] = answer_edit(base.library().get(answer_id))
            draft.status = EDITING
            await self._audit.append(actor, f"content.draft.added {answer_id}", file_id=draft.id)
        return await self._write(draft)

    async def new_answer(
        self,
        actor: str,
        answer_id: str,
        kind: str,
        intent: str | None,
        bubble: str,
        draft_id: str | None = None,
    ) -> Draft:
        """Create an answer (or a canned reply) in a draft: a new draft, or the author's `draft_id`."""
        draft = await self._draft_for(actor, draft_id)
        _version, base = await self._versions.version(draft.base)
        library = base.library()
        answer_id = answer_id.strip()
        if not _ANSWER_ID.fullmatch(answer_id):
            raise EditingError("bad_id", f"{answer_id!r}: lower-case letters, digits and '_'")
        if answer_id in base.answers or answer_id in draft.edits or answer_id in draft.deleted:
            raise EditingError("exists", answer_id)
        if answer_id in INTENTS or answer_id in DIALOGUE_ANSWERS:
            raise EditingError("bad_id", f"{answer_id!r} is an intent's or the dialogue's name")
        if kind not in NEW_KINDS:
            raise EditingError("bad_kind", f"kind {kind!r}: {', '.join(NEW_KINDS)}")
        intent = (intent or "").strip() or None
        if intent is not None:
            if kind != "answer" or intent not in INTENTS:
                raise EditingError("bad_intent", f"{intent!r}")
            if library.for_intent(intent) is not None or any(n.intent == intent for n in draft.new.values()):
                raise EditingError("intent_taken", intent)
        if not bubble.strip():
            raise EditingError("empty_bubble", "every bubble needs text")
        draft.new[answer_id] = NewAnswer(kind, intent)
        draft.edits[answer_id] = AnswerEdit((bubble.strip(),), ())
        draft.safety = self._safety(draft, base)
        draft.status = EDITING
        await self._audit.append(actor, f"content.draft.answer_created {answer_id}", file_id=draft.id)
        return await self._store_new_or_changed(draft, draft_id is None)

    async def delete_answer(self, actor: str, answer_id: str, draft_id: str | None = None) -> Draft:
        """Remove an answer in a draft; refused while the dialogue, an intent or another answer's button
        (in the library the draft would publish) still leads to it."""
        draft = await self._draft_for(actor, draft_id)
        library = (await self.snapshot_of(draft)).library()
        if answer_id not in library:
            raise EditingError("unknown_answer", f"there is no answer {answer_id!r}")
        found = references(library.get(answer_id), library)
        if found is not None:
            await self._audit.append(actor, f"content.draft.delete_refused {answer_id}", file_id=draft.id)
            raise EditingError(*found)
        if answer_id in draft.new:
            del draft.new[answer_id]  # never published: it simply leaves the draft
        else:
            draft.deleted.append(answer_id)
        draft.edits.pop(answer_id, None)
        _version, base = await self._versions.version(draft.base)
        draft.safety = self._safety(draft, base)
        draft.status = EDITING
        await self._audit.append(actor, f"content.draft.answer_deleted {answer_id}", file_id=draft.id)
        return await self._store_new_or_changed(draft, draft_id is None)

    async def submit(self, draft_id: str, actor: str) -> Draft:
        draft = await self.get(draft_id)
        if actor != draft.author:
            raise EditingError("not_author", "only the author submits a draft")
        if draft.status not in (EDITING, SENT_BACK):
            raise EditingError("locked", "this draft is already submitted")
        await self._not_stale(draft)
        result = await self.check(draft)
        if not result.ok:
            raise EditingError("check_failed", _violations_text(result))
        draft.status = SUBMITTED
        draft.reviews = [r for r in draft.reviews if r.verdict == "sent_back"]
        await self._audit.append(actor, "content.draft.submitted", file_id=draft.id)
        return await self._write(draft)

    async def approve(self, draft_id: str, actor: str, role: Role) -> Draft:
        draft = await self.get(draft_id)
        if actor == draft.author:
            raise EditingError("own_draft", "you wrote this draft: another person must review it")
        if draft.status not in (SUBMITTED, APPROVED):
            raise EditingError("not_submitted", "only a submitted draft can be approved")
        if role not in EDITOR_ROLES:
            raise EditingError("role", "editors and supervisors review drafts")
        if any(r.name == actor for r in draft.reviews if r.verdict in ("content", "safety")):
            raise EditingError("already", "you have approved this draft already; a second person signs off")
        if role is Role.SUPERVISOR and draft.safety and not draft.safety_approved:
            verdict = "safety"
        elif not draft.content_approved:
            verdict = "content"
        elif draft.safety and not draft.safety_approved:
            raise EditingError(
                "supervisor", "this change touches a safety-critical answer: a supervisor signs off too"
            )
        else:
            raise EditingError("already", "this draft has every approval it needs")
        await self._audit.append(actor, f"content.draft.approved.{verdict}", file_id=draft.id)
        draft.reviews.append(ReviewStep(actor, role.value, verdict, "", self._clock.now()))
        if draft.content_approved and (draft.safety_approved or not draft.safety):
            draft.status = APPROVED
        return await self._write(draft)

    async def send_back(self, draft_id: str, actor: str, role: Role, comment: str) -> Draft:
        draft = await self.get(draft_id)
        if actor == draft.author:
            raise EditingError("own_draft", "you wrote this draft: another person reviews it")
        if draft.status not in (SUBMITTED, APPROVED):
            raise EditingError("not_submitted", "only a submitted draft can be sent back")
        if not comment.strip():
            raise EditingError("comment", "say what to change: a comment is required")
        await self._audit.append(actor, "content.draft.sent_back", file_id=draft.id)
        draft.reviews = [r for r in draft.reviews if r.verdict == "sent_back"]
        draft.reviews.append(ReviewStep(actor, role.value, "sent_back", comment.strip(), self._clock.now()))
        draft.status = SENT_BACK
        return await self._write(draft)

    async def publish(self, actor: str, draft_ids: Sequence[str] | None = None) -> Version:
        """Publish approved drafts (all of them, or these) as one new version; the gate runs again here."""
        drafts = [d for d in await self.drafts() if d.status == APPROVED and not _waiting(d)]
        if draft_ids is not None:
            wanted = set(draft_ids)
            chosen = [d for d in await self.drafts() if d.id in wanted]
            for d in chosen:
                if d.status != APPROVED:
                    raise EditingError("not_approved", f"draft {d.id} is not approved by its reviewers")
                if _waiting(d):
                    raise EditingError("scheduled", f"draft {d.id} is scheduled; cancel the schedule first")
            drafts = chosen
        if not drafts:
            raise EditingError("nothing", "there is no approved draft to publish")
        return await self._publish_drafts(actor, drafts)

    async def _publish_drafts(self, actor: str, drafts: Sequence[Draft], rebase: bool = False) -> Version:
        """`rebase` (a schedule): a draft whose base is older still publishes on top of the current version
        when none of its answers changed since its base (other answers' changes are kept)."""
        version, current = await self.published()
        changed: dict[str, str | None] = {}
        for draft in drafts:
            if draft.base != version.number and not (rebase and await self._untouched(draft, current)):
                raise EditingError("stale", str(StaleVersion(draft.base, version.number)))
            for answer_id, text in draft_answers(draft, current).items():
                if answer_id in changed:
                    raise EditingError(
                        "overlap", f"two approved drafts change {answer_id!r}; publish one first"
                    )
                changed[answer_id] = text
        snapshot = current.with_answers(changed)
        removed = [a for a, text in changed.items() if text is None and a in current.answers]
        if removed:
            before, after = current.library(), snapshot.library()
            for answer_id in removed:
                found = references(before.get(answer_id), after)
                if found is not None:
                    raise EditingError(*found)
        result = check_snapshot(snapshot, [a for a, t in changed.items() if t is not None], current.library())
        if not result.ok:
            await self._audit.append(actor, "content.publish.refused", file_id=",".join(d.id for d in drafts))
            raise EditingError("check_failed", _violations_text(result))
        await self._audit.append(actor, "content.publish", file_id=",".join(d.id for d in drafts))
        try:
            published = await self._versions.publish(
                snapshot,
                base=version.number,
                author=",".join(dict.fromkeys(d.author for d in drafts)),
                reviewers=tuple(dict.fromkeys(r for d in drafts for r in d.reviewers)),
                note=f"drafts {', '.join(d.id for d in drafts)}; published by {actor}",
            )
        except StaleVersion as exc:
            raise EditingError("stale", str(exc)) from None
        for draft in drafts:
            draft.status = PUBLISHED
            draft.published = published.number
            await self._write(draft)
        return published

    # Scheduled and time-boxed publishing ------------------------------------------------------------

    async def schedule(
        self, draft_id: str, actor: str, role: Role, at: datetime, until: datetime | None = None
    ) -> Draft:
        """Publish an approved draft at `at` (UTC); time-boxed, its answers return at `until`."""
        if role not in EDITOR_ROLES:
            raise EditingError("role", "editors and supervisors schedule drafts")
        draft = await self.get(draft_id)
        if draft.status != APPROVED:
            raise EditingError("not_approved", f"draft {draft.id} is not approved by its reviewers")
        if _waiting(draft):
            raise EditingError("scheduled", "this draft is scheduled already; cancel the schedule first")
        if until is not None and until <= at:
            raise EditingError("bad_time", "the end must be after the start")
        if until is not None and until <= self._clock.now():
            raise EditingError("bad_time", "the end is in the past")
        await self._not_stale(draft)
        result = await self.check(draft)
        if not result.ok:
            await self._audit.append(actor, "content.schedule.refused", file_id=draft.id)
            raise EditingError("check_failed", _violations_text(result))
        await self._audit.append(
            actor,
            f"content.schedule {_ms(at)}" + ("" if until is None else f" until {_ms(until)}"),
            file_id=draft.id,
        )
        draft.schedule = Schedule(at, until, actor)
        return await self._write_scheduled(draft)

    async def cancel_schedule(self, draft_id: str, actor: str, role: Role) -> Draft:
        """Cancel a schedule not yet published, or the revert of a time box that is live."""
        if role not in EDITOR_ROLES:
            raise EditingError("role", "editors and supervisors cancel schedules")
        draft = await self.get(draft_id)
        if draft.schedule is None or draft.schedule.state not in (WAITING, LIVE):
            raise EditingError("not_scheduled", "nothing is waiting in this draft's schedule")
        if draft.schedule.state == WAITING:
            await self._audit.append(actor, "content.schedule.cancelled", file_id=draft.id)
            draft.schedule = replace(draft.schedule, state=CANCELLED, note=actor)
        else:
            await self._audit.append(actor, "content.schedule.revert_cancelled", file_id=draft.id)
            draft.schedule = replace(draft.schedule, state=DONE, note=actor)
        return await self._write_scheduled(draft)

    async def run_due(self) -> list[Draft]:
        """Publish and revert what is due now (the console's tick). Each step is claimed first with the
        draft's compare-and-set and a lease (CLAIM_LEASE), so with several console processes exactly one
        of them does it; a step whose process died mid-way is taken over when its lease has passed, and
        finished exactly once (a publish or revert that already happened is found in the history, not
        repeated)."""
        done = []
        now = self._clock.now()
        for draft_id in await self._drafts.due(_ms(now)):
            try:
                draft = await self.get(draft_id)
            except EditingError:
                await self._drafts.mark_due(draft_id, None)
                continue
            schedule = draft.schedule
            due = None if schedule is None else schedule.due
            if schedule is None or due is None or due > now:
                await self._drafts.mark_due(draft_id, None if due is None else _ms(due))
                continue
            resumed = schedule.state in (PUBLISHING, REVERTING)
            try:
                claim = await self.claim(draft)
            except EditingError:
                continue  # another console process claimed it
            if resumed:
                await self._audit.append(
                    SCHEDULE_AUTHOR, f"content.schedule.resumed {claim}", file_id=draft.id
                )
            try:
                if claim == PUBLISHING:
                    if not (resumed and await self._published_already(draft)):
                        await self._scheduled_publish(draft)
                elif not (resumed and await self._reverted_already(draft)):
                    await self._scheduled_revert(draft)
            except Exception:
                # Not a refusal (those are recorded): Redis failed midway. Release the claim to retry.
                fresh = await self.get(draft.id)
                if fresh.schedule is not None and fresh.schedule.state == claim:
                    fresh.schedule = schedule if not resumed else replace(schedule, lease=now)
                    await self._write(fresh)
                    await self._drafts.mark_due(fresh.id, _due_ms(fresh))
                raise
            await self._drafts.mark_due(draft.id, _due_ms(draft))
            done.append(draft)
        return done

    async def claim(self, draft: Draft) -> str:
        """Claim the draft's due step for this process (the compare-and-set on its revision) with a lease,
        and index it as due again when the lease ends: if this process dies, another one takes it over."""
        assert draft.schedule is not None
        schedule = draft.schedule
        claim = PUBLISHING if schedule.state in (WAITING, PUBLISHING) else REVERTING
        lease = self._clock.now() + CLAIM_LEASE
        draft.schedule = replace(schedule, state=claim, lease=lease)
        await self._write(draft)
        await self._drafts.mark_due(draft.id, _ms(lease))
        return claim

    async def _published_already(self, draft: Draft) -> bool:
        """A taken-over publish: whether the process that died had published the draft already (its
        version names the draft); then only the draft's own record is finished."""
        assert draft.schedule is not None
        for version in await self._versions.history():
            if version.number > draft.base and _names_draft(version.note, draft.id, "drafts "):
                draft.status = PUBLISHED
                draft.published = version.number
                draft.schedule = replace(
                    draft.schedule, state=DONE if draft.schedule.until is None else LIVE, lease=None
                )
                await self._write(draft)
                return True
        return False

    async def _reverted_already(self, draft: Draft) -> bool:
        """A taken-over revert: whether the process that died had published the revert already."""
        assert draft.schedule is not None
        for version in await self._versions.history():
            if version.kind == "revert" and f"end of draft {draft.id}'s time box" in version.note:
                draft.schedule = replace(draft.schedule, state=DONE, reverted=version.number, lease=None)
                await self._write(draft)
                return True
        return False

    async def _scheduled_publish(self, draft: Draft) -> None:
        assert draft.schedule is not None
        schedule = draft.schedule
        draft.schedule = replace(schedule, state=DONE if schedule.until is None else LIVE, lease=None)
        try:
            await self._publish_drafts(f"{SCHEDULE_AUTHOR} ({schedule.by})", [draft], rebase=True)
        except (EditingError, StaleVersion) as exc:
            await self._audit.append(SCHEDULE_AUTHOR, "content.schedule.failed", file_id=draft.id)
            draft.schedule = replace(
                schedule, state=FAILED, note=getattr(exc, "message", str(exc)), lease=None
            )
            await self._write(draft)

    async def _scheduled_revert(self, draft: Draft) -> None:
        """The time box ends: each answer it changed returns to the text before it, as a new version,
        unless someone changed that answer meanwhile (then it is left alone and named as skipped)."""
        assert draft.schedule is not None and draft.published is not None
        schedule = draft.schedule
        published_version, published = await self._versions.version(draft.published)
        _before_version, before = await self._versions.version(published_version.base or 0)
        for _attempt in range(3):
            version, current = await self.published()
            back: dict[str, str | None] = {}
            skipped: list[str] = []
            for answer_id in draft.touched:
                now_text = current.answers.get(answer_id)
                if now_text == published.answers.get(answer_id):
                    back[answer_id] = before.answers.get(answer_id)  # None: a created answer goes again
                elif now_text != before.answers.get(answer_id):
                    skipped.append(answer_id)
            gone = [a for a, text in back.items() if text is None]
            if gone:
                # A created answer goes again only when nothing left after the revert leads to it.
                after = current.with_answers(back).library()
                for answer_id in gone:
                    if references(published.library().get(answer_id), after) is not None:
                        del back[answer_id]
                        skipped.append(answer_id)
            reverted = None
            try:
                if back:
                    await self._audit.append(SCHEDULE_AUTHOR, "content.schedule.reverted", file_id=draft.id)
                    note = f"end of draft {draft.id}'s time box: {', '.join(back)} back as before"
                    if skipped:
                        note += f"; skipped (changed meanwhile): {', '.join(skipped)}"
                    reverted = await self._versions.publish(
                        current.with_answers(back),
                        base=version.number,
                        author=f"{SCHEDULE_AUTHOR} ({schedule.by})",
                        note=note,
                        kind="revert",
                    )
            except StaleVersion:
                continue  # someone published at this very moment: look again
            if skipped:
                await self._audit.append(
                    SCHEDULE_AUTHOR, f"content.schedule.revert_skipped {','.join(skipped)}", file_id=draft.id
                )
            draft.schedule = replace(
                schedule,
                state=DONE,
                reverted=None if reverted is None else reverted.number,
                skipped=tuple(skipped),
                lease=None,
            )
            await self._write(draft)
            return
        draft.schedule = replace(schedule, state=LIVE, lease=None)
        await self._write(draft)  # tried again at the next tick

    async def _untouched(self, draft: Draft, current: Snapshot) -> bool:
        """Whether every answer the draft edits is published now exactly as in the draft's base."""
        try:
            _version, base = await self._versions.version(draft.base)
        except KeyError:
            return False
        return all(current.answers.get(a) == base.answers.get(a) for a in draft.touched)

    async def _write_scheduled(self, draft: Draft) -> Draft:
        written = await self._write(draft)
        await self._drafts.mark_due(draft.id, _due_ms(draft))
        return written

    async def rollback(self, actor: str, role: Role, number: int) -> Version:
        """A supervisor publishes an earlier version's snapshot again, at once (reviewed afterwards)."""
        if role is not Role.SUPERVISOR:
            raise EditingError("role", "only a supervisor rolls back")
        try:
            _old, snapshot = await self._versions.version(number)
        except KeyError as exc:
            raise EditingError("unknown_version", str(exc)) from None
        await self._audit.append(actor, f"content.rollback.to.{number}")
        return await self._versions.publish(
            snapshot,
            base=None,
            author=actor,
            note=f"rollback to version {number}",
            kind="rollback",
            any_base=True,
        )

    async def _not_stale(self, draft: Draft) -> None:
        version, _ = await self.published()
        if draft.base != version.number:
            raise EditingError("stale", str(StaleVersion(draft.base, version.number)))

    async def _write(self, draft: Draft) -> Draft:
        expected = draft.revision
        draft.revision += 1
        draft.updated = self._clock.now()
        if not await self._drafts.save(draft.id, draft.to_json(), expected, _ms(draft.updated)):
            raise EditingError("stale_draft", "someone changed this draft at the same moment; reload it")
        return draft

    def _safety(self, draft: Draft, base: Snapshot) -> bool:
        library = base.library()
        for answer_id in draft.touched:
            edit = draft.edits.get(answer_id)
            before = library.get(answer_id).bubbles if answer_id in library else ()
            if is_safety_critical(answer_id, (*before, *(edit.bubbles if edit else ()))):
                return True
        return False

    def _validate(self, edit: AnswerEdit, draft: Draft, base: Snapshot) -> None:
        if not edit.bubbles or not all(b.strip() for b in edit.bubbles):
            raise EditingError("empty_bubble", "every bubble needs text; remove a bubble you do not want")
        library = base.library()
        answers = (set(base.answers) | set(draft.new)) - set(draft.deleted)
        intents = set(INTENTS) | {a.intent for a in library.answers.values() if a.intent}
        for button in edit.buttons:
            if not button.label.strip():
                raise EditingError("empty_label", "every button needs a label")
            if button.via == "goto" and button.target not in answers:
                raise EditingError(
                    "dangling", f"button {button.label!r}: there is no answer {button.target!r}"
                )
            if button.via == "intent" and button.target not in intents:
                raise EditingError(
                    "dangling", f"button {button.label!r}: there is no intent {button.target!r}"
                )
            if button.via not in ("goto", "intent"):
                raise EditingError("dangling", f"button {button.label!r}: choose an answer or an intent")


def _waiting(draft: Draft) -> bool:
    return draft.schedule is not None and draft.schedule.state in (WAITING, PUBLISHING)


def _names_draft(note: str, draft_id: str, prefix: str) -> bool:
    """Whether a version's note ("drafts a1, b2; published by …") names the draft."""
    head = note.split(";", 1)[0]
    return head.startswith(prefix) and draft_id in head[len(prefix) :].split(", ")


def _due_ms(draft: Draft) -> int | None:
    due = None if draft.schedule is None else draft.schedule.due
    return None if due is None else _ms(due)


def _violations_text(result: DraftCheck) -> str:
    lines = [f"{where}: [{f.rule}] {f.message}" for where, f in result.violations[:10]]
    return "the guideline check fails: " + "; ".join(lines)
