"""The guideline check: the real content passes, and every rule catches a crafted bad answer."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chatbot.cli import main
from chatbot.content.catalog_tools import write_catalog
from chatbot.content.catalogs import read_catalog
from chatbot.content.guidelines.contract import INTENTS
from chatbot.content.guidelines.findings import Level
from chatbot.content.guidelines.graph import taps_from
from chatbot.content.guidelines.readability import lix, sentences, words
from chatbot.content.guidelines.report import Report, check_library
from chatbot.content.library import ContentLibrary
from chatbot.nlu.data import load_project
from chatbot.settings import PROJECT_ROOT

CONTENT = PROJECT_ROOT / "content"
LOCALES = PROJECT_ROOT / "locales"
EN_PO = Path("en/LC_MESSAGES/content.po")


class Copy:
    """A private copy of the real answers and catalogs, changed one thing at a time."""

    def __init__(self, root: Path) -> None:
        self.content, self.locales = root / "content", root / "locales"
        shutil.copytree(CONTENT / "answers", self.content / "answers")
        shutil.copytree(LOCALES, self.locales)

    def path(self, answer_id: str) -> Path:
        return self.content / "answers" / f"{answer_id}.yml"

    def replace(self, answer_id: str, old: str, new: str) -> None:
        text = self.path(answer_id).read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {answer_id}"
        self.path(answer_id).write_text(text.replace(old, new), encoding="utf-8")

    def write(self, answer_id: str, body: str) -> None:
        self.path(answer_id).write_text(body, encoding="utf-8")

    def translate(self, context: str, msgstr: str) -> None:
        catalog = read_catalog(self.locales / EN_PO)
        hits = [m for m in catalog if m.context == context]
        assert hits, context
        hits[0].string = msgstr
        write_catalog(self.locales / EN_PO, catalog)

    def check(self, *, require: tuple[str, ...] = ("en",)) -> Report:
        return check_library(ContentLibrary.load(self.content, self.locales), require_complete=require)


@pytest.fixture
def copy(tmp_path: Path) -> Copy:
    return Copy(tmp_path)


def violations(
    report: Report, rule: str, answer_id: str = "(library)", locale: str | None = None
) -> list[str]:
    return [
        f.message
        for where, f in report.violations
        if f.rule == rule and where == answer_id and (locale is None or f.locale == locale)
    ]


def warnings(report: Report, rule: str, answer_id: str) -> list[str]:
    entry = next(e for e in report.answers if e.answer_id == answer_id)
    return [f.message for f in entry.findings if f.rule == rule and f.level is Level.WARNING]


# --- the real content -------------------------------------------------------------------------------------


def test_real_content_passes_every_rule_in_swedish_and_english() -> None:
    report = check_library(ContentLibrary.load(CONTENT, LOCALES), require_complete=["en"])
    assert report.violations == []
    assert report.ok
    assert {e.answer_id for e in report.answers} >= {
        "welcome",
        "crisis",
        "handoff_queued",
        "takedown_snapchat",
    }
    assert all(e.lix["sv"] <= 40 and e.lix["en"] <= 40 for e in report.answers)


def test_the_copy_starts_clean(copy: Copy) -> None:
    """The baseline for every crafted case below: an unchanged copy has no violations."""
    assert copy.check().ok


def test_removal_is_at_most_two_taps_from_the_start() -> None:
    library = ContentLibrary.load(CONTENT)
    taps = taps_from("welcome", library)
    assert taps["takedown_help"] == 1
    assert taps["upload_start"] == 2  # the button that opens the encrypted upload panel


# --- readability (guideline 4) ----------------------------------------------------------------------------


def test_lix_and_counting() -> None:
    assert words("Du är nummer {position} i kön.") == ["Du", "är", "nummer", "X", "i", "kön."]
    assert len(sentences("Hej! Vad vill du? Välj här.\nEller skriv")) == 4
    # 6 words, 1 sentence, 0 long words -> 6; 4 words, 1 sentence, 4 long -> 4 + 100.
    assert lix("Det är inte ditt fel.") == pytest.approx(5.0)
    assert lix("Polisanmälningar, myndighetsutövning, rättsväsendet, barnkonventionen.") == pytest.approx(
        104.0
    )


def test_hard_words_fail_lix(copy: Copy) -> None:
    copy.replace(
        "greet", "Hej! Vad bra att du skriver.", "Organisationens stödverksamhet erbjuder rådgivning."
    )
    copy.replace(
        "greet",
        "Du är anonym här. Vad vill du prata om? Välj här eller skriv med egna ord.",
        "Kommunikationen är konfidentiell. Formulera frågeställningen alternativt välj kategori.",
    )
    assert any(m.startswith("LIX") for m in violations(copy.check(), "readability", "greet", "sv"))


def test_long_bubble_and_long_sentence_fail(copy: Copy) -> None:
    long_sentence = " ".join(["ord"] * 22) + "."
    copy.replace("greet", "Hej! Vad bra att du skriver.", long_sentence)
    found = violations(copy.check(), "readability", "greet")
    assert any("a sentence of 22 words" in m for m in found)
    copy.replace("greet", long_sentence, " ".join(["Hej du."] * 19))
    assert any("has 38 words" in m for m in violations(copy.check(), "readability", "greet"))


def test_english_readability_is_checked_too(copy: Copy) -> None:
    copy.translate("greet:bubble:0", "Welcome! Organisational counselling infrastructure.")
    copy.translate(
        "greet:bubble:1", "Communication is confidential. Formulate questions, alternatively categories."
    )
    assert violations(copy.check(), "readability", "greet", "en")


def test_long_button_label_fails(copy: Copy) -> None:
    copy.replace(
        "greet",
        "label: Tips för att vara säker",
        "label: Här finns alla våra bästa tips om hur du är säker på nätet",
    )
    assert any("longer than 40" in m for m in violations(copy.check(require=()), "readability", "greet"))


# --- blame and responsibility (guideline 1) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "phrase", ["Varför skickade du bilden?", "Du borde inte ha skickat den.", "Det var dumt gjort."]
)
def test_blaming_words_fail(copy: Copy, phrase: str) -> None:
    copy.replace("evidence", "Bevis kan hjälpa om du vill anmäla eller få bort något.", phrase)
    assert violations(copy.check(require=()), "blame", "evidence", "sv")


def test_blaming_translation_fails(copy: Copy) -> None:
    copy.translate("evidence:bubble:0", "You shouldn't have sent it, but evidence can help.")
    assert violations(copy.check(), "blame", "evidence", "en")


def test_sextortion_must_say_who_is_responsible(copy: Copy) -> None:
    copy.replace(
        "sextortion",
        "Det är inte ditt fel. Det är den som hotar dig som gör ett brott.",
        "Det låter jobbigt.",
    )
    found = violations(copy.check(require=()), "blame", "sextortion", "sv")
    assert found and "not the child's fault" in found[0]


def test_self_blame_translation_must_say_who_is_responsible(copy: Copy) -> None:
    copy.translate("self_blame:bubble:0", "These things happen to many people.")
    assert violations(copy.check(), "blame", "self_blame", "en")


# --- anonymity (guideline 2) ------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["Vad heter du?", "Vilken skola går du på?", "Skriv ditt nummer här."])
def test_asking_for_identity_fails(copy: Copy, question: str) -> None:
    copy.replace("greet", "Hej! Vad bra att du skriver.", f"Hej! {question}")
    assert violations(copy.check(require=()), "personal_data", "greet", "sv")


def test_asking_for_identity_in_english_fails(copy: Copy) -> None:
    copy.translate("greet:bubble:0", "Hi! What's your name?")
    assert violations(copy.check(), "personal_data", "greet", "en")


def test_saying_we_never_ask_is_fine() -> None:
    """The welcome says we never ask for name, school or number: a negation, not a question."""
    report = check_library(ContentLibrary.load(CONTENT, LOCALES))
    assert not violations(report, "personal_data", "welcome")


# --- promises (guideline 3) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "promise", ["Bilden kommer att tas bort.", "Vi lovar att hjälpa dig.", "Vi tar bort bilden."]
)
def test_promises_fail(copy: Copy, promise: str) -> None:
    copy.replace("takedown_what_we_do", "Vi kontaktar sidan där den ligger och ber dem ta bort den.", promise)
    assert violations(copy.check(require=()), "promise", "takedown_what_we_do", "sv")


def test_promise_in_english_fails(copy: Copy) -> None:
    copy.translate("takedown_what_we_do:bubble:1", "We contact the site and it will be removed.")
    assert violations(copy.check(), "promise", "takedown_what_we_do", "en")


# --- next step and a person (guidelines 3 and 6) ----------------------------------------------------------


def test_answer_without_buttons_fails(copy: Copy) -> None:
    copy.write("tell_adult", "id: tell_adult\nbubbles: [Det kan kännas svårt att berätta.]\n")
    report = copy.check(require=())
    assert violations(report, "next_step", "tell_adult")
    assert violations(report, "person", "tell_adult")


def test_answer_without_a_way_to_a_person_fails(copy: Copy) -> None:
    copy.write(
        "tell_adult",
        "id: tell_adult\nbubbles: [Det kan kännas svårt att berätta.]\n"
        "buttons:\n  - label: Det känns som mitt fel\n    intent: self_blame\n",
    )
    assert violations(copy.check(require=()), "person", "tell_adult")


def test_notices_are_exempt_from_buttons(copy: Copy) -> None:
    assert not copy.path("rate_limited").read_text(encoding="utf-8").count("buttons")
    assert not violations(copy.check(), "next_step", "rate_limited")


def test_canned_replies_need_no_buttons_and_may_carry_none(copy: Copy) -> None:
    """A counsellor sends a canned reply: no next-step rule, no unreachable finding, but no buttons,
    intent or placeholders either, and the wording rules (blame, promise, personal data) still hold."""
    report = copy.check()
    assert not violations(report, "next_step", "canned_still_here")
    assert not violations(report, "person", "canned_still_here")
    assert not [m for m in violations(report, "links") if "canned_" in m]
    copy.write(
        "canned_still_here",
        "id: canned_still_here\nkind: canned\nintent: canned_x\nplaceholders: [wait]\nbubbles:\n"
        "  - Jag finns kvar här i {wait} minuter.\n"
        "buttons:\n  - label: Prata med en människa\n    intent: ask_human\n",
    )
    found = violations(copy.check(require=()), "canned", "canned_still_here")
    assert len(found) == 3 and any("no buttons" in m for m in found)
    copy.write(
        "canned_still_here", "id: canned_still_here\nkind: canned\nbubbles:\n  - Vi raderar bilden åt dig.\n"
    )
    assert violations(copy.check(require=()), "promise", "canned_still_here", "sv")


# --- crisis (guideline 7) ---------------------------------------------------------------------------------


def test_crisis_numbers_must_be_in_the_first_bubble(copy: Copy) -> None:
    copy.replace("crisis", " eller Självmordslinjen på 90101", "")
    found = violations(copy.check(require=()), "crisis", "crisis", "sv")
    assert found and "missing 90101" in found[0]


def test_crisis_translation_must_keep_the_numbers(copy: Copy) -> None:
    copy.translate("crisis:bubble:0", "In danger? Call BRIS on 116 111 or the suicide line on 90101.")
    assert any("missing 112" in m for m in violations(copy.check(), "crisis", "crisis", "en"))


# --- placeholders -----------------------------------------------------------------------------------------


def test_undeclared_placeholder_fails_and_unused_warns(copy: Copy) -> None:
    copy.replace("greet", "Hej! Vad bra att du skriver.", "Hej! Du är nummer {position}.")
    assert violations(copy.check(require=()), "placeholders", "greet", "sv")
    copy.replace("greet", "Hej! Du är nummer {position}.", "Hej!")
    copy.replace("greet", "id: greet\n", "id: greet\nplaceholders: [position]\n")
    report = copy.check(require=())
    assert warnings(report, "placeholders", "greet") == ["{position} declared but not used"]


def test_translation_with_other_placeholders_fails(copy: Copy) -> None:
    copy.translate("handoff_queued:bubble:0", "You are number {place} in the queue.")
    found = violations(copy.check(), "placeholders", "handoff_queued", "en")
    assert found == ["bubble 1 has {place} where the source has {position}: the child sees the fallback"]
    copy.translate("handoff_queued:bubble:0", "You are in the queue.")  # {position} dropped
    assert violations(copy.check(), "placeholders", "handoff_queued", "en")


def test_dialogue_answers_must_take_their_placeholders(copy: Copy) -> None:
    copy.replace("queue_update", "placeholders: [position, wait]", "placeholders: [position]")
    copy.replace("queue_update", "Ungefär {wait} min kvar.", "Vänta lite.")
    assert any("queue_update" in m for m in violations(copy.check(require=()), "required"))


# --- the graph --------------------------------------------------------------------------------------------


def test_dead_links_fail(copy: Copy) -> None:
    copy.replace("anonymity_parents", "goto: tell_adult", "goto: tell_a_dult")
    copy.replace("greet", "intent: safety_tips", "intent: safety_tip")
    found = violations(copy.check(require=()), "links")
    assert any("'tell_a_dult', which does not exist" in m for m in found)
    assert any("'safety_tip', which is not an intent" in m for m in found)


def test_unreachable_answer_fails(copy: Copy) -> None:
    copy.write(
        "orphan",
        "id: orphan\nbubbles: [Hej.]\nbuttons:\n  - label: Prata med en människa\n    intent: ask_human\n",
    )
    assert "answer 'orphan' is unreachable: no button or intent leads to it" in violations(
        copy.check(require=()), "links"
    )


def test_answer_id_that_is_another_intent_fails(copy: Copy) -> None:
    copy.write(
        "thanks_again",
        "id: deny\nbubbles: [Hej.]\nbuttons:\n  - label: Prata med en människa\n    intent: ask_human\n",
    )
    copy.replace("deny", "id: deny", "id: deny_answer")
    assert any("payload /deny is ambiguous" in m for m in violations(copy.check(require=()), "links"))


def test_every_intent_needs_an_answer(copy: Copy) -> None:
    copy.replace("case_status", "intent: case_status\n", "")
    copy.replace("upload_how", "goto: upload_problem", "goto: case_status")  # keep it reachable
    assert "intent 'case_status' has no answer" in violations(copy.check(require=()), "intents")


def test_unknown_intent_fails(copy: Copy) -> None:
    copy.replace("tell_adult", "id: tell_adult\n", "id: tell_adult\nintent: tell_someone\n")
    assert any(
        "'tell_someone', which is not an intent" in m for m in violations(copy.check(require=()), "intents")
    )


def test_dialogue_answer_missing_fails(copy: Copy) -> None:
    copy.path("conversation_ended").unlink()
    assert "the dialogue needs an answer 'conversation_ended'" in violations(
        copy.check(require=()), "required"
    )


def test_removal_more_than_two_taps_away_fails(copy: Copy) -> None:
    copy.replace("welcome", "  - label: Få bort en bild eller film\n    intent: takedown_help\n", "")
    found = violations(copy.check(require=()), "fast_takedown")
    assert found == ["'upload_start' is more than 2 taps from 'welcome'"]


# --- translations ------------------------------------------------------------------------------------------


def test_incomplete_translation_warns_or_fails_when_required(copy: Copy) -> None:
    copy.translate("goodbye:bubble:1", "")
    assert not violations(copy.check(require=()), "translation", "goodbye")
    assert any("1 of 4 strings" in m for m in warnings(copy.check(require=()), "translation", "goodbye"))
    assert violations(copy.check(require=("en",)), "translation", "goodbye", "en")


# --- the command ------------------------------------------------------------------------------------------


def test_cli_passes_on_the_real_content_with_a_line_per_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check", "--require-complete", "en"]) == 0
    out = capsys.readouterr().out
    answers = len(ContentLibrary.load(CONTENT).answers)
    assert len(re.findall(r"^(ok  |warn|FAIL) \w+ \(", out, re.MULTILINE)) == answers
    assert out.rstrip().endswith("PASSED")


def test_cli_fails_with_a_clear_report(copy: Copy, capsys: pytest.CaptureFixture[str]) -> None:
    copy.replace("greet", "Hej! Vad bra att du skriver.", "Hej! Vad heter du?")
    args = [
        "content",
        "check",
        "--quiet",
        "--content-dir",
        str(copy.content),
        "--locales-dir",
        str(copy.locales),
    ]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "FAIL greet (answer; LIX sv" in out
    assert "✗ [personal_data] sv: bubble 1: 'Vad heter du' asks for a name" in out
    assert out.rstrip().endswith("FAILED")
    assert "ok   welcome" not in out  # --quiet lists only answers with findings


def test_cli_fails_on_a_malformed_file(copy: Copy, capsys: pytest.CaptureFixture[str]) -> None:
    copy.write("greet", "id: greet\nbubbles: nope\n")
    assert (
        main(["content", "check", "--content-dir", str(copy.content), "--locales-dir", str(copy.locales)])
        == 1
    )
    err = capsys.readouterr().err
    assert "greet.yml" in err and "'bubbles' must be a list" in err


def test_python_m_chatbot_content_check_exits_zero() -> None:
    """The command editors and CI run, as a real process."""
    done = subprocess.run(
        [sys.executable, "-m", "chatbot", "content", "check", "--quiet", "--require-complete", "en"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED" in done.stdout


def test_graph_command_shows_taps(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "graph"]) == 0
    out = capsys.readouterr().out
    assert "welcome [dialogue; 0 taps]" in out
    assert "upload_start [answer; 2 taps]" in out
    assert "'Snapchat' -> takedown_snapchat" in out


def test_intents_match_the_training_data() -> None:
    """The checker's intent list and the intent model's training data name the same 18 intents."""
    assert sorted(INTENTS) == load_project(CONTENT).intents
    assert len(INTENTS) == 18


def test_graph_as_dot_marks_dead_links(copy: Copy, capsys: pytest.CaptureFixture[str]) -> None:
    copy.replace("anonymity_parents", "goto: tell_adult", "goto: tell_a_dult")
    dirs = ["--content-dir", str(copy.content), "--locales-dir", str(copy.locales)]
    assert main(["content", "graph", "--dot", *dirs]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith("digraph answers {") and dot.rstrip().endswith("}")
    assert '"welcome" [shape=doubleoctagon' in dot
    assert '"takedown_help" -> "upload_start" [label="Skicka den till oss" fontsize=8];' in dot
    assert (
        '"anonymity_parents" -> "tell_a_dult" [label="Hur berättar jag för en vuxen?" fontsize=8 color=red];'
        in dot
    )
    assert main(["content", "graph", *dirs]) == 0
    assert "'Hur berättar jag för en vuxen?' -> tell_a_dult (missing)" in capsys.readouterr().out
