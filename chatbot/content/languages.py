"""Safe-complete languages: the only languages the widget may offer a child (docs/languages.md).

A language is **safe-complete** when a child who picks it is kept safe in it:
- every widget string (buttons, quick exit, the upload panel, notices) has a current translation;
- the answers a child in trouble meets (SAFETY_ANSWERS: welcome, fallback, crisis, crisis_who, the
  unknown-language answer, asking for a person and every hand-off notice) have current translations;
- the crisis check recognises suicide, self-harm and immediate danger written in it.
"Current" is the rule of docs/translation.md: not fuzzy, made from today's Swedish text, same
placeholders. Unreviewed translations count as current (they are served); they are counted so
translators can confirm them.

Swedish is the source and always safe-complete when the crisis check knows it. The widget's menu, the
negotiation of Accept-Language and `set_locale` use only safe-complete languages; `content check` fails
when a language the deployment offers is not one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from chatbot.content.catalogs import SOURCE_LOCALE, normalize
from chatbot.content.library import ContentLibrary
from chatbot.nlu.crisis import CRISIS_LANGUAGES

# The answers a child in trouble or in a hand-off sees; without them in the child's language the
# widget must not offer it. Every answer of kind "notice" (the hand-off notices) is added by
# safety_answers().
SAFETY_ANSWERS = (
    "welcome",
    "fallback",
    "crisis",
    "crisis_who",
    "language_unknown",
    "ask_human",
    "handoff_closed",
    "upload_offer",
    "upload_help",
)


@dataclass(frozen=True)
class WidgetStatus:
    """What the widget catalog of one language lacks: keys shown in Swedish, and unreviewed keys."""

    missing: tuple[str, ...] = ()
    unreviewed: tuple[str, ...] = ()


@dataclass(frozen=True)
class LanguageStatus:
    """One language, measured against the safe-complete definition."""

    locale: str
    widget: WidgetStatus | None
    """None: the language has no widget catalog at all."""
    answers_missing: tuple[str, ...]
    """Safety answers without a current translation of every string."""
    crisis_check: bool
    library_translated: int
    library_total: int
    unreviewed_answers: tuple[str, ...] = field(default=())
    """Answers with at least one current translation that no person has reviewed."""

    @property
    def safe_complete(self) -> bool:
        return (
            self.widget is not None
            and not self.widget.missing
            and not self.answers_missing
            and self.crisis_check
        )

    def problems(self) -> list[str]:
        """Why the language is not safe-complete, one line each (empty when it is)."""
        found = []
        if self.widget is None:
            found.append("no widget catalog")
        elif self.widget.missing:
            found.append(f"widget strings not current: {_few(self.widget.missing)}")
        if self.answers_missing:
            found.append(f"answers not current: {_few(self.answers_missing)}")
        if not self.crisis_check:
            found.append("the crisis check does not know this language")
        return found

    def summary(self) -> str:
        """One line for `content check`: status, coverage and the review backlog."""
        status = "safe-complete" if self.safe_complete else "NOT safe-complete"
        unreviewed_widget = len(self.widget.unreviewed) if self.widget else 0
        line = (
            f"{self.locale}: {status}; answers {self.library_translated}/{self.library_total} current; "
            f"unreviewed: {len(self.unreviewed_answers)} answers, {unreviewed_widget} widget strings"
        )
        problems = self.problems()
        return line + ("" if not problems else " — " + "; ".join(problems))


def safety_answers(library: ContentLibrary) -> tuple[str, ...]:
    """SAFETY_ANSWERS that exist, plus every hand-off notice, sorted."""
    notices = {a.id for a in library.answers.values() if a.kind == "notice"}
    return tuple(sorted({name for name in SAFETY_ANSWERS if name in library} | notices))


def language_status(
    locale: str,
    library: ContentLibrary,
    widget: WidgetStatus | None,
    crisis_languages: Collection[str] = CRISIS_LANGUAGES,
) -> LanguageStatus:
    locale = normalize(locale)
    crisis = locale.split("_")[0] in crisis_languages
    total = len(library.answers)
    if locale == SOURCE_LOCALE:
        return LanguageStatus(locale, widget, (), crisis, total, total)
    current = {answer_id: _current(library, answer_id, locale) for answer_id in library.answers}
    missing = tuple(name for name in safety_answers(library) if not current[name])
    unreviewed: tuple[str, ...] = ()
    if library.catalogs is not None:
        sources = {m.context: m.text for a in library.answers.values() for m in a.messages()}
        contexts = library.catalogs.unreviewed(locale, sources)
        unreviewed = tuple(sorted({c.split(":", 1)[0] for c in contexts}))
    return LanguageStatus(
        locale, widget, missing, crisis, sum(current.values()), total, unreviewed_answers=unreviewed
    )


def safe_complete(statuses: Iterable[LanguageStatus]) -> tuple[str, ...]:
    """The safe-complete locales among `statuses`, Swedish first."""
    found = [s.locale for s in statuses if s.safe_complete]
    return tuple(sorted(found, key=lambda code: (code != SOURCE_LOCALE, code)))


def _current(library: ContentLibrary, answer_id: str, locale: str) -> bool:
    """Every string of the answer has a current translation in exactly `locale` (no fallback)."""
    answer = library.get(answer_id)
    if library.catalogs is None:
        return False
    return all(library.catalogs.lookup(locale, m.context, m.text) is not None for m in answer.messages())


def _few(names: tuple[str, ...], limit: int = 5) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
