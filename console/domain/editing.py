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
from datetime import UTC, datetime
from typing import Any

import yaml

from chatbot.clock import Clock
from chatbot.content.catalogs import SOURCE_LOCALE
from chatbot.content.guidelines.contract import INTENTS
from chatbot.content.guidelines.findings import Finding, Level
from chatbot.content.guidelines.report import Report, check_library
from chatbot.content.library import Answer, ContentError, ContentLibrary
from chatbot.domain.content_versions import ContentVersions, Snapshot, StaleVersion, Version
from chatbot.upload.audit import AuditLog
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
class ReviewStep:
    name: str
    role: str
    verdict: str
    """'content' or 'safety' (an approval), or 'sent_back'."""
    comment: str
    at: datetime


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
        return base.with_answers(
            {a: render_answer(base.answers[a], e) for a, e in draft.edits.items() if a in base.answers}
        )

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
        draft = await self.get(draft_id)
        if actor != draft.author:
            raise EditingError("not_author", "only the author edits a draft; send it back with a comment")
        if draft.status not in (EDITING, SENT_BACK):
            raise EditingError("locked", "this draft is under review or published; it cannot be edited now")
        if revision is not None and revision != draft.revision:
            raise EditingError("stale_draft", "the draft changed since you opened it; reload and redo")
        _version, base = await self._versions.version(draft.base)
        if answer_id not in base.answers:
            raise EditingError("unknown_answer", f"there is no answer {answer_id!r}")
        self._validate(edit, base.library())
        draft.edits[answer_id] = edit
        draft.safety = self._safety(draft, base)
        draft.status = EDITING
        await self._audit.append(actor, f"content.draft.saved {answer_id}", file_id=draft.id)
        return await self._write(draft)

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
        version, current = await self.published()
        drafts = [d for d in await self.drafts() if d.status == APPROVED]
        if draft_ids is not None:
            wanted = set(draft_ids)
            chosen = [d for d in await self.drafts() if d.id in wanted]
            for d in chosen:
                if d.status != APPROVED:
                    raise EditingError("not_approved", f"draft {d.id} is not approved by its reviewers")
            drafts = chosen
        if not drafts:
            raise EditingError("nothing", "there is no approved draft to publish")
        changed: dict[str, str] = {}
        for draft in drafts:
            if draft.base != version.number:
                raise EditingError("stale", str(StaleVersion(draft.base, version.number)))
            for answer_id, edit in draft.edits.items():
                if answer_id in changed:
                    raise EditingError(
                        "overlap", f"two approved drafts change {answer_id!r}; publish one first"
                    )
                changed[answer_id] = render_answer(current.answers[answer_id], edit)
        snapshot = current.with_answers(changed)
        result = check_snapshot(snapshot, list(changed), current.library())
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
        for answer_id, edit in draft.edits.items():
            before = library.get(answer_id).bubbles if answer_id in library else ()
            if is_safety_critical(answer_id, (*before, *edit.bubbles)):
                return True
        return False

    def _validate(self, edit: AnswerEdit, library: ContentLibrary) -> None:
        if not edit.bubbles or not all(b.strip() for b in edit.bubbles):
            raise EditingError("empty_bubble", "every bubble needs text; remove a bubble you do not want")
        intents = set(INTENTS) | {a.intent for a in library.answers.values() if a.intent}
        for button in edit.buttons:
            if not button.label.strip():
                raise EditingError("empty_label", "every button needs a label")
            if button.via == "goto" and button.target not in library:
                raise EditingError(
                    "dangling", f"button {button.label!r}: there is no answer {button.target!r}"
                )
            if button.via == "intent" and button.target not in intents:
                raise EditingError(
                    "dangling", f"button {button.label!r}: there is no intent {button.target!r}"
                )
            if button.via not in ("goto", "intent"):
                raise EditingError("dangling", f"button {button.label!r}: choose an answer or an intent")


def _violations_text(result: DraftCheck) -> str:
    lines = [f"{where}: [{f.rule}] {f.message}" for where, f in result.violations[:10]]
    return "the guideline check fails: " + "; ".join(lines)
