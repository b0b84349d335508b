"""Overrules of the guideline gate: a warning a person accepts as fine, or a sentence the gate let pass that a
person reports as breaking a rule. Each is audited, stored, shown to the reviewer, and exported into the bank
(content/guidelines/bank/overrules.yml) that the tests run and the classifier learns from. A violation from a
pattern is never overruled here: publishing stays refused until the text changes."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from chatbot.clock import Clock
from chatbot.content.catalogs import SOURCE_LOCALE
from chatbot.content.guidelines.findings import Finding, Level
from chatbot.content.guidelines.rules import check_sentence
from chatbot.content.wording import split_sentences
from chatbot.content.wording_bank import RULES
from chatbot.store.audit import AuditLog
from console.domain.accounts import Role
from console.domain.editing import EDITOR_ROLES, EditingError, Workspace
from console.store.overrules import OverruleStore

ACCEPTED = "accepted"
"""A warning accepted as fine for its rule: the sentence joins the bank as clean."""
MISSED = "missed"
"""A sentence the gate let pass, reported as breaking a rule: it joins the bank as a violation."""

REASON_MAX = 300

BANK_HEADER = """\
# Overrules of the guideline gate, written by `python -m console content-overrules` from the editors'
# workspace (docs/content.md, "The bank"). Per language and rule: `clean` holds warnings a person accepted as
# fine, `violations` sentences the gate let pass that a person reported. Each keeps its reason and who gave
# it. wording_bank.load_bank reads this file as part of the bank: the tests run every line, the classifier
# learns from them. A line the tests fail on is where the patterns must learn from the person (or where a
# developer disagrees: then remove it, and say why in the commit).
"""


class OverruleRefused(EditingError):
    """An overrule the gate does not allow (a blocking violation, no warning to accept, ...)."""


@dataclass(frozen=True)
class Overrule:
    id: str
    kind: str
    rule: str
    language: str
    sentence: str
    reason: str
    by: str
    role: str
    draft: str
    answer: str
    at: datetime

    @property
    def label(self) -> str:
        return "clean" if self.kind == ACCEPTED else "violations"

    def to_json(self) -> str:
        data = asdict(self)
        data["at"] = int(self.at.timestamp() * 1000)
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Overrule:
        data = json.loads(raw)
        data["at"] = datetime.fromtimestamp(int(data["at"]) / 1000, UTC)
        return cls(**data)


def rule_findings(sentence: str, rule: str, language: str = SOURCE_LOCALE) -> list[Finding]:
    """What the gate says about one sentence for one wording rule (the check the draft page runs)."""
    return [f for f in check_sentence(sentence, language) if f.rule == rule]


class Overrules:
    """Accepting warnings and reporting misses in a draft; roles are checked here as well as on the route."""

    def __init__(self, store: OverruleStore, workspace: Workspace, audit: AuditLog, clock: Clock) -> None:
        self._store = store
        self._workspace = workspace
        self._audit = audit
        self._clock = clock

    async def accept(
        self, draft_id: str, actor: str, role: Role, answer_id: str, sentence: str, rule: str, reason: str
    ) -> Overrule:
        """Mark a warned sentence fine for `rule`. Refused for a violation: that one blocks publishing."""
        sentence = await self._sentence_of(draft_id, answer_id, sentence, rule, reason, role)
        found = rule_findings(sentence, rule)
        if any(f.level is Level.VIOLATION for f in found):
            await self._audit.append(actor, f"content.overrule.refused {rule}", file_id=draft_id)
            raise OverruleRefused(
                "blocking", f"{sentence!r} breaks the {rule} rule: a violation cannot be accepted, change it"
            )
        if not found:
            raise OverruleRefused("no_warning", f"the gate does not warn about {sentence!r} for {rule}")
        return await self._add(ACCEPTED, draft_id, actor, role, answer_id, sentence, rule, reason)

    async def report(
        self, draft_id: str, actor: str, role: Role, answer_id: str, sentence: str, rule: str, reason: str
    ) -> Overrule:
        """Report that the gate let a sentence pass that breaks `rule` (or only warned about it)."""
        sentence = await self._sentence_of(draft_id, answer_id, sentence, rule, reason, role)
        if any(f.level is Level.VIOLATION for f in rule_findings(sentence, rule)):
            raise OverruleRefused("flagged", f"the gate already refuses {sentence!r} for {rule}")
        return await self._add(MISSED, draft_id, actor, role, answer_id, sentence, rule, reason)

    async def all(self) -> list[Overrule]:
        found = [Overrule.from_json(raw) for raw in await self._store.all()]
        return sorted(found, key=lambda o: (o.at, o.id))

    async def of_draft(self, draft_id: str) -> list[Overrule]:
        return [o for o in await self.all() if o.draft == draft_id]

    async def _sentence_of(
        self, draft_id: str, answer_id: str, sentence: str, rule: str, reason: str, role: Role
    ) -> str:
        if role not in EDITOR_ROLES:
            raise OverruleRefused("role", "editors and supervisors overrule the gate")
        if rule not in RULES:
            raise OverruleRefused("unknown_rule", f"there is no wording rule {rule!r}")
        if not reason.strip() or len(reason) > REASON_MAX:
            raise OverruleRefused("reason", f"give a short reason (at most {REASON_MAX} characters)")
        draft = await self._workspace.get(draft_id)
        edit = draft.edits.get(answer_id)
        wanted = " ".join(sentence.split())
        sentences = [] if edit is None else [s for b in edit.bubbles for s in split_sentences(b)]
        if wanted not in [" ".join(s.split()) for s in sentences]:
            raise OverruleRefused(
                "not_in_draft", f"{sentence!r} is not a sentence of {answer_id} in this draft"
            )
        return wanted

    async def _add(
        self,
        kind: str,
        draft_id: str,
        actor: str,
        role: Role,
        answer_id: str,
        sentence: str,
        rule: str,
        reason: str,
    ) -> Overrule:
        overrule = Overrule(
            secrets.token_hex(6),
            kind,
            rule,
            SOURCE_LOCALE,
            sentence,
            " ".join(reason.split()),
            actor,
            role.value,
            draft_id,
            answer_id,
            self._clock.now(),
        )
        await self._audit.append(actor, f"content.overrule.{kind} {rule} {overrule.id}", file_id=draft_id)
        await self._store.add(overrule.id, overrule.to_json())
        return overrule


def bank_document(overrules: Iterable[Overrule], existing: str | None = None) -> tuple[str, int]:
    """overrules.yml with `overrules` merged into what the file holds (by id): its text and how many are new."""
    data: dict[str, Any] = yaml.safe_load(existing or "") or {}
    entries: dict[str, tuple[str, str, str, dict[str, str]]] = {}
    for language, rules in data.items():
        for rule, groups in (rules or {}).items():
            for label, items in (groups or {}).items():
                for item in items or ():
                    entries[str(item["id"])] = (str(language), str(rule), str(label), dict(item))
    new = 0
    for o in overrules:
        if o.id in entries:
            continue
        new += 1
        entries[o.id] = (
            o.language,
            o.rule,
            o.label,
            {
                "sentence": o.sentence,
                "reason": o.reason,
                "by": f"{o.by} ({o.role})",
                "on": o.at.date().isoformat(),
                "id": o.id,
            },
        )
    out: dict[str, dict[str, dict[str, list[dict[str, str]]]]] = {}
    for language, rule, label, item in sorted(entries.values(), key=_order):
        out.setdefault(language, {}).setdefault(rule, {}).setdefault(label, []).append(item)
    body = yaml.safe_dump(out, allow_unicode=True, sort_keys=False, width=1000) if out else "{}\n"
    return BANK_HEADER + body, new


def _order(entry: tuple[str, str, str, Mapping[str, str]]) -> tuple[int, int, int, str, str]:
    language, rule, label, item = entry
    languages = ("sv", "en", "ar")
    return (
        languages.index(language) if language in languages else len(languages),
        RULES.index(rule) if rule in RULES else len(RULES),
        0 if label == "violations" else 1,
        str(item.get("on", "")),
        str(item.get("id", "")),
    )


def write_bank(overrules: Iterable[Overrule], path: Path) -> int:
    """Merge `overrules` into the bank file at `path`; returns how many were new there."""
    existing = path.read_text(encoding="utf-8") if path.exists() else None
    text, new = bank_document(overrules, existing)
    path.write_text(text, encoding="utf-8")
    return new
