"""The answers as a graph of buttons: where each button leads, taps from the start, and the library checks
over it (every intent answered, no dead or ambiguous link, nothing unreachable, takedown within two taps)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from chatbot.content.guidelines.contract import (
    FAST_ANSWERS,
    FAST_INTENTS,
    INTENTS,
    MAX_TAPS,
    REQUIRED_ANSWERS,
    START,
)
from chatbot.content.guidelines.findings import T_, Finding, Level, braced, finding, words
from chatbot.content.library import Answer, Button, ContentLibrary


def button_targets(answer: Answer, library: ContentLibrary) -> list[tuple[Button, str | None]]:
    """Each button with the answer id it leads to (an intent button leads to the intent's answer),
    or None for a dead link."""
    pairs: list[tuple[Button, str | None]] = []
    for button in answer.buttons:
        target = (
            library.for_intent(button.name) if button.via == "intent" else library.answers.get(button.name)
        )
        pairs.append((button, target.id if target is not None else None))
    return pairs


def edges(answer: Answer, library: ContentLibrary) -> list[str]:
    """The answer ids the buttons of `answer` lead to."""
    return [target for _, target in button_targets(answer, library) if target is not None]


def taps_from(start: str, library: ContentLibrary) -> dict[str, int]:
    """Breadth-first search: the fewest taps from `start` to every answer it can reach."""
    if start not in library:
        return {}
    distance = {start: 0}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for target in edges(library.get(current), library):
            if target not in distance:
                distance[target] = distance[current] + 1
                queue.append(target)
    return distance


def check_graph(library: ContentLibrary, intents: Iterable[str] = INTENTS) -> list[Finding]:
    known = tuple(intents)
    found: list[Finding] = []

    def add(rule: str, template: str, **values: str | int) -> None:
        found.append(finding(Level.VIOLATION, rule, words(template, **values)))

    for intent in known:
        if library.for_intent(intent) is None:
            add("intents", T_("intent %(intent)s has no answer"), intent=repr(intent))
    for answer in library.answers.values():
        if answer.intent is not None and answer.intent not in known:
            add(
                "intents",
                T_("answer %(answer)s answers %(intent)s, which is not an intent"),
                answer=repr(answer.id),
                intent=repr(answer.intent),
            )
        if answer.id in known and answer.intent != answer.id:
            add(
                "links",
                T_("answer id %(answer)s is also an intent name, so the payload /%(id)s is ambiguous"),
                answer=repr(answer.id),
                id=answer.id,
            )
        for button in answer.buttons:
            if button.via == "goto" and button.name not in library:
                add(
                    "links",
                    T_("%(id)s: button %(label)s goes to %(target)s, which does not exist"),
                    id=answer.id,
                    label=repr(button.label),
                    target=repr(button.name),
                )
            if button.via == "intent" and button.name not in known:
                add(
                    "links",
                    T_("%(id)s: button %(label)s names %(target)s, which is not an intent"),
                    id=answer.id,
                    label=repr(button.label),
                    target=repr(button.name),
                )
    for answer_id, placeholders in REQUIRED_ANSWERS.items():
        if answer_id not in library:
            add("required", T_("the dialogue needs an answer %(answer)s"), answer=repr(answer_id))
        elif set(library.get(answer_id).placeholders) != set(placeholders):
            if placeholders:
                add(
                    "required",
                    T_("%(answer)s must take exactly %(names)s"),
                    answer=repr(answer_id),
                    names=braced(placeholders),
                )
            else:
                add("required", T_("%(answer)s must take exactly no placeholders"), answer=repr(answer_id))
    crisis = library.for_intent("crisis")
    if crisis is not None and crisis.id != "crisis":
        add(
            "required",
            T_("the crisis intent's answer must have the id 'crisis' so the bot can show it in any state"),
        )

    # Reachability: a child enters at the welcome, at any dialogue answer, or by writing (intents).
    entries = {a.id for a in library.answers.values() if a.kind != "answer" or a.intent}
    reached: set[str] = set()
    for entry in entries:
        reached |= set(taps_from(entry, library))
    for answer in library.answers.values():
        if answer.id not in reached:
            add(
                "links",
                T_("answer %(answer)s is unreachable: no button or intent leads to it"),
                answer=repr(answer.id),
            )

    # Guideline 5: getting material removed is at most two taps from the start.
    taps = taps_from(START, library)
    targets: list[tuple[Answer, str]] = []
    for intent in FAST_INTENTS:
        fast = library.for_intent(intent)
        if fast is not None:
            targets.append((fast, intent))
    targets += [(library.answers[name], "") for name in FAST_ANSWERS if name in library]
    for target, why in targets:
        if taps.get(target.id, MAX_TAPS + 1) > MAX_TAPS:
            if why:
                add(
                    "fast_takedown",
                    T_("%(answer)s (%(intent)s) is more than %(taps)s taps from %(start)s"),
                    answer=repr(target.id),
                    intent=why,
                    taps=MAX_TAPS,
                    start=repr(START),
                )
            else:
                add(
                    "fast_takedown",
                    T_("%(answer)s is more than %(taps)s taps from %(start)s"),
                    answer=repr(target.id),
                    taps=MAX_TAPS,
                    start=repr(START),
                )
    return found
