"""The preview's graph: what each tap shows by the dialogue's rules, the line open or closed, per language."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from chatbot.content.library import ContentLibrary
from chatbot.domain.content_versions import Snapshot
from chatbot.domain.hours import OpeningHours
from chatbot.settings import PROJECT_ROOT
from console.domain import preview

HOURS = OpeningHours.parse("mon-fri 09:00-16:00")
OPEN = preview.Line(HOURS, datetime(2026, 12, 2, 10, 0, tzinfo=UTC), 7)  # a Wednesday, 11:00 in Stockholm
CLOSED = replace(OPEN, now=datetime(2026, 12, 5, 10, 0, tzinfo=UTC))  # a Saturday


def library() -> ContentLibrary:
    return Snapshot.from_repository(PROJECT_ROOT / "content", PROJECT_ROOT / "locales").library()


def texts(bubbles: list[dict[str, object]]) -> list[object]:
    return [b["text"] for b in bubbles]


def test_every_button_of_the_library_is_a_tap_and_the_start_is_the_welcome() -> None:
    lib = library()
    found = preview.graph(lib, "sv", OPEN)
    assert texts(found["start"]) == list(lib.get("welcome").bubbles)
    targets = {b.target for a in lib.answers.values() for b in a.buttons}
    assert targets <= set(found["taps"])
    assert texts(found["taps"]["/takedown_help"]) == list(lib.get("takedown_help").bubbles)
    assert found["taps"]["/takedown_help"][-1]["quick_replies"][1]["payload"] == "/takedown_snapchat"
    assert texts(found["fallback"]) == list(lib.get("fallback").bubbles)


def test_a_person_and_the_crisis_answer_follow_the_hours() -> None:
    lib = library()
    opened = preview.graph(lib, "sv", OPEN)["taps"]
    closed = preview.graph(lib, "sv", CLOSED)["taps"]
    assert {b["answer"] for b in opened["/ask_human"]} == {"ask_human"}
    assert {b["answer"] for b in closed["/ask_human"]} == {"handoff_closed"}
    assert {b["answer"] for b in closed["/crisis"]} == {"crisis_closed"}
    queued = opened["/handoff_queued"]
    assert queued[0]["notice"] == {"type": "handoff_queued", "position": 1, "wait": preview.SAMPLE_WAIT}
    assert queued[-1]["answer"] == "transcript_consent"
    # Closed: the next opening is written out in the child's language, never left empty.
    assert all("{" not in str(t) and "  " not in str(t) for t in texts(closed["/ask_human"]))


def test_a_stale_translation_falls_back_to_swedish_for_the_whole_answer() -> None:
    snapshot = Snapshot.from_repository(PROJECT_ROOT / "content", PROJECT_ROOT / "locales")
    english = preview.graph(snapshot.library(), "en", OPEN)["taps"]["/takedown_help"]
    assert {b["lang"] for b in english} == {"en"}
    edited = snapshot.answers["takedown_help"].replace("Bra att du hör av dig.", "Bra att du skriver.")
    changed = snapshot.with_answers({"takedown_help": edited}).library()
    shown = preview.graph(changed, "en", OPEN)["taps"]["/takedown_help"]
    assert {b["lang"] for b in shown} == {"sv"}
    assert str(shown[0]["text"]).startswith("Bra att du skriver.")
