"""The whole check: every rule over every answer in every language, the library checks, and the report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from chatbot.content.catalogs import SOURCE_LOCALE
from chatbot.content.guidelines import findings as said
from chatbot.content.guidelines.contract import INTENTS, LIMITS, Limits
from chatbot.content.guidelines.findings import T_, Finding, Level
from chatbot.content.guidelines.graph import check_graph
from chatbot.content.guidelines.readability import end_bubble, lix
from chatbot.content.guidelines.rules import ANSWER_RULES, Text
from chatbot.content.guidelines.translations import translation_findings
from chatbot.content.library import ContentLibrary


@dataclass
class AnswerReport:
    answer_id: str
    kind: str
    source: str
    lix: dict[str, float] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def status(self) -> str:
        if any(f.level is Level.VIOLATION for f in self.findings):
            return "violations"
        return "warnings" if self.findings else "ok"


@dataclass
class Report:
    answers: list[AnswerReport]
    library: list[Finding]

    @property
    def violations(self) -> list[tuple[str, Finding]]:
        found = [("(library)", f) for f in self.library if f.level is Level.VIOLATION]
        for entry in self.answers:
            found += [(entry.answer_id, f) for f in entry.findings if f.level is Level.VIOLATION]
        return found

    @property
    def ok(self) -> bool:
        return not self.violations


def check_library(
    library: ContentLibrary,
    *,
    intents: Iterable[str] = INTENTS,
    require_complete: Iterable[str] = (),
    limits: Limits = LIMITS,
) -> Report:
    required = set(require_complete)
    locales = list(library.catalogs.locales) if library.catalogs else []
    for locale in required:
        if locale not in locales:
            locales.append(locale)
    reports = []
    for answer in sorted(library.answers.values(), key=lambda a: a.id):
        entry = AnswerReport(answer.id, answer.kind, str(answer.source))
        texts = [Text(SOURCE_LOCALE, answer.bubbles, tuple(b.label for b in answer.buttons))]
        for locale in locales:
            if locale == SOURCE_LOCALE:
                continue
            if library.catalogs is None:
                entry.findings.append(
                    said.finding(Level.VIOLATION, "translation", said.words(T_("no catalogs loaded")), locale)
                )
                continue
            text, found = translation_findings(answer, locale, locale in required)
            entry.findings += found
            if text is not None:
                texts.append(text)
        for text in texts:
            entry.lix[text.locale] = lix(" ".join(end_bubble(b) for b in text.bubbles))
            for rule in ANSWER_RULES:
                entry.findings += rule(answer, text, library, limits)
        reports.append(entry)
    return Report(reports, check_graph(library, intents))


def format_report(report: Report, *, verbose: bool = True) -> str:
    lines = []
    for entry in report.answers:
        scores = " ".join(f"LIX {loc} {score:.0f}" for loc, score in entry.lix.items())
        mark = {"ok": "ok  ", "warnings": "warn", "violations": "FAIL"}[entry.status]
        if verbose or entry.findings:
            lines.append(f"{mark} {entry.answer_id} ({entry.kind}; {scores})")
        for finding in entry.findings:
            sign = "✗" if finding.level is Level.VIOLATION else "!"
            lines.append(f"       {sign} [{finding.rule}] {finding.locale}: {finding.message}")
    if report.library:
        lines.append("library:")
        for finding in report.library:
            sign = "✗" if finding.level is Level.VIOLATION else "!"
            lines.append(f"       {sign} [{finding.rule}] {finding.message}")
    counts = {
        status: sum(1 for e in report.answers if e.status == status)
        for status in ("ok", "warnings", "violations")
    }
    library_violations = sum(1 for f in report.library if f.level is Level.VIOLATION)
    lines.append(
        f"{len(report.answers)} answers: {counts['ok']} ok, {counts['warnings']} with warnings, "
        f"{counts['violations']} with violations; {library_violations} library violation(s). "
        + ("PASSED" if report.ok else "FAILED")
    )
    return "\n".join(lines)
